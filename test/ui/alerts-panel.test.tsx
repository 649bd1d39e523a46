import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { render } from "ink-testing-library";
import type { Alert } from "../../src/engine/alerts.js";
import { Pipeline } from "../../src/pipeline.js";
import { AlertsPanel, ageOf } from "../../src/ui/components/alerts-panel.js";
import { ModelContext } from "../../src/ui/hooks/use-model.js";
import { UiModel } from "../../src/ui/model.js";
import { visibleAlerts } from "../../src/ui/select.js";

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

const segfault = (ts: string, pid: number, comm = "word_count-pthr") =>
  `[${ts}] ${comm}[${pid}]: segfault at 0x4e842010 ip 0000000000420354 sp 00007fffb17f9bc0 error 6\n`;
const TIMEOUT =
  "[30801.296160] ibapi_send_reply() CPU:8 PID:19 timeout (30010 ms), caller: clflush_one+0x1c9/0x370\n";
const sample = (ts: string, queued: number, inHandler: boolean, reqs: number) =>
  `[${ts}] hb: worker[2] max_nr_queued=3 nr_queued=${queued} in_handler=${inHandler ? "yes" : "no"} nr_thpool_reqs=${reqs}\n`;

/** Three segfaults of one program on P (one alert, x3), 12 s ago, then an RPC timeout on M (unknown arrival). */
function feed(pipeline: Pipeline): void {
  pipeline.push("P", segfault("  227.723140", 29), NOW - 14_000);
  pipeline.push("P", segfault("  227.823140", 30), NOW - 13_000);
  pipeline.push("P", segfault("  227.923140", 31), NOW - 12_000);
  pipeline.push("M", TIMEOUT);
  settle(pipeline, "P", "M");
}

/** The consoles went quiet: the parser lets go of the lines it held back (a block may go on). */
function settle(pipeline: Pipeline, ...nodes: string[]): void {
  for (const n of nodes) pipeline.idle(n);
}

