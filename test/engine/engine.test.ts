import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { Alert } from "../../src/engine/alerts.js";
import { Engine } from "../../src/engine/engine.js";
import type {
  EventBase,
  IbErrorEvent,
  ParsedEvent,
  ThpoolEvent,
  TimeoutEvent,
} from "../../src/parse/events.js";
import { Pipeline } from "../../src/pipeline.js";

let lineNo = 0;
function base(node: string, ts: number | null, arrival: number | null = null): EventBase {
  lineNo++;
  return { node, ts, line: lineNo, arrival, text: `[${ts}] line ${lineNo}` };
}
const sample = (
  node: string,
  ts: number | null,
  w: number,
  queued: number,
  inHandler: boolean,
  handled?: bigint,
  arrival: number | null = null,
): ThpoolEvent => ({
  ...base(node, ts, arrival),
  type: "thpool",
  gen: "v3",
  worker: w,
  queued,
  inHandler,
  ...(handled !== undefined ? { handled } : {}),
});
const ibErr = (node: string, ts: number | null, arrival: number | null = null): IbErrorEvent => ({
  ...base(node, ts, arrival),
  type: "ib_error",
  kind: "failed-status",
  status: 5,
});
const timeout = (node: string, ts: number, arrival: number | null): TimeoutEvent => ({
  ...base(node, ts, arrival),
  type: "timeout",
  fn: "ibapi_send_reply",
  ms: 30010,
  caller: "clflush_one+0x1c9/0x370",
  callerFn: "clflush_one",
});

function run(events: ParsedEvent[], ticks: number[] = []): Alert[] {
  const e = new Engine();
  for (const ev of events) e.event(ev);
  for (const t of ticks) e.tick(t);
  return [...e.all];
}

describe("worker-stuck", () => {
  it("fires after 20 s in the handler with flat nr_handled, and resolves on progress", () => {
    const alerts = run([
      sample("M", 100, 2, 1, true, 50n),
      sample("M", 105, 2, 2, true, 50n),
      sample("M", 115, 2, 4, true, 50n),
    ]);
    assert.equal(alerts.length, 0, "15 s is not yet stuck");
    const e = new Engine();
    for (const ev of [
      sample("M", 100, 2, 1, true, 50n),
      sample("M", 110, 2, 2, true, 50n),
      sample("M", 120, 2, 4, true, 50n),
    ])
      e.event(ev);
    assert.deepEqual(
      e.all.map((a) => [a.rule, a.severity, a.state]),
      [["worker-stuck", "critical", "firing"]],
    );
    e.event(sample("M", 125, 2, 0, true, 51n));
    assert.equal(e.all[0]!.state, "resolved");
  });

  it("a busy worker that keeps handling is not stuck", () => {
    const alerts = run([
      sample("M", 100, 0, 0, true, 1n),
      sample("M", 110, 0, 0, true, 2n),
      sample("M", 130, 0, 0, true, 3n),
    ]);
    assert.equal(alerts.length, 0);
  });

  it("fires on a clock tick with no new line", () => {
    const e = new Engine();
    e.event(sample("M", 100, 1, 1, true, 9n, 1_000_000));
    e.event(sample("M", 105, 1, 1, true, 9n, 1_005_000));
    // Lines update the node's clock; the engine estimates kernel time from the last one.
    e.line({ node: "M", lineNo: 99, ts: 105, msg: "", text: "", arrival: 1_005_000, cont: false });
    e.tick(1_015_000);
    assert.equal(e.all.length, 0);
    e.tick(1_025_001);
    assert.deepEqual(
      e.all.map((a) => a.rule),
      ["worker-stuck"],
    );
  });

  it("the kernel's own report fires at once and its repeats fold into one alert", () => {
    const e = new Engine();
    for (const repeat of [1, 2, 3])
      e.event({
        ...base("M", 1000 + repeat * 5),
        type: "stuck_worker",
        worker: 1,
        cpu: 12,
        op: 0x20000000,
        opName: "PCACHE_MISS",
        srcNid: 0,
        repeat,
      });
    assert.equal(e.all.length, 1);
    assert.equal(e.all[0]!.count, 3);
    assert.match(e.all[0]!.message, /worker 1 stuck.*PCACHE_MISS from node 0.*CPU 12/);
  });
});

