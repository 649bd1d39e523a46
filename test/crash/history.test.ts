import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { SessionWriter } from "../../src/record/writer.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const seed = (name: string) => join(root, "test/fixtures/seed", name);
const IB_MAD = "BUG: unable to handle kernel NULL pointer dereference in ib_mad_completion_handler";

/** The CLI as a user runs it, with a private data directory so nothing lands in the real one. */
function cli(home: string, ...args: string[]) {
  return run(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
    cwd: root,
    env: { ...process.env, XDG_DATA_HOME: home, NO_COLOR: "1" },
  });
}

describe("crash history across runs", () => {
  const home = mkdtempSync(join(tmpdir(), "legowatch-history-"));
  after(() => rmSync(home, { recursive: true, force: true }));

  it("the seed's three ib_mad crashes, scanned in three runs, are one entry seen three times", async () => {
    const seen: string[] = [];
    for (const file of ["b04.log", "b14.log", "b18.log"]) {
      const { stdout } = await cli(home, "scan", "--store", "--json", `M=${seed(file)}`);
      const crash = stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; title?: string; history?: string })
        .find((e) => e.type === "crash" && e.title === IB_MAD);
      assert.ok(crash, `${file}: the ib_mad crash`);
      seen.push(crash.history ?? "(no history)");
    }
    assert.equal(seen[0], "new");
    assert.match(seen[1]!, /^seen 1 time before, first on \d{4}-\d\d-\d\d \d\d:\d\d$/);
    assert.match(seen[2]!, /^seen 2 times before, first on /);

    const { stdout } = await cli(home, "crashes", "--json");
    const entries = stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { title: string; count: number; nodes: string[] });
    const ibMad = entries.filter((e) => e.title === IB_MAD);
    assert.equal(ibMad.length, 1);
    assert.equal(ibMad[0]!.count, 3);
    assert.deepEqual(ibMad[0]!.nodes, ["M"]);

    const table = (await cli(home, "crashes")).stdout;
    assert.match(table, /^count +first seen +last seen +nodes +title$/m);
    assert.match(table, new RegExp(`^ +3  .*  M +${IB_MAD.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
  });

  it("the text summary gives each crash's history; without --store nothing is recorded", async () => {
    const other = mkdtempSync(join(tmpdir(), "legowatch-history-"));
    try {
      const plain = await cli(other, "scan", `M=${seed("b04.log")}`);
      assert.doesNotMatch(plain.stdout, /Crash history/);
      assert.match((await cli(other, "crashes")).stdout, /^no crash recorded in /);
      const stored = await cli(other, "scan", "--store", `M=${seed("b04.log")}`);
      assert.match(stored.stdout, /^Crash history:\n {2}M:\d+ BUG: .* in ib_mad_completion_handler: new$/m);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("replay --store --headless says what the store knew, after the crash's alert", async () => {
    const other = mkdtempSync(join(tmpdir(), "legowatch-history-"));
    try {
      const session = join(other, "run.jsonl");
      const w = new SessionWriter(session, {
        nodes: [{ name: "M", source: "serial:/dev/ttyS1" }],
        started: 1_000,
      });
      w.chunk(2_000, "M", readFileSync(seed("b04.log")));
      await w.close();
      const replay = () => cli(other, "replay", "--store", "--headless", "--speed", "max", session);
      const first = (await replay()).stdout;
      const alertAt = first.search(/CRITICAL crash on M: /);
      const noteAt = first.search(/M:\d+ BUG: .* in ib_mad_completion_handler: new$/m);
      assert.ok(alertAt >= 0 && noteAt > alertAt, first);
      assert.match((await replay()).stdout, /in ib_mad_completion_handler: seen 1 time before, first on /);
      const json = (await cli(other, "replay", "--headless", "--json", "--speed", "max", "--store", session))
        .stdout;
      const notes = json
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; history?: string })
        .find((o) => o.type === "crash_notes");
      assert.match(notes?.history ?? "", /^seen 2 times before/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
