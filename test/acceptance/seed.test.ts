import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { Alert } from "../../src/engine/alerts.js";
import type { CrashEvent, ParsedEvent } from "../../src/parse/events.js";
import { readStamp } from "../../src/parse/line.js";
import { Pipeline } from "../../src/pipeline.js";

// The seed's console excerpts, one file per node and excerpt, author's notes and all.
const dir = new URL("../fixtures/seed/", import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".log"))
  .sort();
const text = (f: string) => readFileSync(new URL(f, dir));
const nodeOf = (f: string) => f.replace(/\.log$/, "");

function scanAll(): { events: ParsedEvent[]; alerts: readonly Alert[] } {
  const events: ParsedEvent[] = [];
  const p = new Pipeline({ onEvent: (e) => events.push(e) });
  for (const f of files) {
    p.push(nodeOf(f), text(f));
    p.endNode(nodeOf(f));
  }
  p.end();
  return { events, alerts: p.engine.all };
}

const { events, alerts } = scanAll();
const ofType = <T extends ParsedEvent["type"]>(t: T) =>
  events.filter((e) => e.type === t) as Extract<ParsedEvent, { type: T }>[];

describe("the seed's excerpts give exactly what the developer saw", () => {
  it("9 profile tables (the bare rows of the 'Sum' block are not one)", () => {
    const tables = ofType("profile");
    assert.equal(tables.length, 9);
    assert.ok(!tables.some((t) => t.node === "b13"));
    assert.ok(tables.every((t) => t.rows.length === 4 && t.nameWidth === 20));
  });

  it("2 user segfaults of word_count-pthr, pids 29 and 26", () => {
    const s = ofType("segfault");
    assert.deepEqual(
      s.map((e) => [e.comm, e.pid, e.addr]),
      [
        ["word_count-pthr", 29, 0x4e842010n],
        ["word_count-pthr", 26, 0x4e853010n],
      ],
    );
  });

  it("1 RPC timeout, caller clflush_one", () => {
    const t = ofType("timeout");
    assert.equal(t.length, 1);
    assert.equal(t[0]!.callerFn, "clflush_one");
    assert.equal(t[0]!.ms, 30010);
  });

  it("1 thpool sample: worker 0, 5 queued, 1 in the handler", () => {
    const t = ofType("thpool");
    assert.equal(t.length, 1);
    assert.deepEqual([t[0]!.worker, t[0]!.queued, t[0]!.inHandler], [0, 5, true]);
  });

  it("1 warning: WARNING in handle_p2m_pcache_miss on CPU 4, PID 31, thpool-worker0", () => {
    const w = ofType("warning") as CrashEvent[];
    assert.equal(w.length, 1);
    assert.deepEqual(
      [w[0]!.title, w[0]!.cpu, w[0]!.pid, w[0]!.comm],
      ["WARNING in handle_p2m_pcache_miss", 4, 31, "thpool-worker0"],
    );
  });

  it("8 crashes with the listed titles", () => {
    const titles = (ofType("crash") as CrashEvent[]).map((c) => c.title).sort();
    const expect = [
      ...Array(3).fill("BUG: unable to handle kernel NULL pointer dereference in ib_mad_completion_handler"),
      ...Array(2).fill("BUG: unable to handle kernel NULL pointer dereference in fit_poll_cq"),
      "BUG: unable to handle kernel NULL pointer dereference in __schedule",
      "BUG: unable to handle kernel NULL pointer dereference in task_curr",
      "BUG: unable to handle kernel paging request in task_tick_rt",
    ].sort();
    assert.deepEqual(titles, expect);
  });

  it("one ib-error-storm per burst and node: b21, b22p, b22m", () => {
    const storms = alerts.filter((a) => a.rule === "ib-error-storm");
    assert.deepEqual(storms.map((a) => a.node).sort(), ["b21", "b22m", "b22p"]);
    assert.deepEqual(storms.map((a) => [a.node, a.count]).sort(), [
      ["b21", 29],
      ["b22m", 8],
      ["b22p", 18],
    ]);
  });

  it("the author's notes give no events", () => {
    // Lines the developer wrote around the console output, by their line numbers in the fixtures.
    const notes: [string, number[]][] = [
      ["b01", [1, 14]],
      ["b02m", [1]],
      ["b02p", [1]],
      ["b06", [1]],
      ["b14", [6, 7, 8]],
      ["b18", [1, 9, 10, 11, 12]],
      ["b21", [73, 74, 75, 76, 77]],
      ["b22p", [1, 28, 29]],
    ];
    for (const [node, lines] of notes)
      for (const line of lines)
        assert.ok(!events.some((e) => e.node === node && e.line === line), `${node}:${line}`);
  });
});

describe("whole or line by line", () => {
  /** Feeds a file as a live console would: one line at a time, each at a receive time that follows its stamp, with clock ticks. */
  function live(f: string): readonly Alert[] {
    const p = new Pipeline();
    const node = nodeOf(f);
    const t0 = 1_700_000_000_000;
    let arrival = t0;
    let firstTs: number | null = null;
    for (const l of text(f).toString("latin1").split("\n")) {
      const ts = readStamp(l)?.ts ?? null;
      if (ts !== null) {
        firstTs ??= ts;
        arrival = Math.max(arrival, t0 + Math.round((ts - firstTs) * 1000));
      }
      p.tick(arrival);
      p.push(node, `${l}\n`, arrival);
    }
    p.endNode(node, arrival);
    p.tick(arrival + 60_000);
    return p.engine.all;
  }
  function whole(f: string): readonly Alert[] {
    const p = new Pipeline();
    p.push(nodeOf(f), text(f));
    p.end();
    return p.engine.all;
  }
  const shape = (as: readonly Alert[]) =>
    as.map((a) => [a.id, a.rule, a.severity, a.node, a.count, a.message]);

  for (const f of files) {
    it(`${f} gives the same alerts`, () => {
      assert.deepEqual(shape(live(f)), shape(whole(f)));
    });
  }
});
