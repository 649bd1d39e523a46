import { closeSync, constants, existsSync, mkdirSync, openSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { type LiveNode, Monitor } from "../src/live/monitor.js";
import { Pipeline, type PipelineOptions } from "../src/pipeline.js";
import { SerialSource } from "../src/sources/serial.js";
import type { Source } from "../src/sources/source.js";
import { SshSource } from "../src/sources/ssh.js";
import { TcpSource } from "../src/sources/tcp.js";
import { TestSshd } from "../test/e2e/sshd.js";
import { kill, killAll, spawnTracked, tempDir, waitFor } from "../test/e2e/support.js";
import { cleanUpOnSignals, cleanupMark, defer, isInterrupted, unwind } from "./cleanup.js";
import { FeederClient } from "./feeder-client.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const FEEDER = path.join(ROOT, "bench", "feeder.mjs");

const SERIAL_LINES = 500_000;
const SSH_LINES = 500_000;
/** The paced run: lines/s per source, how long, and how the lines are batched and spiked with alerts. */
const PACE = { rate: 2_500, seconds: 10, batchMs: 10, alertEveryMs: 50 };
/** A flood that makes no progress for this long is over: what has not arrived is lost. */
const STALL_MS = 3_000;
/** Upper bound on one flood, whatever its speed. */
const FLOOD_TIMEOUT_MS = 60_000;
const CONNECT_TIMEOUT_MS = 20_000;

// Targets of the paced run.
const MAX_P99_MS = 50;
const MAX_CPU = 0.3;

/** Monotonic ms, the same clock as the feeder's (`process.hrtime` is CLOCK_MONOTONIC). */
const now = () => Number(process.hrtime.bigint()) / 1e6;

function progress(msg: string, done: boolean): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${msg}${done ? "\n" : ""}`);
  else if (done) process.stderr.write(`${msg}\n`);
}

// ---------------------------------------------------------------------------------------------
// Clean-up: every resource registers how to release it; sections unwind theirs, a signal unwinds all.

cleanUpOnSignals();

// ---------------------------------------------------------------------------------------------
// Processes

/** Spawns a helper the bench owns (in its own process group) and kills it on clean-up. */
function spawnOwned(cmd: string, args: string[], stdio: ("ignore" | "inherit" | "pipe" | "ipc")[]) {
  // Once a signal is cleaning up, nothing new may start behind its back.
  if (isInterrupted()) throw new Error("interrupted");
  const child = spawnTracked(cmd, args, { stdio });
  const state: { error: Error | null } = { error: null };
  child.once("error", (e: NodeJS.ErrnoException) => {
    state.error = e.code === "ENOENT" ? new Error(`${cmd} is not installed`) : e;
  });
  defer(() => kill(child, "SIGKILL"));
  return { child, state };
}

interface FloodDone {
  start: number;
  end: number;
  lines: number;
  bytes: number;
}

interface PaceDone {
  start: number;
  end: number;
  sent: Record<string, number>;
  bytes: Record<string, number>;
  alerts: [caller: string, writtenAt: number][];
  maxLagMs: number;
}

/** bench/feeder.mjs in a child process, spoken to over IPC. */
class Feeder extends FeederClient {
  constructor(args: string[]) {
    super([FEEDER, ...args]);
  }
}

/** A socat pty pair: a source opens `a`, the feeder writes to `b`. */
async function ptyPair(dir: string, name: string): Promise<{ a: string; b: string }> {
  const a = path.join(dir, `${name}A`);
  const b = path.join(dir, `${name}B`);
  const { child, state } = spawnOwned(
    "socat",
    [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`],
    ["ignore", "ignore", "ignore"],
  );
  await waitFor(
    () => {
      if (state.error) throw state.error;
      if (child.exitCode !== null) throw new Error(`socat exited (${child.exitCode})`);
      return existsSync(a) && existsSync(b);
    },
    "socat's pty links",
    5_000,
  );
  // Held open for the whole run: when the last writer of `b` closes, socat sees the end and quits, and
  // what it had not passed on yet would be lost.
  const guard = openSync(b, constants.O_WRONLY | constants.O_NOCTTY);
  defer(() => closeSync(guard));
  return { a, b };
}

