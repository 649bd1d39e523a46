import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Alert, AlertChange } from "../../src/engine/alerts.js";
import type { NodeStatus } from "../../src/live/monitor.js";
import { Pipeline } from "../../src/pipeline.js";
import { readSessionLines } from "../../src/record/lines.js";
import { attachRecorder } from "../../src/record/recorder.js";
import { replaySession } from "../../src/record/replay.js";
import { readSession } from "../../src/record/session.js";
import { SessionWriter } from "../../src/record/writer.js";
import type { SourceStatus } from "../../src/sources/source.js";

const SEED = new URL("../fixtures/seed/", import.meta.url);
const seed = (name: string) => readFileSync(new URL(name, SEED), "utf8");
const stamp = (ts: number) => `[${ts.toFixed(6).padStart(12)}]`;

const T0 = 1_700_000_000_000;
const TICK = 250;

/** What happens to the live pipeline, at receive time `at` (ms since T0). */
type Step =
  | { at: number; node: string; chunk: string }
  | { at: number; node: string; reconnect: true }
  | { at: number; node: string; status: SourceStatus };

/** One alert change as compared: what a user sees of it. */
const seen = (a: Alert, change: AlertChange) =>
  `${change} ${a.rule} ${a.node} ${a.severity} x${a.count}: ${a.message}`;
const final = (a: Alert) => `${a.state} ${a.rule} ${a.node} ${a.severity} x${a.count}: ${a.message}`;

/** Cuts text into chunks of `size` bytes, so that lines arrive split as over a real link. */
function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/**
 * The live story: P prints the seed's b21 log (IB errors, then a crash), M a worker that stops making
 * progress (stuck by the clock alone, while M is quiet), then the b22p log (an RPC timeout, IB errors,
 * a crash). M's link drops once and the new session repeats lines already delivered; P goes quiet in
 * the middle of a line.
 */
function story(): { steps: Step[]; end: number } {
  const steps: Step[] = [];
  for (const node of ["P", "M"]) {
    steps.push({ at: 5, node, status: { state: "connecting" } });
    steps.push({ at: 40, node, status: { state: "connected", detail: `${node} console` } });
  }
  // P: b21 in 61-byte chunks, 40 ms apart, from 1 s on.
  const p = chunks(seed("b21.log"), 61);
  p.forEach((c, i) => {
    steps.push({ at: 1000 + i * 40, node: "P", chunk: c });
  });
  // A line cut off by silence: flushed after a second, then the rest comes as a line of its own.
  const pEnd = 1000 + p.length * 40;
  steps.push({ at: pEnd + 100, node: "P", chunk: `${stamp(851)} fit_poll_cq: failed status (5) for` });
  steps.push({ at: pEnd + 2500, node: "P", chunk: " wr_id 1841\n" });
  // M: a worker in its handler that stops making progress at kernel time 30700.
  const hb = [30700, 30702, 30704]
    .map(
      (t, i) =>
        `${stamp(t)} hb: worker[2] max_nr_queued=${i + 1} nr_queued=${i + 1} in_handler=yes nr_thpool_reqs=500\n`,
    )
    .join("");
  steps.push({ at: 1200, node: "M", chunk: hb });
  // Quiet for 25 s: only the clock says the worker is stuck.
  const m = seed("b22p.log").split("\n");
  const first = m.slice(0, 12).join("\n");
  steps.push({ at: 27_000, node: "M", chunk: `${first}\n` });
  // The link drops; the new session repeats the last five lines, then goes on.
  steps.push({
    at: 28_000,
    node: "M",
    status: { state: "retrying", retryInMs: 1000, error: "connection reset" },
  });
  steps.push({ at: 29_000, node: "M", status: { state: "connecting" } });
  steps.push({ at: 29_050, node: "M", status: { state: "connected", detail: "M console" } });
  steps.push({ at: 29_050, node: "M", reconnect: true });
  const rest = m.slice(7).join("\n");
  chunks(rest, 113).forEach((c, i) => {
    steps.push({ at: 29_100 + i * 30, node: "M", chunk: c });
  });
  steps.sort((a, b) => a.at - b.at);
  return { steps, end: 34_000 };
}

interface Live {
  changes: string[];
  /** The recorded time of each change. */
  times: number[];
  alerts: string[];
}

