import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { render } from "ink-testing-library";
import stripAnsi from "strip-ansi";
import { Pipeline } from "../../src/pipeline.js";
import { CrashView, crashScrollMax } from "../../src/ui/components/crash-view.js";
import { ModelContext } from "../../src/ui/hooks/use-model.js";
import { UiModel } from "../../src/ui/model.js";

const NOW = 1_700_000_000_000;
const seed = (f: string) => readFileSync(new URL(`../fixtures/seed/${f}`, import.meta.url));

/** The real engine state after node b21's console: an IB error storm, then the fit_poll_cq Oops. */
function b21(): UiModel {
  let model: UiModel | undefined;
  const pipeline = new Pipeline({
    onLine: (l) => model?.onLine(l),
    onEvent: (e) => model?.onEvent(e),
    onAlert: (a) => model?.onAlert(a),
  });
  model = new UiModel(pipeline.engine, () => NOW);
  pipeline.push("b21", seed("b21.log"));
  pipeline.endNode("b21");
  pipeline.end();
  model.flush();
  return model;
}

function view(model: UiModel, width: number, height: number, alertId: string, scroll = 0) {
  const r = render(
    <ModelContext.Provider value={model}>
      <CrashView width={width} height={height} alertId={alertId} scroll={scroll} />
    </ModelContext.Provider>,
  );
  const frame = () => stripAnsi(r.lastFrame() ?? "");
  const scrollTo = (s: number) =>
    r.rerender(
      <ModelContext.Provider value={model}>
        <CrashView width={width} height={height} alertId={alertId} scroll={s} />
      </ModelContext.Provider>,
    );
  return { ...r, frame, scrollTo };
}

function assertFits(frame: string, width: number, height: number): string[] {
  const lines = frame.split("\n");
  assert.ok(lines.length <= height, `${lines.length} lines > ${height}`);
  for (const l of lines) assert.ok([...l].length <= width, `too wide (${[...l].length}): ${l}`);
  return lines;
}

const model = b21();
const crash = model.engine.all.find((a) => a.rule === "crash")!;

describe("CrashView", () => {
  it("shows the title, the context line and the start of the body at 80x24", () => {
    const v = view(model, 80, 24, crash.id);
    const f = v.frame();
    const lines = assertFits(f, 80, 24);
    assert.equal(lines.length, 24);
    assert.match(lines[0]!, /^─ BUG: unable to handle kernel NULL pointer dereference in fit_poll_cq ─+$/);
    assert.equal(lines[1], "b21  fit_poll_cq  CPU 4  PID 17  recvpollcq  4.0.0-lego-ys+ #744");
    assert.match(f, /address\s+\(null\)/);
    assert.match(f, /ip\s+fit_poll_cq\+0x4ad\/0x510/);
    assert.match(f, /oops\s+\[#1\]/);
    assert.match(f, /\(report cut off\)/);
    assert.match(f, /Registers/);
    // Registers several to a row, as many as fit in 80 columns.
    assert.match(f, /RAX\s+0000000000001008\s+RBX\s+ffff88103effbad0\s+RCX\s+0000000000000000/);
    assert.match(f, /CR4\s+00000000000406a0/);
    assert.match(lines[23]!, /^↑↓ PgUp PgDn scroll · Esc back {2}1-21 of \d+$/);
    v.unmount();
  });

  it("scrolls the body, not the title, and stops at the end", () => {
    const v = view(model, 80, 24, crash.id);
    const top = v.frame().split("\n");
    assert.doesNotMatch(v.frame(), /fit_poll_cq_pass/);
    v.scrollTo(12);
    const down = v.frame().split("\n");
    assert.equal(down[0], top[0]);
    assert.equal(down[1], top[1]);
    assert.notEqual(down[2], top[2]);
    // The body moved up by 12 rows.
    assert.equal(down[2], top[14]);
    assert.match(v.frame(), /Call trace/);
    assert.match(v.frame(), / {2}fit_poll_cq_pass\+0x14\/0x30 +ffffffff810634e4/);
    assert.match(v.frame(), /\? native_smp_send_reschedule\+0x39\/0x50/);
    assert.match(v.frame(), /\? __kthread_parkme\+0x70\/0x70/);
    assert.match(down[23]!, /13-33 of/);

    const max = crashScrollMax(model, crash.id, 80, 24);
    assert.match(v.frame(), new RegExp(` of ${max + 21}$`));
    v.scrollTo(max);
    const last = v.frame();
    v.scrollTo(10_000);
    assert.equal(v.frame(), last);
    const end = v.frame();
    const lines = assertFits(end, 80, 24);
    // The last row of the body is the last raw line, with its line number.
    assert.match(lines[22]!, /^71 \[ {2}850\.950898\] \[<ffffffff8100e572>\] ret_from_fork\+0x22\/0x30$/);
    v.unmount();
  });

  it("lists every frame and raw line on a tall screen", () => {
    const v = view(model, 100, 90, crash.id);
    const f = v.frame();
    assertFits(f, 100, 90);
    const frames = f.split("\n").filter((l) => /^[ ?] \S+\+0x/.test(l));
    assert.deepEqual(
      frames.map((l) => l.slice(0, 2)),
      ["? ", "? ", "? ", "? ", "  ", "  ", "? ", "  "],
    );
    assert.match(f, /^41 \[ {2}848\.828313\] BUG: unable to handle kernel NULL pointer dereference at/m);
    assert.match(f, /^64 \[ {2}850\.481870\] \[<ffffffff81003299>\] \? native_smp_send_reschedule/m);
    assert.doesNotMatch(f, /\d+ of \d+/);
    v.unmount();
  });

  it("fits narrow screens", () => {
    for (const [w, h] of [
      [40, 12],
      [60, 8],
      [20, 5],
    ] as const) {
      const v = view(model, w, h, crash.id);
      assertFits(v.frame(), w, h);
      assert.match(v.frame(), /RAX|fit_poll_cq|BUG/);
      v.unmount();
    }
  });

  it("says so when the alert has no report or is unknown", () => {
    const storm = model.engine.all.find((a) => a.rule === "ib-error-storm")!;
    let v = view(model, 80, 24, storm.id);
    assertFits(v.frame(), 80, 24);
    assert.match(v.frame(), /no longer held/);
    assert.match(v.frame(), /Esc back/);
    v.unmount();
    v = view(model, 80, 24, "crash#99");
    assert.match(v.frame(), /Alert crash#99 is no longer known/);
    v.unmount();
  });
});
