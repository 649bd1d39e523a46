/**
 * A writer in a process of its own, for the concurrency test: records TITLE N times, one after another.
 * Usage: node --import tsx test/crash/store-child.ts DIR TITLE N. Exits 0 when all were recorded.
 */
import { CrashStore } from "../../src/crash/store.js";

const [dir, title, n] = process.argv.slice(2);
const times = Number(n);
if (!dir || !title || !Number.isInteger(times)) {
  process.stderr.write("usage: store-child.ts DIR TITLE N\n");
  process.exit(2);
}
const store = new CrashStore(dir, { onWarning: (m) => process.stderr.write(`${m}\n`) });
try {
  for (let i = 0; i < times; i++) {
    await store.record({
      title,
      node: `child-${process.pid}`,
      at: Date.now(),
      session: `pid ${process.pid}`,
      report: [`report ${i} of process ${process.pid}`],
    });
  }
} catch (err) {
  process.stderr.write(`store-child: ${(err as Error).message}\n`);
  process.exit(1);
}