describe("queue-growth", () => {
  it("fires when 4 or more stay queued for 5 s, once", () => {
    const alerts = run([
      sample("M", 10, 0, 4, true, 1n),
      sample("M", 13, 0, 5, true, 2n),
      sample("M", 15, 0, 6, true, 3n),
      sample("M", 16, 0, 7, true, 4n),
    ]);
    assert.deepEqual(
      alerts.map((a) => [a.rule, a.severity]),
      [["queue-growth", "warning"]],
    );
    assert.match(alerts[0]!.message, /7 requests queued/);
  });

  it("a queue that drains in time raises nothing", () => {
    assert.equal(
      run([sample("M", 10, 0, 5, true, 1n), sample("M", 12, 0, 1, true, 2n), sample("M", 20, 0, 5, true, 3n)])
        .length,
      0,
    );
  });
});

describe("ib-error-storm", () => {
  it("raises one alert per burst with a count, not one per line", () => {
    const evs: ParsedEvent[] = [];
    for (let i = 0; i < 12; i++) evs.push(ibErr("P", 847 + i * 0.1));
    for (let i = 0; i < 7; i++) evs.push(ibErr("P", 900 + i * 0.1));
    const alerts = run(evs);
    assert.deepEqual(
      alerts.map((a) => [a.rule, a.count, a.state]),
      [
        ["ib-error-storm", 12, "resolved"],
        ["ib-error-storm", 7, "firing"],
      ],
    );
  });

  it("four errors are not a storm", () => {
    assert.equal(run([ibErr("M", 1), ibErr("M", 2), ibErr("M", 3), ibErr("M", 4)]).length, 0);
  });

  it("errors spread wider than the window are not a storm", () => {
    assert.equal(run([0, 3, 6, 9, 12, 15, 18].map((t) => ibErr("M", t))).length, 0);
  });

  it("counts errors without stamps as one instant", () => {
    assert.equal(run([1, 2, 3, 4, 5].map(() => ibErr("M", null))).length, 1);
  });
});

describe("stalled-rpc", () => {
  it("tells P's timeout and M's stuck worker as one story, placed by receive time", () => {
    const e = new Engine();
    e.event({ ...base("M", 5000, 1_000_000), type: "stuck_worker", worker: 2, repeat: 1 });
    e.event(timeout("P", 30801, 1_009_000));
    const story = e.all.find((a) => a.rule === "stalled-rpc");
    assert.ok(story);
    assert.equal(story.node, "P");
    assert.equal(story.evidence.length, 2);
    assert.deepEqual(
      story.evidence.map((x) => x.node),
      ["P", "M"],
    );
  });

  it("also when the stall is noticed after the timeout", () => {
    const e = new Engine();
    e.event(timeout("P", 30801, 1_000_000));
    e.event({ ...base("M", 5000, 1_002_000), type: "stuck_worker", worker: 2, repeat: 1 });
    assert.equal(e.all.filter((a) => a.rule === "stalled-rpc").length, 1);
  });

  it("claims nothing without receive times, or when the two are far apart", () => {
    const e = new Engine();
    e.event({ ...base("M", 5000), type: "stuck_worker", worker: 2, repeat: 1 });
    e.event(timeout("P", 30801, null));
    assert.equal(e.all.filter((a) => a.rule === "stalled-rpc").length, 0);
    const f = new Engine();
    f.event({ ...base("M", 5000, 1_000_000), type: "stuck_worker", worker: 2, repeat: 1 });
    f.event({
      ...base("M", 5001, 1_000_500),
      type: "thpool",
      gen: "v3",
      worker: 2,
      queued: 0,
      inHandler: false,
    });
    f.event(timeout("P", 30801, 1_000_000 + 10 * 60_000));
    assert.equal(f.all.filter((a) => a.rule === "stalled-rpc").length, 0);
  });
});

describe("node-silent and reboot", () => {
  it("node-silent is off by default and fires when configured", () => {
    const line = { node: "P", lineNo: 1, ts: 1, msg: "x", text: "x", arrival: 1_000, cont: false };
    const off = new Engine();
    off.line(line);
    off.tick(1_000_000);
    assert.equal(off.all.length, 0);
    const on = new Engine({ thresholds: { silentSeconds: 30 } });
    on.line(line);
    on.tick(20_000);
    assert.equal(on.all.length, 0);
    on.tick(31_001);
    assert.deepEqual(
      on.all.map((a) => [a.rule, a.state]),
      [["node-silent", "firing"]],
    );
    on.line({ ...line, lineNo: 2, arrival: 40_000 });
    assert.equal(on.all[0]!.state, "resolved");
  });

  it("a reboot resolves the old boot's alerts and forgets its workers", () => {
    const e = new Engine();
    e.event({ ...base("M", 5000), type: "stuck_worker", worker: 2, repeat: 1 });
    e.event({ ...base("M", 0), type: "reboot", reason: "zero-stamp" });
    assert.deepEqual(
      e.all.map((a) => [a.rule, a.state]),
      [
        ["worker-stuck", "resolved"],
        ["reboot", "firing"],
      ],
    );
    assert.equal(e.node("M").workers.size, 0);
    assert.equal(e.node("M").boots, 1);
  });
});

