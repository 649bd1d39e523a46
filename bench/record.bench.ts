/**
 * Benchmark of session recording: what `--record` costs a live watch, and how fast a session replays.
 *
 * 1. A flood of generated console lines (bench/gen.ts) over TCP into a {@link TcpSource} in a
 *    {@link Monitor} feeding a {@link Pipeline} (`dedupReplays`, as the CLI has it), written by a child
 *    process (this file in `feed` mode) as fast as the socket takes them; without recording, recording to
 *    a plain session file and recording to a `.gz` one (a {@link SessionWriter} with the hooks of
 *    {@link attachRecorder}). Best of five each, interleaved: lines/s, the slowdown, the session's size.
 * 2. {@link replaySession} of the recorded sessions at `speed: "max"`: lines/s.
 *
 * Every run checks its counts: every line reached the engine, and a session holds every line, in order
 * and byte for byte. Run by `npm run bench` after the live bench. A missed target does not fail the run;
 * a setup that breaks (the feeder dies, the source never connects) does.
 */

import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Monitor } from "../src/live/monitor.js";
import { Pipeline, type PipelineOptions } from "../src/pipeline.js";
import { readSessionLines } from "../src/record/lines.js";
import { attachRecorder } from "../src/record/recorder.js";
import { replaySession } from "../src/record/replay.js";
import { SessionWriter } from "../src/record/writer.js";
import { TcpSource } from "../src/sources/tcp.js";
import { killAll, tempDir } from "../test/e2e/support.js";
import { cleanUpOnSignals, cleanupMark, defer, isInterrupted, unwind } from "./cleanup.js";
import { FeederClient, type FeederMessage } from "./feeder-client.js";
import { generateLog } from "./gen.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SELF = fileURLToPath(import.meta.url);

const LINES = 500_000;
/** Floods of each mode, interleaved; the best counts (the floods vary by ±20% on a busy two-core machine). */
const RUNS = 5;
const REPLAYS = 3;
const NODE = "P";
/** A flood that makes no progress for this long is over: what has not arrived is lost. */
const STALL_MS = 3_000;
/** Upper bound on one flood, whatever its speed. */
const FLOOD_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;

// Target: recording costs the live path under 10% of its throughput.
const MAX_SLOWDOWN = 0.1;

