import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { render } from "ink-testing-library";
import stripAnsi from "strip-ansi";
import { Pipeline } from "../../src/pipeline.js";
import { HelpView } from "../../src/ui/components/help-view.js";
import { ModelContext } from "../../src/ui/hooks/use-model.js";
import { UiModel } from "../../src/ui/model.js";

function show(width: number, height: number) {
  let model: UiModel | undefined;
  const pipeline = new Pipeline({ onLine: (l) => model?.onLine(l), onEvent: (e) => model?.onEvent(e) });
  model = new UiModel(pipeline.engine, () => 0);
  pipeline.push(
    "M",
    "[  100.000000] hb: worker[2] max_nr_queued=3 nr_queued=3 in_handler=yes nr_thpool_reqs=19103\n",
  );
  model.flush();
  const r = render(
    <ModelContext.Provider value={model}>
      <HelpView width={width} height={height} />
    </ModelContext.Provider>,
  );
  return { ...r, frame: () => stripAnsi(r.lastFrame() ?? "") };
}

function assertFits(frame: string, width: number, height: number): string[] {
  const lines = frame.split("\n");
  assert.ok(lines.length <= height, `${lines.length} lines > ${height}`);
  for (const l of lines) assert.ok([...l].length <= width, `too wide (${[...l].length}): ${l}`);
  return lines;
}

describe("HelpView", () => {
  it("lists every key and the whole legend at 80x24", () => {
    const v = show(80, 24);
    const f = v.frame();
    const lines = assertFits(f, 80, 24);
    assert.equal(lines.length, 24);
    assert.match(lines[0]!, /^─ Help ─+$/);
    for (const [key, what] of [
      ["Tab", "focus alerts / log"],
      ["↑↓", "move or scroll"],
      ["PgUp PgDn", "page log or crash report"],
      ["End", "follow the log tail"],
      ["Enter", "crash report of an alert"],
      ["a", "acknowledge the alert"],
      ["/", "search the log"],
      ["n N", "next / previous match"],
      ["f", "cycle node filter"],
      ["s", "cycle minimum severity"],
      ["p", "profile view"],
      ["\\?", "help"],
      ["q", "quit"],
    ]) {
      assert.match(f, new RegExp(`(^|  )${key} +${what}`, "m"), key);
    }
    assert.match(f, /^Nodes lists each console/m);
    const legend = f.replace(/\n/g, " ");
    assert.match(legend, /another node's worker was stuck\. \? or Esc back$/);
    for (const rule of [
      "worker-stuck",
      "queue-growth",
      "rpc-timeout",
      "ib-error-storm",
      "segfault",
      "stalled-rpc",
    ]) {
      assert.match(legend, new RegExp(rule));
    }
    assert.equal(lines[23], "? or Esc back");
    v.unmount();
  });

  it("fits smaller screens, cutting the legend first", () => {
    for (const [w, h] of [
      [60, 20],
      [50, 16],
      [30, 6],
    ] as const) {
      const v = show(w, h);
      const lines = assertFits(v.frame(), w, h);
      assert.equal(lines.length, h);
      assert.match(lines[1]!, /^Tab +focus/);
      assert.equal(lines[h - 1], "? or Esc back");
      v.unmount();
    }
    const v = show(60, 20);
    assert.match(v.frame(), /…$/m);
    v.unmount();
  });
});