// ---------------------------------------------------------------------------------------------
// Measuring

/** A pipeline that notes when a node last got new lines. */
class TimedPipeline extends Pipeline {
  lastLineAt = 0;

  override push(node: string, chunk: Uint8Array | string, arrival: number | null = null): void {
    const before = this.engine.node(node).lines;
    super.push(node, chunk, arrival);
    if (this.engine.node(node).lines > before) this.lastLineAt = now();
  }

  countLines(nodes: readonly string[]): number {
    return nodes.reduce((sum, n) => sum + this.engine.node(n).lines, 0);
  }
}

/** Starts a monitor over `nodes` and waits until every source is connected. */
async function startMonitor(
  nodes: LiveNode[],
  options: PipelineOptions,
): Promise<{ monitor: Monitor; pipeline: TimedPipeline; dropped: () => number }> {
  const pipeline = new TimedPipeline({ dedupReplays: true, ...options });
  let dropped = 0;
  const monitor = new Monitor(nodes, pipeline, { onDropped: (_node, lines) => (dropped += lines) });
  monitor.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await monitor.stop();
  };
  defer(stop);
  await waitFor(
    () => {
      for (const n of nodes) {
        const s = monitor.statuses.get(n.name);
        if (s?.state === "closed")
          throw new Error(`${n.name} (${n.source.describe}) closed: ${s.error ?? "?"}`);
      }
      return nodes.every((n) => monitor.statuses.get(n.name)?.state === "connected");
    },
    `${nodes.map((n) => n.name).join(", ")} to connect`,
    CONNECT_TIMEOUT_MS,
  ).catch((e: Error) => {
    const states = nodes.map((n) => {
      const s = monitor.statuses.get(n.name);
      return `${n.name}: ${s?.state ?? "no status"}${s?.error ? ` (${s.error})` : ""}`;
    });
    throw new Error(`${e.message}; ${states.join(", ")}`);
  });
  return { monitor, pipeline, dropped: () => dropped };
}

