import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Box } from "ink";
import { render } from "ink-testing-library";
import stringWidth from "string-width";
import { Pipeline, type PipelineOptions } from "../../src/pipeline.js";
import { NodesPanel } from "../../src/ui/components/nodes-panel.js";
import { WorkersPanel } from "../../src/ui/components/workers-panel.js";
import { ModelContext } from "../../src/ui/hooks/use-model.js";
import { UiModel } from "../../src/ui/model.js";
import { SPARK_BLOCKS } from "../../src/ui/sparkline.js";

const NOW = 1_700_000_000_000;

/** A model fed by a real pipeline, as the live monitor wires it. */
function setup(options: PipelineOptions = {}) {
  let model: UiModel | null = null;
  const pipeline = new Pipeline({
    ...options,
    onLine: (l) => model?.onLine(l),
    onEvent: (e) => model?.onEvent(e),
    onAlert: (a) => model?.onAlert(a),
  });
  model = new UiModel(pipeline.engine, () => NOW);
  return { pipeline, model };
}

const sample = (ts: number, worker: number, queued: number, inHandler: boolean) =>
  `[${ts.toFixed(6).padStart(12)}] hb: worker[${worker}] max_nr_queued=${queued} nr_queued=${queued} in_handler=${inHandler ? "yes" : "no"} nr_thpool_reqs=500\n`;

const STUCK_REPORT =
  "[  125.100000] watchdog: worker[2] CPU 5 stucked\n[  125.100000] watchdog:  common_header [op=0x20000000 src_nid:0]\n";

/**
 * M, every 5 s from 100 s to 125 s: worker 0 idle, worker 2 in its handler with its queue growing
 * 1..6 and no progress; then the kernel's stuck report for worker 2. P prints a line of its own.
 */
function feed(pipeline: Pipeline, report = true): void {
  pipeline.push("P", "[  100.000000] CPU0: Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz\n", NOW - 30_000);
  for (let i = 0; i <= 5; i++) {
    pipeline.push(
      "M",
      sample(100 + 5 * i, 0, 0, false) + sample(100 + 5 * i, 2, i + 1, true),
      NOW - 30_000 + i * 5000,
    );
  }
  if (report) pipeline.push("M", STUCK_REPORT, NOW - 2000);
  pipeline.idle("M", NOW);
}

