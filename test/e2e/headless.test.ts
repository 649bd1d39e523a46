import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDir, waitFor } from "./support.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

const dataHome = tempDir("headless-data");
after(() => dataHome.remove());

function run(args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "src/cli.ts"), ...args], {
    cwd: root,
    // The crash store of a live run goes under the test's own folder.
    env: { ...process.env, XDG_DATA_HOME: dataHome.dir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const r = { child, out: "", err: "", code: null as number | null };
  child.stdout.on("data", (c: Buffer) => {
    r.out += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    r.err += c.toString();
  });
  child.on("exit", (code) => {
    r.code = code;
  });
  return r;
}

describe("headless live mode", { timeout: 60_000 }, () => {
  const tmp = tempDir("headless");
  after(() => tmp.remove());

  it("--fail-on exits 1 the moment such an alert fires, with the alert printed", async () => {
    const log = join(tmp.dir, "p.log");
    writeFileSync(log, "[    1.000000] boot\n");
    const r = run(["--headless", "--json", "--fail-on", "critical", `P=file:${log}`]);
    await waitFor(() => /P: connected/.test(r.err), `the file to be followed:\n${r.err}`);
    appendFileSync(
      log,
      "[   10.000000] ibapi_send_reply() CPU:8 PID:19 timeout (30010 ms), caller: clflush_one+0x1c9/0x370\n",
    );
    await waitFor(() => r.code !== null, `legowatch to exit:\n${r.out}\n${r.err}`);
    assert.equal(r.code, 1);
    const alerts = r.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; rule: string; severity: string });
    assert.deepEqual(
      alerts.map((a) => [a.type, a.rule, a.severity]),
      [["alert", "rpc-timeout", "critical"]],
    );
  });

  it("prints alerts as text as they fire, and a summary when stopped", async () => {
    const log = join(tmp.dir, "m.log");
    writeFileSync(log, "");
    const r = run(["--headless", `M=file:${log}`]);
    await waitFor(() => /M: connected/.test(r.err), "the file to be followed");
    appendFileSync(
      log,
      "[   10.000000] word_count-pthr[29]: segfault at 0x4e842010 ip 0000000000420354 sp 00007fffb17f9bc0 error 6\n",
    );
    await waitFor(() => /ERROR +segfault on M: word_count-pthr\[29\]/.test(r.out), `the alert:\n${r.out}`);
    r.child.kill("SIGTERM");
    await waitFor(() => r.code !== null, "legowatch to stop");
    assert.equal(r.code, 0);
    // The segfault told the role: user programs run on P nodes.
    assert.match(r.out, /^M \(P\): 1 lines; segfault 1$/m);
  });

  it("a bad URI or no nodes is one line and exit 2", async () => {
    const bad = run(["--headless", "P=serial:/dev/ttyS0?baud=fast"]);
    await waitFor(() => bad.code !== null, "exit");
    assert.equal(bad.code, 2);
    assert.match(bad.err, /^legowatch: serial:\/dev\/ttyS0\?baud=fast: baud=fast is not valid\n$/);
    const none = run(["--headless"]);
    await waitFor(() => none.code !== null, "exit");
    assert.equal(none.code, 2);
    assert.match(none.err, /no nodes to watch/);
  });
});