/** Monotonic ms, the same clock in every process of the machine (CLOCK_MONOTONIC). */
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function progress(msg: string, done: boolean): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${msg}${done ? "\n" : ""}`);
  else if (done) process.stderr.write(`${msg}\n`);
}

// ---------------------------------------------------------------------------------------------
// The feeder (child process): `node --import tsx bench/record.bench.ts feed FILE`. Listens on 127.0.0.1,
// reports `{ type: "ready", port }`, and writes all of FILE to every client that connects, as fast as the
// socket takes it, then reports `{ type: "done", start, end, bytes }` and keeps the connection open (an
// end would make the source reconnect). Exits when the parent goes away.

async function feed(file: string): Promise<void> {
  process.on("disconnect", () => process.exit(0));
  const data = readFileSync(file);
  const send = (m: FeederMessage) => process.send?.(m);
  const server = createServer((sock: Socket) => {
    sock.on("error", () => undefined);
    const start = now();
    sock.write(data, () => send({ type: "done", start, end: now(), bytes: data.length }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  send({ type: "ready", port: (server.address() as { port: number }).port });
}

// ---------------------------------------------------------------------------------------------
// Clean-up: every resource registers how to release it; a signal unwinds all.

// ---------------------------------------------------------------------------------------------
// The feeder, seen from the bench

interface FloodDone {
  start: number;
  end: number;
  bytes: number;
}

/** The feeder child process, spoken to over IPC. */
class Feeder extends FeederClient {
  constructor(file: string) {
    super(["--import", "tsx", SELF, "feed", file], ROOT);
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring

/** A pipeline that notes when it last got new lines. */
class TimedPipeline extends Pipeline {
  lastLineAt = 0;

  override push(node: string, chunk: Uint8Array | string, arrival: number | null = null): void {
    const before = this.engine.node(node).lines;
    super.push(node, chunk, arrival);
    if (this.engine.node(node).lines > before) this.lastLineAt = now();
  }

  get count(): number {
    return this.engine.node(NODE).lines;
  }
}

type Mode = "none" | "plain" | "gz";

/** One live flood. */
interface Flood {
  mode: Mode;
  /** Lines the engine counted. */
  counted: number;
  bytes: number;
  seconds: number;
  /** This process's CPU over the flood, in cores. */
  cpu: number;
  dropped: number;
  /** Reconnects of the source during the flood (each would replay the whole feed). */
  reconnects: number;
  /** The recording's file, size, and how long the writer's close took (ms). */
  file?: string;
  fileBytes?: number;
  closeMs?: number;
  /** Console lines in the session, and whether they were the fed lines in order, byte for byte. */
  recorded?: number;
  recordedExact?: boolean;
}

/** The fixed facts of the feed: its lines and what the engine counts of them. */
interface Feed {
  lines: string[];
  bytes: number;
  /** Lines the engine counts when the whole feed goes through a pipeline in one piece. */
  expected: number;
}

async function flood(feeder: Feeder, port: number, dir: string, mode: Mode, run: number, feed: Feed) {
  const label = `${mode === "none" ? "no recording" : `recording${mode === "gz" ? " .gz" : ""}`} #${run + 1}`;
  const mark = cleanupMark();
  const uri = `tcp://127.0.0.1:${port}`;
  const file = mode === "none" ? undefined : path.join(dir, `run${run}.session${mode === "gz" ? ".gz" : ""}`);
  const writer = file ? new SessionWriter(file, { nodes: [{ name: NODE, source: uri }] }) : null;
  if (writer) defer(() => writer.close().catch(() => undefined));
  // Its thread is up before the flood: a recorder starts with the watch, not in the middle of a flood.
  await writer?.ready;
  const hooks = writer ? attachRecorder(writer) : null;
  const options: PipelineOptions = { dedupReplays: true };
  if (hooks) {
    options.onChunk = hooks.onChunk;
    options.onIdle = hooks.onIdle;
    options.onReconnect = hooks.onReconnect;
  }
  const pipeline = new TimedPipeline(options);
  let dropped = 0;
  let reconnects = 0;
  const source = new TcpSource({ host: "127.0.0.1", port });
  const monitor = new Monitor([{ name: NODE, source }], pipeline, {
    onDropped: (_node, lines) => (dropped += lines),
    onStatus: (s) => {
      if (s.state === "connected" && s.gapMs !== undefined) reconnects++;
      hooks?.onStatus(s);
    },
  });
  const done = feeder.next<FloodDone>("done", CONNECT_TIMEOUT_MS + FLOOD_TIMEOUT_MS);
  let finished = false;
  done.then(
    () => {
      finished = true;
    },
    () => {
      finished = true;
    },
  );
  const cpu0 = process.cpuUsage();
  const t0 = now();
  monitor.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await monitor.stop();
  };
  defer(stop);
  let lastCount = 0;
  let lastChange = now();
  for (;;) {
    await sleep(20);
    const s = monitor.statuses.get(NODE);
    if (s?.state === "closed") throw new Error(`${uri} closed: ${s.error ?? "?"}`);
    const count = pipeline.count;
    const t = now();
    if (count !== lastCount) {
      lastCount = count;
      lastChange = t;
    }
    progress(`${label}: ${count} / ${feed.expected} lines`, false);
    if (count >= feed.expected) break;
    if (count === 0 && !finished && t - t0 > CONNECT_TIMEOUT_MS) {
      throw new Error(`no line came in ${CONNECT_TIMEOUT_MS} ms (${uri}: ${s?.state ?? "no status"})`);
    }
    if (finished && t - lastChange > STALL_MS) break;
    if (t - t0 > FLOOD_TIMEOUT_MS) break;
  }
  const cpuUsed = process.cpuUsage(cpu0);
  const d = await done;
  await stop();
  const counted = pipeline.count;
  // From the first byte written to the last line counted: a stalled run does not count the idle wait.
  const seconds = counted > 0 ? (pipeline.lastLineAt - d.start) / 1000 : Number.NaN;
  const result: Flood = {
    mode,
    counted,
    bytes: d.bytes,
    seconds,
    cpu: (cpuUsed.user + cpuUsed.system) / 1000 / (seconds * 1000),
    dropped,
    reconnects,
  };
  if (writer && file) {
    const c0 = now();
    await writer.close();
    result.closeMs = now() - c0;
    result.file = file;
    result.fileBytes = writer.files.reduce((sum, f) => sum + statSync(f).size, 0);
    Object.assign(result, await checkSession(file, feed.lines));
  }
  progress(
    `${label}: ${counted} / ${feed.expected} lines in ${seconds.toFixed(2)} s, ${Math.round(feed.lines.length / seconds)} lines/s${result.recorded === undefined ? "" : `, ${result.recorded} recorded`}`,
    true,
  );
  // The monitor and writer are done; what is left registered (nothing) is dropped with them.
  await unwind(mark);
  return result;
}

