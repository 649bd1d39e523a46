// Runs a Node script in this process and reports the process's peak RSS when it exits, so the benchmark
// can measure a CLI's memory without a platform-specific `time -v`.
// Usage: node bench/rss.mjs SCRIPT [ARGS...]; prints `maxrss_kib=N` on stderr at exit.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [script, ...args] = process.argv.slice(2);
if (!script) {
  process.stderr.write("usage: node bench/rss.mjs SCRIPT [ARGS...]\n");
  process.exit(2);
}
const target = resolve(script);
// The script sees itself as the main module, with its own arguments.
process.argv = [process.argv[0], target, ...args];
process.on("exit", () => {
  // Writes to a pipe are synchronous on Linux, so this line is not lost at exit.
  process.stderr.write(`maxrss_kib=${process.resourceUsage().maxRSS}\n`);
});
await import(pathToFileURL(target).href);