/** What one run measured; absent fields do not apply to it. */
interface Result {
  sent: number;
  counted: number;
  dropped: number;
  bytes: number;
  seconds: number;
  cpu: number;
  p50?: number;
  p99?: number;
  maxDelay?: number;
  /** p99 of the delay over the TCP sources and over the ptys. */
  p99Tcp?: number;
  p99Pty?: number;
  alertsSent?: number;
  alertsFired?: number;
  feederLagMs?: number;
  /** How late this process's event loop ran during the paced run (p99 and max), ms. */
  loopDelayP99?: number;
  loopDelayMax?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Floods one source: the feeder writes `lines` lines to `target` as fast as it takes them; the run
 * ends when all have been counted or none came for {@link STALL_MS}.
 */
async function flood(label: string, source: Source, target: string, kind: "pty" | "file", lines: number) {
  const name = label;
  const { monitor, pipeline, dropped } = await startMonitor([{ name, source }], {});
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const feeder = new Feeder(["flood", target, kind, String(lines)]);
  const done = feeder.next<FloodDone>("done", FLOOD_TIMEOUT_MS);
  // Set once the feeder has written everything, or failed (then `done` rejects below).
  let finished = false;
  done.then(
    () => {
      finished = true;
    },
    () => {
      finished = true;
    },
  );
  let lastCount = 0;
  let lastChange = now();
  for (;;) {
    await sleep(50);
    const count = pipeline.countLines([name]);
    const t = now();
    if (count !== lastCount) {
      lastCount = count;
      lastChange = t;
    }
    progress(`${label}: ${count} / ${lines} lines`, false);
    if (count >= lines) break;
    if (finished && t - lastChange > STALL_MS) break;
    if (t - t0 > FLOOD_TIMEOUT_MS) break;
  }
  const cpuUsed = process.cpuUsage(cpu0);
  const d = await done;
  await monitor.stop();
  const counted = pipeline.countLines([name]);
  // From the first write to the last line counted: a run that ends in a stall does not count the idle wait.
  const seconds = counted > 0 ? (pipeline.lastLineAt - d.start) / 1000 : Number.NaN;
  progress(
    `${label}: ${counted} / ${lines} lines in ${seconds.toFixed(2)} s (feeder wrote them in ${((d.end - d.start) / 1000).toFixed(2)} s)`,
    true,
  );
  const result: Result = {
    sent: d.lines,
    counted,
    dropped: dropped(),
    bytes: d.bytes,
    seconds,
    cpu: (cpuUsed.user + cpuUsed.system) / 1000 / (seconds * 1000),
  };
  return result;
}

async function serialFlood(dir: string): Promise<Result> {
  progress("serial: starting socat", true);
  const { a, b } = await ptyPair(dir, "tty");
  return flood("serial", new SerialSource({ path: a, baudRate: 115200 }), b, "pty", SERIAL_LINES);
}

async function sshFlood(dir: string): Promise<Result> {
  progress("ssh: starting a private sshd", true);
  if (!existsSync("/usr/sbin/sshd")) throw new Error("/usr/sbin/sshd is missing: install openssh-server");
  // Log in with the harness key only, whatever agent the caller has.
  delete process.env.SSH_AUTH_SOCK;
  const sshd = new TestSshd(path.join(dir, "sshd"));
  mkdirSync(sshd.dir);
  await sshd.setup();
  defer(() => sshd.stop());
  await sshd.start();
  const source = new SshSource({
    host: "127.0.0.1",
    port: sshd.port,
    identity: sshd.identity,
    knownHostsPath: path.join(dir, "known_hosts"),
    configPath: path.join(dir, "no-ssh-config"),
    acceptNewHostKey: true,
  });
  return flood("ssh", source, sshd.follow, "file", SSH_LINES);
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function paced(dir: string): Promise<Result> {
  progress("paced: starting two pty pairs and the feeder", true);
  const ptys = [await ptyPair(dir, "p0"), await ptyPair(dir, "p1")];
  const specs = [
    { name: "tcp0", kind: "tcp" },
    { name: "tcp1", kind: "tcp" },
    { name: "pty0", kind: "pty", path: ptys[0]!.b },
    { name: "pty1", kind: "pty", path: ptys[1]!.b },
  ];
  const feeder = new Feeder(["pace", JSON.stringify({ ...PACE, sources: specs })]);
  const ready = await feeder.next<{ ports: Record<string, number> }>("ready", 10_000);
  defer(() => feeder.send({ type: "exit" }));
  const tcpConnected = Promise.all([
    feeder.next("connected", CONNECT_TIMEOUT_MS),
    feeder.next("connected", CONNECT_TIMEOUT_MS),
  ]);
  tcpConnected.catch(() => undefined);

  const nodes: LiveNode[] = [
    { name: "tcp0", source: new TcpSource({ host: "127.0.0.1", port: ready.ports.tcp0! }) },
    { name: "tcp1", source: new TcpSource({ host: "127.0.0.1", port: ready.ports.tcp1! }) },
    { name: "pty0", source: new SerialSource({ path: ptys[0]!.a, baudRate: 115200 }) },
    { name: "pty1", source: new SerialSource({ path: ptys[1]!.a, baudRate: 115200 }) },
  ];
  const names = nodes.map((n) => n.name);
  const fired = new Map<string, number>();
  const { monitor, pipeline, dropped } = await startMonitor(nodes, {
    onAlert: (a, change) => {
      if (change !== "fire" || a.rule !== "rpc-timeout") return;
      const m = /caller: (clflush_one_s\d+_\d+)/.exec(a.evidence[0]?.text ?? "");
      if (m) fired.set(m[1]!, now());
    },
  });
  await tcpConnected;
  // Let the connections settle before the clock starts.
  await sleep(200);

  // How late this process's event loop ran: a delay that the loop shows too was spent waiting for a core
  // (or in GC), not in the sources.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  feeder.send({ type: "go" });
  const ticker = setInterval(() => {
    const secs = (now() - t0) / 1000;
    progress(`paced: ${secs.toFixed(0)} / ${PACE.seconds} s, ${pipeline.countLines(names)} lines`, false);
  }, 1000);
  let d: PaceDone;
  try {
    d = await feeder.next<PaceDone>("done", PACE.seconds * 1000 + 20_000);
  } finally {
    clearInterval(ticker);
  }
  const sent = Object.values(d.sent).reduce((a, b) => a + b, 0);
  // What is on its way drains within a few ms; give up when nothing moved for a while.
  let last = -1;
  let lastChange = now();
  for (;;) {
    const count = pipeline.countLines(names);
    if (count >= sent) break;
    if (count !== last) {
      last = count;
      lastChange = now();
    } else if (now() - lastChange > STALL_MS) break;
    await sleep(10);
  }
  const cpuUsed = process.cpuUsage(cpu0);
  const wall = now() - t0;
  loop.disable();
  await monitor.stop();
  const counted = pipeline.countLines(names);

  const delays: number[] = [];
  const byKind: Record<string, number[]> = { tcp: [], pty: [] };
  for (const [caller, at] of d.alerts) {
    const f = fired.get(caller);
    if (f === undefined) continue;
    delays.push(f - at);
    // Callers are named after the source's index in `specs`.
    const kind = specs[Number(/_s(\d+)_/.exec(caller)?.[1])]?.kind;
    if (kind) byKind[kind]!.push(f - at);
  }
  delays.sort((x, y) => x - y);
  for (const k of Object.values(byKind)) k.sort((x, y) => x - y);
  progress(
    `paced: ${counted} / ${sent} lines over ${names.length} sources in ${(wall / 1000).toFixed(1)} s, ${delays.length} / ${d.alerts.length} alerts`,
    true,
  );
  return {
    sent,
    counted,
    dropped: dropped(),
    bytes: Object.values(d.bytes).reduce((a, b) => a + b, 0),
    seconds: (d.end - d.start) / 1000,
    cpu: (cpuUsed.user + cpuUsed.system) / 1000 / wall,
    p50: percentile(delays, 50),
    p99: percentile(delays, 99),
    maxDelay: delays.at(-1) ?? Number.NaN,
    p99Tcp: percentile(byKind.tcp!, 99),
    p99Pty: percentile(byKind.pty!, 99),
    alertsSent: d.alerts.length,
    alertsFired: delays.length,
    feederLagMs: d.maxLagMs,
    loopDelayP99: loop.percentile(99) / 1e6,
    loopDelayMax: loop.max / 1e6,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const COLUMNS = ["serial pty flood", "ssh loopback flood", "4 sources at 10k/s"] as const;

function table(results: (Result | null)[]): string {
  const cell = (f: (r: Result) => string | undefined) => results.map((r) => (r ? (f(r) ?? "n/a") : "n/a"));
  const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? undefined : x.toFixed(1));
  const rows: [string, ...string[]][] = [
    ["", ...COLUMNS],
    ["lines sent", ...cell((r) => String(r.sent))],
    ["lines counted", ...cell((r) => String(r.counted))],
    ["lines lost", ...cell((r) => String(r.sent - r.counted))],
    ["lines dropped by the monitor", ...cell((r) => String(r.dropped))],
    ["bytes/line", ...cell((r) => (r.bytes / r.sent).toFixed(1))],
    ["seconds", ...cell((r) => r.seconds.toFixed(2))],
    ["lines/s", ...cell((r) => String(Math.round(r.counted / r.seconds)))],
    ["MB/s", ...cell((r) => (r.bytes / 1e6 / r.seconds).toFixed(1))],
    ["monitor CPU (cores)", ...cell((r) => r.cpu.toFixed(3))],
    [
      "alerts fired / sent",
      ...cell((r) => (r.alertsSent === undefined ? undefined : `${r.alertsFired} / ${r.alertsSent}`)),
    ],
    ["alert delay p50 ms", ...cell((r) => ms(r.p50))],
    ["alert delay p99 ms", ...cell((r) => ms(r.p99))],
    ["alert delay max ms", ...cell((r) => ms(r.maxDelay))],
    [
      "alert delay p99 ms, tcp / pty",
      ...cell((r) => (r.p99Tcp === undefined ? undefined : `${ms(r.p99Tcp)} / ${ms(r.p99Pty)}`)),
    ],
    [
      "monitor event loop delay p99 / max ms",
      ...cell((r) =>
        r.loopDelayP99 === undefined ? undefined : `${ms(r.loopDelayP99)} / ${ms(r.loopDelayMax)}`,
      ),
    ],
    ["feeder pacing lag max ms", ...cell((r) => ms(r.feederLagMs))],
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

function targets(results: (Result | null)[]): string {
  const [serial, ssh, pace] = results;
  const lossless = (r: Result) =>
    [r.counted === r.sent && r.dropped === 0, `${r.sent - r.counted} of ${r.sent} lost`] as const;
  const checks: [
    r: Result | null | undefined,
    text: string,
    check: (r: Result) => readonly [boolean, string],
  ][] = [
    [serial, "serial pty flood: no line lost", lossless],
    [ssh, "ssh loopback flood: no line lost", lossless],
    [pace, "4 sources at 10k lines/s: no line lost", lossless],
    [
      pace,
      "4 sources: every timeout line raised its alert",
      (r) => [r.alertsFired === r.alertsSent, `${r.alertsFired} of ${r.alertsSent}`],
    ],
    [
      pace,
      `4 sources: alert delay p99 < ${MAX_P99_MS} ms`,
      (r) => [r.p99 !== undefined && r.p99 < MAX_P99_MS, `p99 ${r.p99?.toFixed(1)} ms`],
    ],
    [
      pace,
      `4 sources: monitor CPU < ${MAX_CPU} of one core`,
      (r) => [r.cpu < MAX_CPU, `${r.cpu.toFixed(3)} of one core`],
    ],
  ];
  return checks
    .map(([r, text, check]) => {
      if (!r) return `  n/a   ${text} (not run)`;
      const [ok, detail] = check(r);
      return `  ${ok ? "PASS" : "FAIL"}  ${text} (${detail})`;
    })
    .join("\n");
}

async function main(): Promise<number> {
  const tmp = tempDir("bench-live");
  defer(tmp.remove);
  const runs: [string, (dir: string) => Promise<Result>][] = [
    ["serial", serialFlood],
    ["ssh", sshFlood],
    ["paced", paced],
  ];
  // `node --import tsx bench/live.bench.ts paced` runs only the named parts.
  const only = process.argv.slice(2);
  const unknown = only.filter((o) => !runs.some(([name]) => name === o));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown part ${unknown.join(", ")}; the parts are ${runs.map(([n]) => n).join(", ")}\n`,
    );
    return 2;
  }
  const results: (Result | null)[] = [];
  const failures: string[] = [];
  try {
    for (const [name, run] of runs) {
      if (only.length > 0 && !only.includes(name)) {
        results.push(null);
        continue;
      }
      const dir = path.join(tmp.dir, name);
      mkdirSync(dir);
      const mark = cleanupMark();
      try {
        results.push(await run(dir));
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        failures.push(`${name}: ${msg}`);
        if (!isInterrupted()) process.stderr.write(`\nerror: ${name}: ${msg}\n`);
        results.push(null);
      } finally {
        await unwind(mark);
      }
      if (isInterrupted()) break;
    }
  } finally {
    await unwind(0);
    await killAll();
  }

  console.log(table(results));
  // Other work on the machine shows up as delay: say how busy it was.
  console.log(
    `(${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} at the end)`,
  );
  console.log("");
  console.log("targets");
  console.log(targets(results));
  if (failures.length > 0) {
    console.log(`\nsetup failed: ${failures.map((f) => f.split("\n")[0]).join("; ")}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