/** Reads a session back: how many console lines it holds and whether they are `lines`, in order. */
async function checkSession(file: string, lines: readonly string[]) {
  let recorded = 0;
  let exact = true;
  const warnings: string[] = [];
  for await (const item of readSessionLines(file, (w) => warnings.push(w))) {
    if (!("l" in item)) continue;
    if (item.n !== NODE || item.l !== lines[recorded]) exact = false;
    recorded++;
  }
  if (warnings.length > 0) process.stderr.write(`${file}: ${warnings.join("; ")}\n`);
  return { recorded, recordedExact: exact && recorded === lines.length && warnings.length === 0 };
}

interface Replay {
  counted: number;
  seconds: number;
}

async function replay(file: string): Promise<Replay> {
  const t0 = now();
  const pipeline = await replaySession(file, { speed: "max" });
  return { counted: pipeline.engine.node(NODE).lines, seconds: (now() - t0) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// Report

const best = <T extends { seconds: number }>(runs: T[]): T | undefined =>
  runs
    .filter((r) => Number.isFinite(r.seconds))
    .reduce<T | undefined>((b, r) => (b === undefined || r.seconds < b.seconds ? r : b), undefined);

interface Report {
  feed: Feed;
  floods: Record<Mode, Flood[]>;
  replays: { plain: Replay[]; gz: Replay[] };
}

function lineRate(feed: Feed, seconds: number | undefined): number {
  return seconds === undefined ? Number.NaN : feed.lines.length / seconds;
}

/** How much slower than without recording, as a fraction (from the best runs). */
function slowdown(r: Report, mode: Mode): number {
  const base = best(r.floods.none);
  const rec = best(r.floods[mode]);
  if (!base || !rec) return Number.NaN;
  return 1 - lineRate(r.feed, rec.seconds) / lineRate(r.feed, base.seconds);
}

/**
 * The slowdown of each interleaved round (a recording run against the run without, next to it in time),
 * their median: a second view, less moved by one lucky or unlucky run than best against best.
 */
function roundSlowdown(r: Report, mode: Mode): number {
  const pairs = r.floods[mode]
    .map((f, i) => [f, r.floods.none[i]] as const)
    .filter((p): p is readonly [Flood, Flood] => p[1] !== undefined)
    .map(([f, none]) => 1 - none.seconds / f.seconds)
    .sort((a, b) => a - b);
  if (pairs.length === 0) return Number.NaN;
  const mid = pairs.length >> 1;
  return pairs.length % 2 ? pairs[mid]! : (pairs[mid - 1]! + pairs[mid]!) / 2;
}

function table(r: Report): string {
  const n = r.feed.lines.length;
  const liveCols: Mode[] = ["none", "plain", "gz"];
  const fmt = (x: number | undefined, digits = 0) =>
    x === undefined || Number.isNaN(x) ? "n/a" : digits === 0 ? String(Math.round(x)) : x.toFixed(digits);
  const live = (f: (runs: Flood[], b: Flood | undefined, mode: Mode) => string) =>
    liveCols.map((m) => f(r.floods[m], best(r.floods[m]), m));
  const rep = (f: (runs: Replay[], b: Replay | undefined) => string) =>
    [r.replays.plain, r.replays.gz].map((runs) => f(runs, best(runs)));
  const all = (runs: { counted: number }[]) =>
    runs.length === 0 ? "n/a" : runs.map((x) => String(x.counted)).join(" / ");
  const rows: [string, ...string[]][] = [
    ["", "no recording", "recording", "recording .gz", "replay", "replay .gz"],
    ["lines sent", ...live(() => String(n)), ...rep(() => String(n))],
    [
      `lines counted, each run (of ${r.feed.expected})`,
      ...live((runs) => all(runs)),
      ...rep((runs) => all(runs)),
    ],
    [
      "lines in the session, each run",
      ...live((runs, _b, m) => (m === "none" ? "" : runs.map((x) => String(x.recorded)).join(" / "))),
      "",
      "",
    ],
    [
      "lines/s, each run",
      ...live((runs) => runs.map((x) => fmt(lineRate(r.feed, x.seconds))).join(" / ")),
      ...rep((runs) => runs.map((x) => fmt(lineRate(r.feed, x.seconds))).join(" / ")),
    ],
    [
      "lines/s, best",
      ...live((_r, b) => fmt(lineRate(r.feed, b?.seconds))),
      ...rep((_r, b) => fmt(lineRate(r.feed, b?.seconds))),
    ],
    ["seconds, best", ...live((_r, b) => fmt(b?.seconds, 2)), ...rep((_r, b) => fmt(b?.seconds, 2))],
    [
      "MB/s of console, best",
      ...live((_r, b) => fmt(b ? r.feed.bytes / 1e6 / b.seconds : undefined, 1)),
      ...rep((_r, b) => fmt(b ? r.feed.bytes / 1e6 / b.seconds : undefined, 1)),
    ],
    [
      "slower than no recording",
      ...live((_r, _b, m) => (m === "none" ? "" : `${fmt(slowdown(r, m) * 100, 1)}%`)),
      "",
      "",
    ],
    [
      "slower, median of the rounds",
      ...live((_r, _b, m) => (m === "none" ? "" : `${fmt(roundSlowdown(r, m) * 100, 1)}%`)),
      "",
      "",
    ],
    ["monitor CPU (cores), best", ...live((_r, b) => fmt(b?.cpu, 2)), "", ""],
    ["session file bytes", ...live((_r, b, m) => (m === "none" ? "" : fmt(b?.fileBytes))), "", ""],
    [
      "session bytes/line",
      ...live((_r, b, m) =>
        m === "none" ? "" : fmt(b?.fileBytes === undefined ? undefined : b.fileBytes / n, 1),
      ),
      "",
      "",
    ],
    ["console bytes/line", fmt(r.feed.bytes / n, 1), "", "", "", ""],
    ["writer close ms, best", ...live((_r, b, m) => (m === "none" ? "" : fmt(b?.closeMs, 1))), "", ""],
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!)))
        .join("   "),
    )
    .join("\n");
}

