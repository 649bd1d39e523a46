import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Monitor, type NodeStatus } from "../../src/live/monitor.js";
import type { ParsedEvent } from "../../src/parse/events.js";
import { Pipeline } from "../../src/pipeline.js";
import type { Source, SourceSink } from "../../src/sources/source.js";

/** A source the test drives by hand: what a real one reports, without the device. */
class HandSource implements Source {
  readonly kind = "hand";
  readonly describe = "by hand";
  sink!: SourceSink;
  start(sink: SourceSink): void {
    this.sink = sink;
  }
  async stop(): Promise<void> {}
}

const turn = () => new Promise((r) => setImmediate(r));

describe("the monitor", () => {
  it("a flooding console does not hold up another's lines", async () => {
    const events: ParsedEvent[] = [];
    const pipeline = new Pipeline({ onEvent: (e) => events.push(e) });
    const flood = new HandSource();
    const quiet = new HandSource();
    const m = new Monitor(
      [
        { name: "FLOOD", source: flood },
        { name: "QUIET", source: quiet },
      ],
      pipeline,
    );
    m.start();
    const line = `${"[    1.000000] chatter ".padEnd(99, "x")}\n`;
    for (let i = 0; i < 200; i++) flood.sink.data(Buffer.from(line.repeat(1000)));
    quiet.sink.data(Buffer.from("[    2.000000] send request failed at connection 7 as 12\n"));
    await turn();
    // One turn hands each node at most a slice: the quiet node's line is parsed long before the flood is.
    assert.ok(
      events.some((e) => e.node === "QUIET"),
      "the quiet node's line came through in the first turn",
    );
    assert.ok(pipeline.engine.node("FLOOD").lines < 200_000, "the flood is still being worked through");
    await m.stop();
    assert.equal(pipeline.engine.node("FLOOD").lines, 200_000, "nothing was lost below the bound");
  });

  it("a queue over its bound drops new bytes and says how many lines", async () => {
    const dropped: [string, number][] = [];
    const pipeline = new Pipeline();
    const src = new HandSource();
    const m = new Monitor([{ name: "P", source: src }], pipeline, {
      maxQueuedBytes: 1000,
      onDropped: (node, lines) => dropped.push([node, lines]),
    });
    m.start();
    const ten = Buffer.from("0123456789\n".repeat(10)); // 110 bytes, 10 lines
    for (let i = 0; i < 12; i++) src.sink.data(ten);
    await turn();
    await m.stop();
    assert.deepEqual(dropped, [["P", 30]]);
    assert.equal(pipeline.engine.node("P").lines, 90);
  });

  it("reports how long a node was cut off when it comes back", async () => {
    let now = 1_000_000;
    const statuses: NodeStatus[] = [];
    const src = new HandSource();
    const m = new Monitor([{ name: "M", source: src }], new Pipeline(), {
      now: () => now,
      onStatus: (s) => statuses.push(s),
    });
    m.start();
    src.sink.status({ state: "connected", detail: "/dev/ttyUSB0 at 115200 baud" });
    now += 1000;
    src.sink.status({ state: "waiting", error: "no such device", retryInMs: 1000 });
    now += 2500;
    src.sink.status({ state: "connecting" });
    src.sink.status({ state: "connected", detail: "/dev/ttyUSB0 at 115200 baud" });
    await m.stop();
    assert.deepEqual(
      statuses.map((s) => [s.state, s.gapMs ?? null]),
      [
        ["connected", null],
        ["waiting", null],
        ["connecting", null],
        ["connected", 2500],
      ],
    );
  });
});