/** Drives a pipeline as the monitor does (ticks every 250 ms), recording into `path`. */
async function runLive(path: string): Promise<Live> {
  const { steps, end } = story();
  let now = T0;
  const writer = new SessionWriter(path, {
    nodes: [
      { name: "P", source: "serial:/dev/ttyUSB0" },
      { name: "M", source: "tcp://console-host:7002" },
    ],
    started: T0,
    host: "lab",
  });
  const rec = attachRecorder(writer, { now: () => now });
  const changes: string[] = [];
  const times: number[] = [];
  const pipeline = new Pipeline({
    dedupReplays: true,
    onChunk: rec.onChunk,
    onIdle: rec.onIdle,
    onReconnect: rec.onReconnect,
    onAlert: (a, c) => {
      changes.push(seen(a, c));
      times.push(now);
    },
  });
  let nextTick = T0 + TICK;
  const until = (t: number) => {
    // Ticks due before a step come first; one at its very time comes after it.
    while (nextTick < t) {
      now = nextTick;
      pipeline.tick(nextTick);
      nextTick += TICK;
    }
    now = t;
  };
  for (const s of steps) {
    const t = T0 + s.at;
    until(t);
    if ("chunk" in s) pipeline.push(s.node, s.chunk, t);
    else if ("reconnect" in s) pipeline.reconnected(s.node, t);
    else rec.onStatus({ node: s.node, ...s.status } as NodeStatus);
  }
  // The user stops: the sources close, at the end.
  until(T0 + end);
  for (const node of ["P", "M"]) rec.onStatus({ node, state: "closed" });
  pipeline.end();
  await writer.close();
  return { changes, times, alerts: pipeline.engine.all.map(final) };
}

describe("replay", () => {
  const dir = mkdtempSync(join(tmpdir(), "legowatch-replay-"));
  const path = join(dir, "story.jsonl");
  let live: Live;
  before(async () => {
    live = await runLive(path);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("the live story raises the alerts the test is about", () => {
    const rules = new Set(live.alerts.map((a) => a.split(" ").slice(1, 3).join(" ")));
    for (const r of ["crash P", "ib-error-storm P", "worker-stuck M", "rpc-timeout M", "crash M"])
      assert.ok(rules.has(r), `${r} in\n${live.alerts.join("\n")}`);
  });

  it("the recording holds every raw line, each reconnect and each status", async () => {
    const lines: string[] = [];
    let reconnects = 0;
    let statuses = 0;
    for await (const x of readSessionLines(path)) if ("l" in x && x.n === "P") lines.push(x.l);
    for await (const x of readSession(path)) {
      if ("r" in x) reconnects++;
      if ("s" in x) statuses++;
    }
    const p = seed("b21.log").replace(/\n$/, "").split("\n");
    assert.deepEqual(lines.slice(0, p.length), p);
    // The line cut by silence is two lines, as the pipeline saw it.
    assert.deepEqual(lines.slice(p.length), [
      `${stamp(851)} fit_poll_cq: failed status (5) for`,
      " wr_id 1841",
    ]);
    assert.equal(reconnects, 1);
    assert.equal(statuses, 9);
  });

  it("at full speed, gives the same alerts in the same order as live", async () => {
    const changes: string[] = [];
    const statuses: NodeStatus[] = [];
    let started: Pipeline | null = null;
    const p = await replaySession(path, {
      speed: "max",
      onStart: (pipeline) => {
        started = pipeline;
      },
      onAlert: (a, c) => changes.push(seen(a, c)),
      onStatus: (s) => statuses.push(s),
    });
    assert.equal(started, p);
    assert.deepEqual(changes, live.changes);
    assert.deepEqual(p.engine.all.map(final), live.alerts);
    assert.deepEqual(
      statuses.map((s) => `${s.node} ${s.state}`),
      ["P connecting", "M connecting", "P connected", "M connected", "M retrying", "M connecting"].concat([
        "M connected",
        "P closed",
        "M closed",
      ]),
    );
    // The monitor's gap after a drop is worked out again.
    assert.equal(statuses[6]!.gapMs, 1050);
  });

  it("`from` fast-forwards: only what happens after it is reported, the state is whole", async () => {
    const from = 30; // s: after the M worker got stuck and M's link came back
    const changes: string[] = [];
    const statuses: NodeStatus[] = [];
    const started = performance.now();
    const p = await replaySession(path, {
      speed: 1,
      from,
      onAlert: (a, c) => changes.push(seen(a, c)),
      onStatus: (s) => statuses.push(s),
    });
    const took = performance.now() - started;
    const expected = live.changes.filter((_, i) => live.times[i]! >= T0 + from * 1000);
    assert.ok(expected.length > 0 && expected.length < live.changes.length);
    assert.deepEqual(changes, expected);
    assert.deepEqual(p.engine.all.map(final), live.alerts);
    // Paced at speed 1 over the 4 s left, not the 34 s recorded.
    assert.ok(took >= 3500 && took < 8000, `took ${took} ms`);
    // Where each source stood at that moment, then what changed after.
    assert.deepEqual(
      statuses.map((s) => `${s.node} ${s.state}`),
      ["P connected", "M connected", "P closed", "M closed"],
    );
  });

  it("paces at `speed` and stops when aborted, with the pipeline as far as it got", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const started = performance.now();
    const changes: string[] = [];
    const p = await replaySession(path, {
      speed: 10,
      signal: ac.signal,
      onAlert: (a, c) => changes.push(seen(a, c)),
    });
    const took = performance.now() - started;
    assert.ok(took >= 250 && took < 1500, `took ${took} ms`);
    // 300 ms at 10x is 3 s of the recording: P's IB errors, not M's timeout 27 s in.
    assert.ok(p.engine.all.length > 0);
    assert.ok(!p.engine.all.some((a) => a.rule === "rpc-timeout"));
  });
});