function targets(r: Report): string {
  const floods = [...r.floods.none, ...r.floods.plain, ...r.floods.gz];
  const recordings = [...r.floods.plain, ...r.floods.gz];
  const replays = [...r.replays.plain, ...r.replays.gz];
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const checks: [ok: boolean | null, text: string, detail: string][] = [
    [
      floods.length === 0 ? null : floods.every((f) => f.counted === r.feed.expected && f.dropped === 0),
      "live: every line counted, with and without recording",
      floods.length === 0
        ? "not run"
        : `${floods.filter((f) => f.counted === r.feed.expected && f.dropped === 0).length} of ${floods.length} runs; ${floods.reduce((s, f) => s + f.dropped, 0)} dropped, ${floods.reduce((s, f) => s + f.reconnects, 0)} reconnects`,
    ],
    [
      recordings.length === 0 ? null : recordings.every((f) => f.recordedExact === true),
      "every session holds every line, in order, byte for byte",
      recordings.length === 0
        ? "not run"
        : recordings.map((f) => `${f.recorded}${f.recordedExact ? "" : " (differs)"}`).join(", "),
    ],
    [
      replays.length === 0 ? null : replays.every((x) => x.counted === r.feed.expected),
      "replay: every line counted",
      replays.length === 0 ? "not run" : replays.map((x) => x.counted).join(", "),
    ],
    [
      Number.isNaN(slowdown(r, "plain")) ? null : slowdown(r, "plain") < MAX_SLOWDOWN,
      `recording: under ${pct(MAX_SLOWDOWN)} slower`,
      pct(slowdown(r, "plain")),
    ],
    [
      Number.isNaN(slowdown(r, "gz")) ? null : slowdown(r, "gz") < MAX_SLOWDOWN,
      `recording .gz: under ${pct(MAX_SLOWDOWN)} slower`,
      pct(slowdown(r, "gz")),
    ],
  ];
  return checks
    .map(([ok, text, detail]) =>
      ok === null ? `  n/a   ${text} (${detail})` : `  ${ok ? "PASS" : "FAIL"}  ${text} (${detail})`,
    )
    .join("\n");
}

