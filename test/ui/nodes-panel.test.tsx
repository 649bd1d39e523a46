import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { render } from "ink-testing-library";
import stringWidth from "string-width";
import { Pipeline } from "../../src/pipeline.js";
import { duration, NodesPanel, nodesPanelHeight } from "../../src/ui/components/nodes-panel.js";
import { ModelContext } from "../../src/ui/hooks/use-model.js";
import { UiModel } from "../../src/ui/model.js";

const NOW = 1_700_000_000_000;

/** A model fed by a real pipeline, as the live monitor wires it, with a clock the test moves. */
function setup() {
  const clock = { now: NOW };
  let model: UiModel | null = null;
  const pipeline = new Pipeline({
    onLine: (l) => model?.onLine(l),
    onEvent: (e) => model?.onEvent(e),
    onAlert: (a) => model?.onAlert(a),
  });
  model = new UiModel(pipeline.engine, () => clock.now);
  return { pipeline, model, clock };
}

const sample = (ts: string, queued: number) =>
  `[${ts}] hb: worker[2] max_nr_queued=${queued} nr_queued=${queued} in_handler=yes nr_thpool_reqs=500\n`;

/**
 * M: a worker whose queue grows from 100 s to 125 s without progress, then the kernel's stuck
 * report (one critical `worker-stuck`, one `queue-growth` warning), last line 2 s ago. P0: one line
 * at kernel time 30939 s, 1 s ago. M's source is retrying, P0's connected.
 */
function feed(pipeline: Pipeline, model: UiModel): void {
  pipeline.push("P0", "[30939.000000] CPU0: Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz\n", NOW - 1000);
  const stamps = [
    "  100.000000",
    "  105.000000",
    "  110.000000",
    "  115.000000",
    "  120.000000",
    "  125.000000",
  ];
  for (const [i, ts] of stamps.entries()) pipeline.push("M", sample(ts, i + 1), NOW - 30_000 + i * 5000);
  pipeline.push(
    "M",
    "[  125.100000] watchdog: worker[2] CPU 5 stucked\n[  125.100000] watchdog:  common_header [op=0x20000000 src_nid:0]\n",
    NOW - 2000,
  );
  pipeline.idle("M", NOW - 2000);
  model.onStatus({ node: "M", state: "retrying", retryInMs: 3000, error: "connection refused" });
  model.onStatus({ node: "P0", state: "connected", detail: "ttyUSB0 at 115200" });
}

