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

/** A hand-driven source that can be paused, and records when it is. */
class PausableSource extends HandSource {
  readonly calls: ("pause" | "resume")[] = [];
  paused = false;
  private waiting: (() => void)[] = [];
  /** Called at every pause or resume, to look at the monitor's side then. */
  onCall: (c: "pause" | "resume") => void = () => {};
  pause(): void {
    this.calls.push("pause");
    this.paused = true;
    this.onCall("pause");
  }
  resume(): void {
    this.calls.push("resume");
    this.paused = false;
    this.onCall("resume");
    for (const w of this.waiting.splice(0)) w();
  }
  /** Resolves once resumed. */
  running(): Promise<void> {
    return this.paused ? new Promise((r) => this.waiting.push(r)) : Promise.resolve();
  }
}

const turn = () => new Promise((r) => setImmediate(r));
/** 100-byte console lines. */
const LINE = `${"[    1.000000] chatter ".padEnd(99, "x")}\n`;
const MiB = 1024 * 1024;

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

  it("pauses a source whose queue passes the pause mark and resumes it below the resume mark", async () => {
    const pipeline = new Pipeline();
    const src = new PausableSource();
    const lines = () => pipeline.engine.node("P").lines;
    const m = new Monitor([{ name: "P", source: src }], pipeline);
    m.start();
    // The default marks: paused above 8 MiB waiting, resumed below 1 MiB.
    let linesAtResume = -1;
    src.onCall = (c) => {
      if (c === "resume") linesAtResume = lines();
    };
    const chunk = Buffer.from(LINE.repeat(10_000)); // 1,000,000 bytes, 10,000 lines
    for (let i = 0; i < 8; i++) src.sink.data(chunk);
    assert.deepEqual(src.calls, [], "8,000,000 bytes are below 8 MiB");
    src.sink.data(chunk);
    assert.deepEqual(src.calls, ["pause"], "paused as soon as the queue passed 8 MiB");
    // Bytes that come after the pause are still taken.
    src.sink.data(chunk);
    assert.deepEqual(src.calls, ["pause"], "paused once");
    await turn();
    assert.deepEqual(src.calls, ["pause"], "still paused after one slice");
    while (src.paused) await turn();
    assert.deepEqual(src.calls, ["pause", "resume"]);
    const waitingAtResume = 10 * chunk.length - linesAtResume * 100;
    assert.ok(
      waitingAtResume < MiB && waitingAtResume >= MiB - 256 * 1024,
      `resumed with ${waitingAtResume} bytes waiting, just below 1 MiB`,
    );
    await m.stop();
    assert.equal(lines(), 100_000, "nothing was dropped");
    assert.deepEqual(src.calls, ["pause", "resume"], "not resumed again by the stop");
  });

  it("loses nothing from a flood when the source obeys pause", async () => {
    const dropped: number[] = [];
    const pipeline = new Pipeline();
    const src = new PausableSource();
    const quiet = new HandSource();
    // A small bound: without the pause, the flood would overflow it in the first few chunks.
    const m = new Monitor(
      [
        { name: "FLOOD", source: src },
        { name: "QUIET", source: quiet },
      ],
      pipeline,
      {
        maxQueuedBytes: 2 * MiB,
        pauseAboveBytes: MiB,
        resumeBelowBytes: 256 * 1024,
        onDropped: (_node, lines) => dropped.push(lines),
      },
    );
    m.start();
    const chunk = Buffer.from(LINE.repeat(640)); // 64,000 bytes
    const chunks = 500; // 32 MB, 320,000 lines
    let quietSent = 0;
    for (let sent = 0; sent < chunks; ) {
      // As fast as it is let: everything in one go until paused.
      while (!src.paused && sent < chunks) {
        src.sink.data(chunk);
        sent++;
      }
      // What was already read when the pause came still arrives.
      if (sent < chunks) {
        src.sink.data(chunk);
        sent++;
      }
      quiet.sink.data(Buffer.from(`[    2.000000] quiet line ${quietSent++}\n`));
      await src.running();
    }
    await m.stop();
    assert.deepEqual(dropped, [], "no line dropped");
    assert.equal(pipeline.engine.node("FLOOD").lines, chunks * 640);
    assert.equal(pipeline.engine.node("QUIET").lines, quietSent);
    const pauses = src.calls.filter((c) => c === "pause").length;
    assert.ok(pauses > 10, `paused ${pauses} times`);
    assert.deepEqual(
      src.calls,
      src.calls.map((_, i) => (i % 2 === 0 ? "pause" : "resume")),
      "pause and resume alternate",
    );
  });

  it("resumes a paused source when a reconnect hands its queue on", async () => {
    const pipeline = new Pipeline();
    const src = new PausableSource();
    const m = new Monitor([{ name: "P", source: src }], pipeline, {
      pauseAboveBytes: 100_000,
      resumeBelowBytes: 10_000,
    });
    m.start();
    src.sink.data(Buffer.from(LINE.repeat(1_001)));
    assert.deepEqual(src.calls, ["pause"]);
    src.sink.reconnected();
    assert.deepEqual(src.calls, ["pause", "resume"]);
    assert.equal(pipeline.engine.node("P").lines, 1_001);
    await m.stop();
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