// ---------------------------------------------------------------------------------------------

/** Generates the feed into `file`, and counts what a pipeline makes of it in one piece. */
function makeFeed(file: string): Feed {
  const t0 = now();
  const lines = [...generateLog({ lines: LINES, seed: 1, node: "mixed" })];
  const text = `${lines.join("\n")}\n`;
  writeFileSync(file, text);
  const bytes = Buffer.byteLength(text);
  const reference = new Pipeline({ dedupReplays: true });
  reference.push(NODE, text, 0);
  reference.end();
  const expected = reference.engine.node(NODE).lines;
  progress(
    `generated ${lines.length} lines (${(bytes / 1e6).toFixed(1)} MB) in ${((now() - t0) / 1000).toFixed(1)} s; a pipeline counts ${expected} of them`,
    true,
  );
  return { lines, bytes, expected };
}

async function main(): Promise<number> {
  cleanUpOnSignals();
  const tmp = tempDir("bench-record");
  defer(tmp.remove);
  // Even a crash leaves no temporary files behind (the feeder exits with its IPC channel).
  process.once("exit", tmp.remove);
  const report: Report = {
    feed: { lines: [], bytes: 0, expected: 0 },
    floods: { none: [], plain: [], gz: [] },
    replays: { plain: [], gz: [] },
  };
  let failure: string | null = null;
  try {
    const feedFile = path.join(tmp.dir, "feed.log");
    report.feed = makeFeed(feedFile);
    const feeder = new Feeder(feedFile);
    const { port } = await feeder.next<{ port: number }>("ready", CONNECT_TIMEOUT_MS);
    // Interleaved, so that a machine getting busier or quieter weighs on every mode alike.
    const kept: Partial<Record<Mode, string>> = {};
    for (let run = 0; run < RUNS && !isInterrupted(); run++) {
      for (const mode of ["none", "plain", "gz"] as const) {
        if (isInterrupted()) break;
        const f = await flood(feeder, port, tmp.dir, mode, run, report.feed);
        report.floods[mode].push(f);
        // One session of each kind is kept for the replay; the others go at once.
        if (f.file) {
          if (kept[mode]) rmSync(kept[mode]!, { force: true });
          kept[mode] = f.file;
        }
        await sleep(200);
      }
    }
    for (let run = 0; run < REPLAYS && !isInterrupted(); run++) {
      for (const mode of ["plain", "gz"] as const) {
        const file = kept[mode];
        if (!file || isInterrupted()) continue;
        const x = await replay(file);
        report.replays[mode].push(x);
        progress(
          `replay${mode === "gz" ? " .gz" : ""} #${run + 1}: ${x.counted} / ${report.feed.expected} lines in ${x.seconds.toFixed(2)} s, ${Math.round(report.feed.lines.length / x.seconds)} lines/s`,
          true,
        );
      }
    }
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e);
    if (!isInterrupted()) process.stderr.write(`\nerror: ${failure}\n`);
  } finally {
    await unwind(0);
    await killAll();
  }
  if (isInterrupted()) return 130;

  console.log(table(report));
  console.log(
    `(${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} at the end)`,
  );
  console.log("");
  console.log("targets");
  console.log(targets(report));
  if (failure) {
    console.log(`\nsetup failed: ${failure.split("\n")[0]}`);
    return 1;
  }
  return 0;
}

if (process.argv[2] === "feed") await feed(process.argv[3]!);
else process.exitCode = await main();