const SGR = /\u001b\[[0-9;]*m/g;
const plain = (f: string | undefined) => (f ?? "").replace(SGR, "");

function show(model: UiModel, width: number) {
  return render(
    <ModelContext.Provider value={model}>
      <NodesPanel width={width} />
    </ModelContext.Provider>,
  );
}

function frame(model: UiModel, width = 80): string[] {
  const r = show(model, width);
  const out = plain(r.lastFrame()).split("\n");
  r.unmount();
  return out;
}

/** Lets React apply the re-render a model change asked for. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

const rowOf = (lines: string[], name: string) => lines.find((l) => l.startsWith(`${name} `)) ?? "";

describe("NodesPanel", () => {
  it("one row per node in the order first seen: role, source, uptime, age, boots, alerts", () => {
    const { pipeline, model } = setup();
    feed(pipeline, model);
    const lines = frame(model);
    assert.match(lines[0]!, /^─ Nodes/);
    for (const label of ["role", "source", "up", "last", "boots", "alerts"])
      assert.ok(lines[0]!.includes(label), label);
    assert.equal(lines.length, 3);
    assert.ok(lines[1]!.startsWith("P0 "));
    assert.ok(lines[2]!.startsWith("M "));
    assert.match(rowOf(lines, "P0"), /^P0\s+\?\s+connected\s+8h35m\s+1s\s+0\s+-\s*$/);
    assert.match(rowOf(lines, "M"), /^M\s+M\s+retrying 3s: connection refused\s+2m05s\s+2s\s+0\s+1C 1W\s*$/);
  });

  it("a node whose kernel panicked is down while its console stays connected, until it boots again", () => {
    const { pipeline, model } = setup();
    model.onStatus({ node: "P", state: "connected", detail: "ttyUSB0 at 115200" });
    const t = NOW - 1000;
    pipeline.push(
      "P",
      [
        "[  868.541991] BUG: unable to handle kernel NULL pointer dereference at 0000000000000008",
        "[  868.548813] IP: [<ffffffff8101a3b4>] fit_poll_cq+0x4ad/0x510",
        "[  868.725010] Oops: 0002 [#1] SMP PROCESSOR",
        "[  868.793651] CPU: 4 PID: 17 Comm: recvpollcq 4.0.0-lego-ys+ #737",
        "[  868.900000] Kernel panic - not syncing: Fatal exception",
        "[  868.910000] ---[ end Kernel panic - not syncing: Fatal exception",
        "",
      ].join("\n"),
      t,
    );
    assert.equal(pipeline.engine.node("P").panicked?.reason, "Fatal exception");
    assert.match(rowOf(frame(model), "P"), /^P\s+P\s+down: panic\s/);
    // Other CPUs may still print for a moment; the node stays down.
    pipeline.push("P", "[  869.500000] NMI backtrace for cpu 2\n", t + 500);
    assert.match(rowOf(frame(model), "P"), /^P\s+P\s+down: panic\s/);
    pipeline.push("P", "[    0.000000] Linux version 4.0.0-lego+ (gcc version 4.8.5) #740\n", t + 60_000);
    assert.equal(pipeline.engine.node("P").panicked, undefined);
    assert.match(rowOf(frame(model), "P"), /^P\s+P\s+connected\s/);
  });

  it("a node still printing 30 s of its own time after a panic is up again (its boot banner was lost)", () => {
    const { pipeline } = setup();
    pipeline.push(
      "M",
      "[  100.000000] Kernel panic - not syncing: Fatal exception\n[  100.100000] ---[ end Kernel panic - not syncing: Fatal exception ]---\n",
    );
    assert.equal(pipeline.engine.node("M").panicked?.reason, "Fatal exception");
    pipeline.push("M", "[  125.000000] still here\n");
    assert.ok(pipeline.engine.node("M").panicked, "25 s on: still down");
    pipeline.push("M", "[  131.000000] thpool-worker0 nr_queued: 0 0\n");
    assert.equal(pipeline.engine.node("M").panicked, undefined);
  });

  it("the retry countdown runs with the clock", async () => {
    const { pipeline, model, clock } = setup();
    feed(pipeline, model);
    const r = show(model, 80);
    assert.match(rowOf(plain(r.lastFrame()).split("\n"), "M"), /retrying 3s/);
    clock.now += 1200;
    model.flush();
    await settle();
    assert.match(rowOf(plain(r.lastFrame()).split("\n"), "M"), /retrying 2s/);
    assert.match(rowOf(plain(r.lastFrame()).split("\n"), "M"), / 3s /, "the last line's age moves too");
    clock.now += 5000;
    model.flush();
    await settle();
    assert.match(rowOf(plain(r.lastFrame()).split("\n"), "M"), /retrying now/);
    r.unmount();
  });

  it("no live source: `-`; unknown arrival: `-`; waiting and closed with their reason", () => {
    const { pipeline, model } = setup();
    pipeline.push("F", "[    5.000000] Freeram: 0x3e8f21\n");
    pipeline.idle("F");
    let lines = frame(model);
    assert.match(rowOf(lines, "F"), /^F\s+\?\s+-\s+5s\s+-\s+0\s+-\s*$/);
    model.onStatus({ node: "F", state: "waiting", detail: "/dev/ttyUSB3" });
    lines = frame(model);
    assert.match(rowOf(lines, "F"), /waiting: \/dev\/ttyUSB3/);
    model.onStatus({ node: "F", state: "closed", error: "end of file" });
    lines = frame(model);
    assert.match(rowOf(lines, "F"), /closed: end of file/);
  });

  it("alerts that resolved leave the counts", () => {
    const { pipeline, model } = setup();
    feed(pipeline, model);
    pipeline.push("M", sample("  130.000000", 0).replace("in_handler=yes", "in_handler=no"), NOW - 1000);
    pipeline.idle("M", NOW - 1000);
    const lines = frame(model);
    assert.match(rowOf(lines, "M"), /\s-\s*$/, "no alert fires any more");
  });

  it("every line fits its width, from 20 to 160 columns; columns are left out rather than wrapped", () => {
    const { pipeline, model } = setup();
    feed(pipeline, model);
    pipeline.push("a-rather-long-node-name-for-a-memory-node", "[    1.000000] hello\n", NOW);
    for (const width of [20, 30, 40, 50, 60, 80, 100, 160]) {
      const lines = frame(model, width);
      assert.equal(lines.length, 4, `${width}`);
      for (const l of lines) assert.ok(stringWidth(l) <= width, `${width}: ${JSON.stringify(l)}`);
      assert.match(rowOf(lines, "M"), /retrying/, `${width}`);
      assert.match(rowOf(lines, "M"), /1C/, `${width}`);
    }
    assert.doesNotMatch(frame(model, 40)[0]!, /boots/);
  });

  it("more nodes than rows: eight lines at most, the nodes with alerts kept, the rest counted", () => {
    const { pipeline, model } = setup();
    for (let i = 0; i < 10; i++) pipeline.push(`P${i}`, `[    ${i}.000000] hello\n`, NOW);
    feed(pipeline, model);
    const lines = frame(model);
    assert.equal(lines.length, 8);
    assert.equal(nodesPanelHeight(12), 8);
    assert.ok(rowOf(lines, "M"), "the node with a critical alert is shown");
    assert.match(lines[7]!, /^ \+5 more/);
  });

  it("no node yet: the title and a hint", () => {
    const { model } = setup();
    const lines = frame(model);
    assert.equal(lines.length, 2);
    assert.equal(nodesPanelHeight(0), 2);
    assert.match(lines[1]!, /no console/);
  });

  it("durations in at most six characters", () => {
    assert.deepEqual([0, 2.9, 59, 60, 125, 3599, 3600, 30939, 86_399, 86_400, 400_000, -5].map(duration), [
      "0s",
      "2s",
      "59s",
      "1m00s",
      "2m05s",
      "59m59s",
      "1h00m",
      "8h35m",
      "23h59m",
      "1d00h",
      "4d15h",
      "0s",
    ]);
  });
});
