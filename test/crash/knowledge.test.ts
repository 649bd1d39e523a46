import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CrashKnowledge, withNotes } from "../../src/crash/knowledge.js";
import { CrashStore } from "../../src/crash/store.js";
import { ConsoleParser } from "../../src/parse/console.js";
import type { CrashEvent } from "../../src/parse/events.js";

const dir = mkdtempSync(join(tmpdir(), "legowatch-knowledge-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Real crash events: a WARNING printed over and over, each at its own line. */
function warnings(n: number): CrashEvent[] {
  const out: CrashEvent[] = [];
  const p = new ConsoleParser((e) => e.type === "warning" && out.push(e));
  for (let i = 0; i < n; i++) {
    const t = `[ ${100 + i}.000000]`;
    p.line("P", `${t} ------------[ cut here ]------------`, i * 4 + 1, null);
    p.line(
      "P",
      `${t} WARNING: CPU: 3 PID: 12 at managers/processor/pcache/fault.c:210 __pcache_do_fill_page+0x1a/0x90`,
      i * 4 + 2,
      null,
    );
    p.line("P", `${t} ---[ end trace 0000000000000000 ]---`, i * 4 + 3, null);
    p.line("P", `${t} after`, i * 4 + 4, null);
  }
  p.end();
  return out;
}

describe("CrashKnowledge", () => {
  it("records each report once, in order, and tells the history of each", async () => {
    const k = new CrashKnowledge({ store: new CrashStore(join(dir, "a")), session: "t" });
    const ws = warnings(3);
    assert.equal(ws.length, 3);
    const notes = await Promise.all(ws.map((w) => k.note(w)));
    assert.deepEqual(
      notes.map((n) => n.history?.replace(/first on .*/, "first on …")),
      ["new", "seen 1 time before, first on …", "seen 2 times before, first on …"],
    );
    // The same event again is the same work, not another sighting.
    assert.equal(await k.note(ws[0]!), notes[0]);
    assert.equal((await new CrashStore(join(dir, "a")).get(ws[0]!.title))?.count, 3);
    assert.deepEqual(k.get(ws[1]!), notes[1]);
    assert.equal(withNotes(ws[2]!, notes[2]).frames, ws[2]!.frames, "no image: frames as parsed");
    assert.match(String((withNotes(ws[2]!, notes[2]) as unknown as { history: string }).history), /^seen 2 /);
  });

  it("a WARNING storm queues at most 256 reports; the rest are skipped with a note, not queued", async () => {
    const k = new CrashKnowledge({ store: new CrashStore(join(dir, "b")), session: "t" });
    const ws = warnings(300);
    const notes = await Promise.all(ws.map((w) => k.note(w)));
    const skipped = notes.filter((n) => /skipped/.test(n.storeError ?? ""));
    assert.equal(skipped.length, 300 - 256);
    await k.settle();
    assert.equal((await new CrashStore(join(dir, "b")).get(ws[0]!.title))?.count, 256);
  });
});