describe("determinism", () => {
  it("the same events give the same alerts, ids included", () => {
    const evs = (): ParsedEvent[] => [
      sample("M", 100, 2, 5, true, 50n, 1),
      sample("M", 121, 2, 6, true, 50n, 2),
      ...[1, 2, 3, 4, 5, 6].map((i) => ibErr("P", 10 + i / 10, 3)),
      timeout("P", 30, 4),
    ];
    const strip = (as: Alert[]) =>
      as.map(({ evidence, first, last, ...rest }) => ({ ...rest, lines: evidence.length }));
    lineNo = 0;
    const a = strip(run(evs()));
    lineNo = 0;
    const b = strip(run(evs()));
    assert.deepEqual(a, b);
    assert.ok(a.length >= 4);
  });
});

describe("stalled-rpc, one story per timeout", () => {
  it("a timeout while M's queue grows and its worker is stuck is told once, citing the stuck worker", () => {
    const e = new Engine();
    e.event(sample("M", 100, 2, 5, true, 50n, 1_000_000));
    e.event(sample("M", 110, 2, 6, true, 50n, 1_001_000));
    e.event(sample("M", 121, 2, 7, true, 50n, 1_002_000));
    assert.deepEqual(e.all.map((a) => a.rule).sort(), ["queue-growth", "worker-stuck"]);
    e.event(timeout("P", 30801, 1_003_000));
    const stories = e.all.filter((a) => a.rule === "stalled-rpc");
    assert.equal(stories.length, 1);
    assert.match(stories[0]!.message, /in its handler with no progress/);
  });
});

describe("crash", () => {
  /** A real kernel's Oops (Debian's 6.x in QEMU), then what panic() prints when panic_on_oops is set. */
  function oopsThenPanic(gapLines: number): string {
    const log = readFileSync(
      new URL("../fixtures/linux-reports/qemu-lkdtm-null-deref", import.meta.url),
      "utf8",
    );
    const lines = log.split("\n");
    const from = lines.findIndex((l) => l.includes("BUG: kernel NULL pointer dereference"));
    const to = lines.findIndex((l) => l.includes("---[ end trace"));
    return [
      ...lines.slice(from, to + 1),
      ...Array.from(
        { length: gapLines },
        (_, i) => `[    3.4952${String(i).padStart(2, "0")}] sh (84) used greatest stack depth`,
      ),
      "[    3.495300] Kernel panic - not syncing: Fatal exception",
      "[    3.495900] Kernel Offset: 0x1c00000 from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)",
      "[    3.496500] ---[ end Kernel panic - not syncing: Fatal exception ]---",
      "",
    ].join("\n");
  }

  function crashAlerts(text: string): Alert[] {
    const p = new Pipeline();
    p.push("N", text);
    p.end();
    return p.engine.all.filter((a) => a.rule === "crash");
  }

  it("the 'Fatal exception' panic right after an Oops is that Oops's end: one alert, saying the node died", () => {
    const [a, ...rest] = crashAlerts(oopsThenPanic(0));
    assert.equal(rest.length, 0);
    assert.equal(
      a!.message,
      "BUG: unable to handle kernel NULL pointer dereference in lkdtm_EXCEPTION (sh[84], CPU 0); the node then panicked: Fatal exception",
    );
    assert.equal(a!.count, 1);
    assert.ok(a!.evidence.some((e) => e.text.includes("Kernel panic - not syncing: Fatal exception")));
  });

  it("a panic long after is news of its own", () => {
    assert.deepEqual(
      crashAlerts(oopsThenPanic(30)).map((a) => a.message),
      [
        "BUG: unable to handle kernel NULL pointer dereference in lkdtm_EXCEPTION (sh[84], CPU 0)",
        "kernel panic: Fatal exception",
      ],
    );
  });
});
