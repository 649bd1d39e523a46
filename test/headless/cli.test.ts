import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixture = (name: string) => join(root, "test/fixtures/seed", name);
const tmp = mkdtempSync(join(tmpdir(), "legowatch-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], input?: string | Buffer) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "src/cli.ts"), ...args], {
    cwd: root,
    // A crash store, if any, goes under the test's own folder.
    env: { ...process.env, XDG_DATA_HOME: join(tmp, "data") },
    input,
    encoding: "utf8",
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const json = (out: string) =>
  out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("legowatch scan", () => {
  it("prints one JSON object per line with type, node, ts and line", () => {
    const r = cli(["scan", "--json", `P=${fixture("b22p.log")}`]);
    assert.equal(r.code, 0, r.err);
    const objs = json(r.out);
    for (const o of objs) {
      assert.equal(typeof o.type, "string");
      assert.equal(o.node, "P");
      assert.ok(typeof o.line === "number" && o.line >= 1);
      assert.ok(o.ts === null || typeof o.ts === "number");
    }
    const crash = objs.find((o) => o.type === "crash")!;
    assert.equal(crash.title, "BUG: unable to handle kernel NULL pointer dereference in fit_poll_cq");
    assert.equal(crash.function, "fit_poll_cq");
    assert.equal(crash.line, 21);
    const alert = objs.find((o) => o.type === "alert" && o.rule === "crash")!;
    assert.equal(alert.severity, "critical");
    assert.equal(typeof alert.message, "string");
  });

  it("exits 1 when an alert at or above --fail-on fired, else 0", () => {
    assert.equal(cli(["scan", "--fail-on", "critical", fixture("b21.log")]).code, 1);
    assert.equal(cli(["scan", "--fail-on", "critical", fixture("b06.log")]).code, 0);
    assert.equal(cli(["scan", fixture("b21.log")]).code, 0);
  });

  it("reads gzip and standard input", () => {
    const gz = join(tmp, "m.log.gz");
    writeFileSync(gz, gzipSync(readFileSync(fixture("b02m.log"))));
    const viaGz = json(cli(["scan", "--json", gz]).out);
    assert.ok(viaGz.some((o) => o.type === "warning" && o.node === "m"));
    const viaStdin = json(cli(["scan", "--json", "--node", "M", "-"], readFileSync(fixture("b02m.log"))).out);
    assert.ok(viaStdin.some((o) => o.type === "warning" && o.node === "M"));
  });

  it("a missing file is one line on stderr and exit 2", () => {
    const r = cli(["scan", join(tmp, "nope.log")]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^legowatch: .*nope\.log: no such file\n$/);
  });

  it("a corrupt gzip keeps what was read and exits 2", () => {
    const good = gzipSync(readFileSync(fixture("b21.log")));
    const bad = join(tmp, "bad.log.gz");
    writeFileSync(bad, Buffer.concat([good.subarray(0, good.length - 40), Buffer.from("garbage")]));
    const r = cli(["scan", "--json", bad]);
    assert.equal(r.code, 2);
    assert.equal(r.err.trim().split("\n").length, 1);
    assert.match(r.err, /bad\.log\.gz: /);
    assert.ok(json(r.out).length > 0, "events read before the error are still printed");
  });

  it("a usage error is one line on stderr and exit 2", () => {
    const r = cli(["scan", "--fail-on", "loud", fixture("b21.log")]);
    assert.equal(r.code, 2);
    assert.equal(r.err.trim().split("\n").length, 1);
    assert.match(r.err, /^legowatch: .*loud/);
  });

  it("a bad config names the file and the key", () => {
    const cfg = join(tmp, "bad.yaml");
    writeFileSync(cfg, "alerts:\n  stuckSeconds: -3\n");
    const r = cli(["scan", "--config", cfg, fixture("b21.log")]);
    assert.equal(r.code, 2);
    assert.match(r.err, /bad\.yaml:2: alerts\.stuckSeconds: /);
  });

  it("config thresholds change the rules", () => {
    const cfg = join(tmp, "storm.yaml");
    writeFileSync(cfg, "alerts:\n  stormCount: 100\n");
    const objs = json(cli(["scan", "--json", "--config", cfg, fixture("b21.log")]).out);
    assert.equal(objs.filter((o) => o.rule === "ib-error-storm").length, 0);
  });

  it("the human summary says which node was left down by a kernel panic", () => {
    const log = join(tmp, "panicked.log");
    writeFileSync(
      log,
      [
        "[  868.541991] BUG: unable to handle kernel NULL pointer dereference at 0000000000000008",
        "[  868.548813] IP: [<ffffffff8101a3b4>] fit_poll_cq+0x4ad/0x510",
        "[  868.725010] Oops: 0002 [#1] SMP PROCESSOR",
        "[  868.900000] Kernel panic - not syncing: Fatal exception",
        "[  868.910000] ---[ end Kernel panic - not syncing: Fatal exception",
        "",
      ].join("\n"),
    );
    const r = cli(["scan", `P=${log}`]);
    assert.match(
      r.out,
      /^P: 5 lines; crash 1; down at the end: kernel panic at line 1 \(Fatal exception\)$/m,
    );
  });

  it("the human summary lists counts, alerts with evidence and crash titles", () => {
    const r = cli(["scan", `P=${fixture("b22p.log")}`, `M=${fixture("b22m.log")}`]);
    assert.equal(r.code, 0);
    assert.match(r.out, /^P: \d+ lines; /m);
    assert.match(r.out, /CRITICAL ib-error-storm on M/);
    assert.match(r.out, /P:2 +\[30801\.296160\] ibapi_send_reply\(\)/);
    assert.match(
      r.out,
      /Crash reports:\n {2}P:21 \[30939\.644483\] BUG: unable to handle kernel NULL pointer dereference in fit_poll_cq/,
    );
  });
});
