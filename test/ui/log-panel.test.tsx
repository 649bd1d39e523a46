import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { render } from "ink-testing-library";
import { Pipeline } from "../../src/pipeline.js";
import { displayText, highlight, LogPanel, nodeColor } from "../../src/ui/components/log-panel.js";
import { ModelContext } from "../../src/ui/hooks/use-model.js";
import type { LogEntry } from "../../src/ui/log-store.js";
import { UiModel } from "../../src/ui/model.js";
import { INITIAL_STATE, type UiState } from "../../src/ui/ui-state.js";

const NOW = 1_700_000_000_000;

/** A model fed by a real pipeline, as the live monitor wires it. */
function setup(): { pipeline: Pipeline; model: UiModel } {
  let model: UiModel | null = null;
  const pipeline = new Pipeline({
    onLine: (l) => model?.onLine(l),
    onEvent: (e) => model?.onEvent(e),
    onAlert: (a) => model?.onAlert(a),
  });
  model = new UiModel(pipeline.engine, () => NOW);
  return { pipeline, model };
}

// Real console lines: a memory node (M) and a processor node (P), interleaved as they would arrive.
const M_LINES = [
  "[   37.695007] thpool: CPU 3 thpool-worker0 worker_id: 0 UP",
  "[   37.700267] thpool: CPU 4 thpool-worker1 worker_id: 1 UP",
  "[   75.989422] watchdog: worker[2] CPU 5 stucked",
  "[   75.993725] watchdog:  common_header [op=0x20000000 src_nid:0]",
  "[   81.270259] watchdog: worker[2] CPU 5 stucked",
  "[   81.274562] watchdog:  common_header [op=0x20000000 src_nid:0]",
];
const P_LINES = [
  "[   12.395007] fit: ***",
  "[   37.503225] fit: FIT layer ready to go!",
  "[  227.723140] word_count-pthr[29]: segfault at 0x4e842010 ip 0000000000420354 sp 00007fffb17f9bc0 error 6",
  "[30801.296160] ibapi_send_reply() CPU:8 PID:19 timeout (30010 ms), caller: clflush_one+0x1c9/0x370",
];

/** Feeds both consoles line by line, alternating, then flushes the partial state. */
function feed(pipeline: Pipeline): void {
  for (let i = 0; i < Math.max(M_LINES.length, P_LINES.length); i++) {
    if (M_LINES[i]) pipeline.push("M", `${M_LINES[i]}\n`, NOW - 1000);
    if (P_LINES[i]) pipeline.push("P", `${P_LINES[i]}\n`, NOW - 1000);
  }
  pipeline.end();
}