const SGR = /\u001b\[[0-9;]*m/g;
const plain = (f: string | undefined) => (f ?? "").replace(SGR, "");

function frame(model: UiModel, width = 36, height = 6): string[] {
  const r = render(
    <ModelContext.Provider value={model}>
      <WorkersPanel width={width} height={height} />
    </ModelContext.Provider>,
  );
  const out = plain(r.lastFrame()).split("\n");
  r.unmount();
  return out;
}

const rowOf = (lines: string[], id: string) => lines.find((l) => l.startsWith(`${id} `)) ?? "";
/** The sparkline at the end of a row. */
const sparkOf = (row: string) =>
  [...row.trimEnd()]
    .reverse()
    .join("")
    .match(/^[▁▂▃▄▅▆▇█]+/)?.[0] ?? "";
const levels = (spark: string) => [...spark].reverse().map((c) => SPARK_BLOCKS.indexOf(c));
const fits = (lines: string[], width: number) => {
  for (const l of lines) assert.ok(stringWidth(l) <= width, `${width}: ${JSON.stringify(l)}`);
};

describe("WorkersPanel", () => {
  it("a row per worker of the M node: queue, handler, handled, stall, sparkline; P is not listed", () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    const lines = frame(model);
    assert.match(lines[0]!, /^─ Workers q hnd stall queue ─*$/);
    assert.equal(lines.length, 6, "the panel takes exactly its height");
    assert.deepEqual(lines.slice(3), ["", "", ""]);
    assert.match(rowOf(lines, "M:0"), /^M:0\s+0 no\s+-\s+▁{6}$/);
    assert.match(rowOf(lines, "M:2"), /^M:2 STUCK 6 yes\s+25s\s+[▁-█]{6}$/);
    assert.ok(!lines.some((l) => l.startsWith("P")));
  });

  it("the sparkline rises with the queue, newest at the right, full at the largest value", () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    const spark = levels(sparkOf(rowOf(frame(model, 60), "M:2")));
    assert.deepEqual(spark, [1, 2, 4, 5, 6, 7]);
    const wide = frame(model, 60);
    assert.equal(rowOf(wide, "M:2").length, 60, "the sparkline ends at the right edge");
  });

  it("a worker reported by the kernel is STUCK even before 20 s without progress", () => {
    const { pipeline, model } = setup();
    pipeline.push("M", sample(100, 2, 1, true) + sample(105, 2, 2, true) + STUCK_REPORT, NOW);
    pipeline.idle("M", NOW);
    const row = rowOf(frame(model), "M:2");
    assert.match(row, /^M:2 STUCK 2 yes\s+25s/);
  });

  it("over 20 s without progress is STUCK with no alert; back out of the handler it is not", () => {
    const { pipeline, model } = setup({ thresholds: { stuckSeconds: 60 } });
    feed(pipeline, false);
    assert.equal(model.engine.all.filter((a) => a.rule === "worker-stuck").length, 0);
    assert.match(rowOf(frame(model), "M:2"), /^M:2 STUCK 6 yes\s+25s/);
    pipeline.push("M", sample(130, 2, 0, false), NOW);
    pipeline.idle("M", NOW);
    const row = rowOf(frame(model), "M:2");
    assert.doesNotMatch(row, /STUCK/);
    assert.match(row, /^M:2\s+0 no\s+-/);
  });

  it("a worker only the kernel's report names gets a row of its own", () => {
    const { pipeline, model } = setup();
    pipeline.push("M", STUCK_REPORT, NOW);
    pipeline.idle("M", NOW);
    assert.match(rowOf(frame(model), "M:2"), /^M:2 STUCK no thread-pool samples yet\s*$/);
  });

  it("handled counts from V2 blocks get their own column", () => {
    const { pipeline, model } = setup();
    const block = (ts: string, queued: number, handled: number) =>
      [
        `[${ts}] Watchdog:`,
        "    worker[1]",
        `        max_nr_queued=4 current_nr_queued=${queued} in_handler=YES`,
        `        nr_handled=${handled} total_queuing_ns: 40617000 avg_queuing_ns:500 nr_thpool_reqs=162470`,
        "",
      ].join("\n");
    pipeline.push("mem0", block(" 1234.000000", 2, 81230) + block(" 1239.000000", 1, 81234), NOW);
    pipeline.idle("mem0", NOW);
    const lines = frame(model);
    assert.match(lines[0]!, /^─ Workers q hnd {2}done stall queue/);
    assert.match(rowOf(lines, "mem0:1"), /^mem0:1\s+1 yes 81234\s+-\s+[▁-█]{2}$/);
  });

  it("an M node with no sample yet says so", () => {
    const { pipeline, model } = setup({ roles: { mem1: "M" } });
    pipeline.push("mem1", "[    1.000000] Freeram: 0x3e8f21\n", NOW);
    pipeline.idle("mem1", NOW);
    assert.match(rowOf(frame(model), "mem1"), /no thread-pool samples/);
  });

  it("rows beyond the height are counted on a `+N more` line; stuck workers stay in view", () => {
    const { pipeline, model } = setup();
    let text = "";
    for (let i = 0; i <= 5; i++)
      for (let w = 0; w < 8; w++) text += sample(100 + 5 * i, w, w === 7 ? i + 1 : 0, w === 7);
    pipeline.push("M", text, NOW);
    pipeline.idle("M", NOW);
    const lines = frame(model, 36, 6);
    assert.equal(lines.length, 6);
    assert.deepEqual(
      lines.slice(1, 5).map((l) => l.split(" ")[0]),
      ["M:0", "M:1", "M:2", "M:7"],
    );
    assert.match(rowOf(lines, "M:7"), /STUCK/);
    assert.equal(lines[5]!.trimEnd(), " +4 more");
  });

  it("every line fits its width and height, narrow to wide", () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    for (const [width, height] of [
      [12, 3],
      [20, 4],
      [36, 6],
      [50, 2],
      [80, 10],
      [200, 6],
    ] as const) {
      const lines = frame(model, width, height);
      assert.ok(lines.length <= height, `${width}x${height}: ${lines.length} lines`);
      fits(lines, width);
    }
    const one = frame(model, 36, 1);
    assert.equal(one.length, 1);
    assert.match(one[0]!, /^─ Workers/);
  });

  it("no memory node yet: the title and a hint", () => {
    const { model } = setup();
    const lines = frame(model);
    assert.match(lines[0]!, /^─ Workers/);
    assert.match(lines[1]!, /no memory node/);
  });

  it("at 80x24, laid out as the screen does, everything fits and shows", () => {
    const { pipeline, model } = setup();
    feed(pipeline);
    model.onStatus({ node: "M", state: "retrying", retryInMs: 3000, error: "connection refused" });
    model.onStatus({ node: "P", state: "connected" });
    const middle = Math.max(6, Math.floor((24 - 8) * 0.4));
    const r = render(
      <ModelContext.Provider value={model}>
        <Box flexDirection="column" width={80} height={24}>
          <NodesPanel width={80} />
          <Box height={middle}>
            <WorkersPanel width={Math.floor(80 * 0.45)} height={middle} />
          </Box>
        </Box>
      </ModelContext.Provider>,
    );
    const lines = plain(r.lastFrame()).split("\n");
    r.unmount();
    assert.ok(lines.length <= 24);
    fits(lines, 80);
    assert.match(lines[0]!, /^─ Nodes/);
    assert.match(lines[2]!, /^M\s+M\s+retrying 3s: connection refused\s+2m05s\s+2s\s+0 1C 1W/);
    assert.match(lines[3]!, /^─ Workers/);
    assert.match(lines[5]!, /^M:2 STUCK 6 yes\s+25s\s+▂▃▅▆▇█/);
  });
});