const SGR = /\u001b\[[0-9;]*m/g;
/** The frame without colour codes (present only when the environment forces colour). */
const plain = (f: string | undefined) => (f ?? "").replace(SGR, "");

function show(model: UiModel, width = 80, height = 8, selected = 0, focused = true) {
  return render(
    <ModelContext.Provider value={model}>
      <AlertsPanel width={width} height={height} selected={selected} focused={focused} />
    </ModelContext.Provider>,
  );
}

function frame(model: UiModel, width = 80, height = 8, selected = 0, focused = true): string {
  const r = show(model, width, height, selected, focused);
  const out = plain(r.lastFrame());
  r.unmount();
  return out;
}

function assertFits(f: string, width: number, height: number): void {
  const lines = f.split("\n");
  assert.ok(lines.length <= height, `${lines.length} rows > ${height}:\n${f}`);
  for (const l of lines) assert.ok([...l].length <= width, `too wide (${[...l].length}): ${l}`);
}

const rowOf = (f: string, rule: string) => f.split("\n").find((l) => l.includes(` ${rule} `)) ?? "";
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("AlertsPanel", () => {
  it("lists alerts newest first with severity, rule, node, count, age and message", () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    const f = frame(model, 100, 8, 1);
    assertFits(f, 100, 8);
    const lines = f.split("\n");
    assert.match(lines[0]!, /^─ Alerts ─ 2 firing ─+$/);
    // The timeout came last: it is first.
    assert.match(lines[1]!, /^CRIT rpc-timeout M +- RPC got no reply in 30010 ms, caller clflush_one/);
    const seg = rowOf(f, "segfault");
    assert.match(seg, /^ERR {2}segfault +P +x3 +12s word_count-pthr\[31\]: segfault at 0x4e842010/);
    assert.ok(!lines[1]!.includes(" x1 "), "no count for a single occurrence");
  });

  it("shows the selected alert's first evidence lines below it, indented", () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    const f = frame(model, 120, 8, 1);
    const lines = f.split("\n");
    const at = lines.findIndex((l) => l.includes(" segfault "));
    assert.ok(at > 0, f);
    assert.match(lines[at + 1]!, /^ {5}\[ {2}227\.723140\] word_count-pthr\[29\]: segfault/);
    assert.match(lines[at + 2]!, /^ {5}\[ {2}227\.823140\] word_count-pthr\[30\]: segfault/);
  });

  it("says so when there are none", () => {
    const { pipeline, model } = setup();
    pipeline.push("M", "[   37.503225] fit: FIT layer ready to go!\n", NOW);
    const f = frame(model, 40, 5);
    assert.deepEqual(f.split("\n").slice(0, 2), [`─ Alerts ─ 0 firing ${"─".repeat(20)}`, "no alerts"]);
  });

  it("hides an acknowledged alert until its count changes", async () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    const r = show(model, 100, 8);
    const seg = visibleAlerts(model).find((a) => a.rule === "segfault")!;
    model.acknowledge(seg);
    model.flush();
    await tick();
    let f = plain(r.lastFrame());
    assert.ok(!f.includes("segfault"), f);
    assert.match(f.split("\n")[0]!, /─ 1 firing ─ 1 acked ─/);
    // Another segfault of the same program folds into the alert: its count changes, it is back.
    pipeline.push("P", segfault("  228.023140", 32), NOW - 1000);
    settle(pipeline, "P");
    model.flush();
    await tick();
    f = plain(r.lastFrame());
    assert.match(rowOf(f, "segfault"), /segfault +P +x4 +1s /);
    assert.doesNotMatch(f.split("\n")[0]!, /acked/);
    r.unmount();
  });

  it("lists resolved alerts after firing ones, and counts them", () => {
    const { pipeline, model } = setup();
    // A worker in its handler with no progress for 30 s, then idle again: worker-stuck fires and resolves.
    pipeline.push("M", sample("  100.000000", 3, true, 19103), NOW - 40_000);
    pipeline.push("M", sample("  105.000000", 3, true, 19103), NOW - 35_000);
    pipeline.push("M", sample("  130.000000", 3, true, 19103), NOW - 10_000);
    pipeline.push("M", sample("  131.000000", 0, false, 19200), NOW - 9_000);
    pipeline.push("P", segfault("  227.723140", 29), NOW - 5_000);
    const all = model.engine.all;
    assert.deepEqual(
      all.map((a) => [a.rule, a.state]),
      [
        ["worker-stuck", "resolved"],
        ["segfault", "firing"],
      ],
    );
    const f = frame(model, 100, 6);
    const lines = f.split("\n");
    assert.match(lines[0]!, /─ Alerts ─ 1 firing ─ 1 resolved ─/);
    assert.match(lines[1]!, /^ERR {2}segfault/);
    assert.ok(lines.findIndex((l) => l.includes("worker-stuck")) > 1, f);
    assert.match(rowOf(f, "worker-stuck"), /^CRIT worker-stuck M +9s worker 2 in its handler/);
  });

  it("scrolls to keep the selected alert visible", () => {
    const { pipeline, model } = setup();
    // Ten programs crash: ten alerts, newest (prog9) first.
    for (let i = 0; i < 10; i++) pipeline.push("P", segfault(`  ${200 + i}.000000`, 20 + i, `prog${i}`), NOW);
    const top = frame(model, 80, 5, 0);
    assert.ok(top.includes("prog9[29]"));
    assert.ok(!top.includes("prog0[20]"));
    const bottom = frame(model, 80, 5, 9);
    assert.ok(bottom.includes("prog0[20]"), bottom);
    assert.ok(!bottom.includes("prog9[29]"), bottom);
    assertFits(bottom, 80, 5);
    // Tall enough: one evidence line under the selection even with more alerts than rows.
    assert.match(bottom.split("\n").at(-1)!, /^ {5}\[ {2}200\.000000\] prog0\[20\]/);
    for (let sel = 0; sel < 10; sel++) {
      const f = frame(model, 60, 4, sel);
      assert.ok(f.includes(`prog${9 - sel}[${29 - sel}]`), `selected ${sel}:\n${f}`);
      assertFits(f, 60, 4);
    }
  });

  it("fits its width and height at any size", () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    for (let i = 0; i < 6; i++) {
      pipeline.push(`node-with-a-long-name-${i}`, TIMEOUT, NOW - i * 90_000_000);
      settle(pipeline, `node-with-a-long-name-${i}`);
    }
    assert.ok(visibleAlerts(model).length >= 8);
    for (const [w, h] of [
      [44, 6],
      [80, 24],
      [20, 3],
      [30, 1],
      [100, 2],
    ] as const) {
      for (const sel of [0, 3, 8]) assertFits(frame(model, w, h, sel, sel !== 3), w, h);
    }
  });

  it("renders hostile console text without any escape or bell character", () => {
    const { pipeline, model } = setup();
    pipeline.push("P", "\u001b]52;c;ZXZpbA==\u0007\u001b[2J\u001b]0;pwned\u0007 hello\n", NOW);
    pipeline.push(
      "P",
      "[  227.723140] \u001b[31mwc\u001b[0m[29]: segfault at 0x4e842010 ip 0000000000420354 sp 00007fffb17f9bc0 error 6\u001b]0;pwned\u0007\n",
      NOW,
    );
    const f = frame(model, 100, 6);
    assert.ok(!f.includes("\u001b"), JSON.stringify(f));
    assert.ok(!f.includes("\u0007"), JSON.stringify(f));
    assert.ok(!f.includes("pwned"), f);
    assert.match(f, /^ERR {2}segfault P +0s wc\[29\]: segfault at 0x4e842010/m);
  });

  it("formats ages from the last arrival", () => {
    const at = (arrival: number | null) => ({ last: { ts: null, arrival, line: 1 } }) as unknown as Alert;
    assert.equal(ageOf(at(null), NOW), "-");
    assert.equal(ageOf(at(NOW - 12_400), NOW), "12s");
    assert.equal(ageOf(at(NOW + 5000), NOW), "0s");
    assert.equal(ageOf(at(NOW - 5 * 60_000), NOW), "5m");
    assert.equal(ageOf(at(NOW - 3 * 3_600_000), NOW), "3h");
    assert.equal(ageOf(at(NOW - 2 * 86_400_000), NOW), "2d");
  });
});