const SGR = /\u001b\[[0-9;]*m/g;
/** The frame without colour codes (present only when the environment forces colour). */
const plain = (f: string | undefined) => (f ?? "").replace(SGR, "");

function frame(model: UiModel, log: Partial<UiState["log"]> = {}, width = 80, height = 8, focused = true) {
  const state = { ...INITIAL_STATE.log, ...log };
  const r = render(
    <ModelContext.Provider value={model}>
      <LogPanel width={width} height={height} state={state} focused={focused} />
    </ModelContext.Provider>,
  );
  const out = plain(r.lastFrame());
  r.unmount();
  return out;
}

function assertFits(f: string, width: number, height: number): void {
  const lines = f.split("\n");
  assert.equal(lines.length, height, f);
  for (const l of lines) assert.ok([...l].length <= width, `too wide (${[...l].length}): ${l}`);
}

/** Each row is its entry's node and text, the text cut (with an ellipsis) where the panel ends. */
function assertRows(rows: string[], entries: LogEntry[]): void {
  assert.equal(rows.length, entries.length);
  rows.forEach((r, i) => {
    const e = entries[i]!;
    assert.ok(r.startsWith(`${e.node} `), r);
    const shown = r.slice(e.node.length + 1);
    assert.ok(
      shown === e.text || (shown.endsWith("…") && e.text.startsWith(shown.slice(0, -1))),
      `${r} / ${e.text}`,
    );
  });
}

describe("LogPanel", () => {
  it("shows the newest lines of every node, each after its node name, in exactly its height", () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    const f = frame(model, {}, 80, 8);
    assertFits(f, 80, 8);
    const lines = f.split("\n");
    assert.match(lines[0]!, /^─ Log ─+$/);
    const rows = lines.slice(1);
    assert.equal(rows.length, 7);
    assert.ok(
      rows.every((r) => /^[MP] \[/.test(r)),
      f,
    );
    // The newest 7 lines of the store, oldest first, each cut to the width.
    assertRows(rows, model.log.view(7));
    assert.ok(rows.some((r) => r.startsWith("M ")) && rows.some((r) => r.startsWith("P ")));
  });

  it("shows only the chosen node when filtered, and says so in the title", () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    const f = frame(model, { node: "M" }, 80, 10);
    assertFits(f, 80, 10);
    const [title, ...rows] = f.split("\n");
    assert.match(title!, /─ Log ─ node: M ─/);
    const filled = rows.filter((r) => r.trim() !== "");
    assert.equal(filled.length, M_LINES.length);
    assert.ok(
      filled.every((r) => r.startsWith("M ")),
      f,
    );
    assert.ok(!f.includes("segfault"));
  });

  it("filters by severity: only lines an event made at least that severe", () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    const f = frame(model, { minSeverity: "critical" }, 80, 6);
    const [title, ...rows] = f.split("\n");
    assert.match(title!, /─ Log ─ ≥ critical ─/);
    const filled = rows.filter((r) => r.trim() !== "");
    // Two stuck-worker reports and the RPC timeout are critical; the segfault is only an error.
    assert.equal(filled.length, 3, f);
    assert.ok(filled.some((r) => r.includes("stucked")));
    assert.ok(filled.some((r) => r.includes("timeout (30010 ms)")));
    assert.ok(!f.includes("segfault"));
    const errors = frame(model, { minSeverity: "error" }, 80, 6);
    assert.ok(errors.includes("segfault at 0x4e842010"));
  });

  it("scrolled up shows older lines, not the newest, and the title says paused", () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    const f = frame(model, { skip: 4 }, 80, 4);
    assertFits(f, 80, 4);
    const [title, ...rows] = f.split("\n");
    assert.match(title!, /paused \(4 up\)/);
    assert.ok(!f.includes("timeout (30010 ms)"), f);
    // 10 lines in all: skipping the newest 4 leaves lines 4..6 of the arrival order.
    assertRows(rows, model.log.view(10).slice(3, 6));
    assert.ok(!frame(model, {}, 80, 4).includes("paused"));
  });

  it("names the search in the title and keeps the matching text whole on its rows", () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    const f = frame(model, { search: "stucked" }, 80, 12);
    assert.match(f.split("\n")[0]!, /─ search: stucked ─/);
    assert.equal(f.split("\n").filter((r) => r.includes("watchdog: worker[2] CPU 5 stucked")).length, 2);
    // While typing, the term is highlighted too but the title keeps the committed search.
    const typing = frame(model, { typing: "FIT layer" }, 80, 12);
    assert.ok(typing.includes("fit: FIT layer ready to go!"));
    assert.ok(!typing.split("\n")[0]!.includes("search"));
  });

  it("highlights every case-insensitive occurrence of the term", () => {
    assert.deepEqual(highlight("watchdog: worker[2] CPU 5 stucked", "WORKER"), [
      { text: "watchdog: ", hit: false },
      { text: "worker", hit: true },
      { text: "[2] CPU 5 stucked", hit: false },
    ]);
    assert.deepEqual(highlight("aXaxa", "x"), [
      { text: "a", hit: false },
      { text: "X", hit: true },
      { text: "a", hit: false },
      { text: "x", hit: true },
      { text: "a", hit: false },
    ]);
    assert.deepEqual(highlight("no match", null), [{ text: "no match", hit: false }]);
  });

  it("gives each node a stable colour from a small palette", () => {
    assert.equal(nodeColor("M"), nodeColor("M"));
    assert.equal(typeof nodeColor("wuklab16"), "string");
    const names = ["M", "P", "S", "b01", "b02m", "wuklab14", "wuklab16", "node-7"];
    assert.ok(new Set(names.map(nodeColor)).size > 1);
  });

  it("fits narrow widths and short heights, cutting long lines and expanding tabs", () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    pipeline.push("wuklab16", `[  100.000000] ${"x".repeat(5000)}\n`, NOW);
    pipeline.push("wuklab16", "[  100.100000] a\tb\n", NOW);
    pipeline.end();
    for (const [w, h] of [
      [80, 24],
      [40, 5],
      [20, 3],
      [120, 2],
    ] as const) {
      const f = frame(model, { node: null, minSeverity: "info", search: "x", skip: 1 }, w, h);
      assertFits(f, w, h);
    }
    assert.equal(displayText("a\tb", 80), "a       b");
    assert.ok(displayText("y".repeat(10_000), 80).length < 200);
  });

  it("renders a hostile console line without any escape or bell character", () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    pipeline.push("P", "\u001b]52;c;ZXZpbA==\u0007\u001b[2J\u001b]0;pwned\u0007 hello\n", NOW);
    pipeline.push("P", "[  228.000000] \u001b[31mred\u001b[0m \u009b2J\u0008done\n", NOW);
    pipeline.end();
    const f = frame(model, {}, 80, 6);
    assert.ok(!f.includes("\u001b"), JSON.stringify(f));
    assert.ok(!f.includes("\u0007"), JSON.stringify(f));
    assert.ok(!f.includes("\u009b"), JSON.stringify(f));
    assert.ok(!f.includes("pwned") && !f.includes("52;c"), f);
    assert.match(f, /^P +hello$/m);
    assert.match(f, /^P \[ {2}228\.000000\] red/m);
    assertFits(f, 80, 6);
  });

  it("redraws when new lines arrive", async () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    const r = render(
      <ModelContext.Provider value={model}>
        <LogPanel width={60} height={4} state={INITIAL_STATE.log} focused={false} />
      </ModelContext.Provider>,
    );
    assert.ok(!plain(r.lastFrame()).includes("Kernel panic"));
    pipeline.push("M", "[  431.703780] ---[ end Kernel panic - not syncing: Fatal exception\n", NOW);
    model.flush();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.match(plain(r.lastFrame()).split("\n").at(-1)!, /^M .*Kernel panic/);
    r.unmount();
  });
});
