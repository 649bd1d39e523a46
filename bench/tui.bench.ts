/**
 * Benchmark of the screen: the built CLI (`node dist/cli.js`) runs its Ink TUI in a real terminal (a
 * private tmux server, 120x40) while a feeder child process writes 5,000 lines/s to it over two TCP
 * consoles, P and M (2,500 lines/s each, in 10 ms batches, lines from {@link generateLog} so that the
 * workers, the alerts and the log all change). legowatch's CPU and RSS are sampled from /proc once a
 * second.
 *
 * The feed lasts 33 s: a 3 s warm-up, then the 30 s over which CPU is measured. RSS is read 5, 15 and
 * 30 s into the feed. After the feed each console prints an end marker; seeing both on the screen means
 * every line before them went through the parser.
 *
 * Run by `npm run bench` (which builds dist first) after the live bench. A missed target does not fail
 * the run; a setup that breaks (no tmux, legowatch dying or never connecting, the feeder failing) does.
 *
 * `node --import tsx bench/tui.bench.ts feeder CONFIG_JSON` is the feeder itself, started by the bench.
 */

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { killAll, tempDir, waitFor } from "../test/e2e/support.js";
import { cleanUpOnSignals, defer, isInterrupted, unwind } from "./cleanup.js";
import { FeederClient, type FeederMessage } from "./feeder-client.js";
import { generateLog } from "./gen.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SELF = fileURLToPath(import.meta.url);

/** The feed: lines/s per console, for how long, in batches how often. */
const FEED = { rate: 2_500, seconds: 33, batchMs: 10 };
const WARMUP_S = 3;
/** Seconds into the feed at which RSS is reported. */
const RSS_AT = [5, 15, 30] as const;
const SIZE = { columns: 120, rows: 40 };
const CONNECT_TIMEOUT_MS = 20_000;
/** How long the end markers may take to reach the screen once written. */
const CATCH_UP_TIMEOUT_MS = 10_000;
/** How long after the last lines the end markers are written. */
const MARKER_DELAY_MS = 200;
const QUIT_TIMEOUT_MS = 5_000;

// Targets.
const MAX_CPU = 0.3;
const MAX_RSS_GROWTH = 1.25;

/** Monotonic ms, the same clock in the feeder (CLOCK_MONOTONIC). */
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The end marker a console prints after its last line. */
const endMarker = (node: string, lines: number) =>
  `legowatch-bench: end of feed ${node} after ${lines} lines`;

// ---------------------------------------------------------------------------------------------
// The feeder (child process)

interface FeederConfig {
  rate: number;
  seconds: number;
  batchMs: number;
  nodes: { name: string; node: "P" | "M"; seed: number }[];
}

interface FeedDone {
  start: number;
  end: number;
  /** When the end markers were written. */
  markersAt: number;
  sent: Record<string, number>;
  bytes: Record<string, number>;
  maxLagMs: number;
}

async function feeder(cfg: FeederConfig): Promise<void> {
  const send = (m: FeederMessage) => process.send?.(m);
  // The parent going away (even killed) closes the channel: never outlive it.
  process.on("disconnect", () => process.exit(0));
  const total = Math.round(cfg.rate * cfg.seconds);
  const consoles = await Promise.all(
    cfg.nodes.map(async (n) => {
      // Generated up front, so that making them does not disturb the pace.
      const lines = [...generateLog({ lines: total, node: n.node, seed: n.seed })];
      const c = {
        name: n.name,
        lines,
        seq: 0,
        bytes: 0,
        socket: null as Socket | null,
        server: null as Server | null,
      };
      c.server = createServer((sock) => {
        sock.setNoDelay(true);
        sock.on("error", () => undefined);
        c.socket?.destroy();
        c.socket = sock;
        send({ type: "connected", name: n.name });
      });
      await new Promise<void>((resolve, reject) => {
        c.server!.once("error", reject);
        c.server!.listen(0, "127.0.0.1", resolve);
      });
      return c;
    }),
  );
  const ports: Record<string, number> = {};
  for (const c of consoles) ports[c.name] = (c.server!.address() as { port: number }).port;

  const write = (c: (typeof consoles)[number], text: string) => {
    const buf = Buffer.from(text, "utf8");
    c.socket?.write(buf);
    c.bytes += buf.length;
  };
  let start = 0;
  let lastTick = 0;
  let maxLagMs = 0;
  let timer: NodeJS.Timeout | null = null;
  const tick = () => {
    const t = now();
    maxLagMs = Math.max(maxLagMs, t - lastTick - cfg.batchMs);
    lastTick = t;
    const due = Math.min(total, Math.floor(((t - start) * cfg.rate) / 1000));
    for (const c of consoles) {
      if (c.seq >= due) continue;
      write(c, `${c.lines.slice(c.seq, due).join("\n")}\n`);
      c.seq = due;
    }
    if (consoles.every((c) => c.seq >= total)) {
      clearInterval(timer!);
      const end = now();
      // The markers follow the last batches of both consoles, so that both are the newest lines of the
      // log and on the screen together.
      setTimeout(() => {
        const sent: Record<string, number> = {};
        const bytes: Record<string, number> = {};
        for (const c of consoles) {
          sent[c.name] = c.seq;
          bytes[c.name] = c.bytes;
        }
        const markersAt = now();
        for (const c of consoles) {
          // The marker carries the stamp of the last line, so the kernel clock does not move back.
          const st = /^\[\s*\d+\.\d+\]/.exec(c.lines.at(-1) ?? "")?.[0] ?? "";
          write(c, `${st} ${endMarker(c.name, c.seq)}\n`);
        }
        send({ type: "done", start, end, markersAt, sent, bytes, maxLagMs } satisfies FeederMessage &
          FeedDone);
      }, MARKER_DELAY_MS);
    }
  };
  process.on("message", (m: FeederMessage) => {
    if (m?.type === "go" && timer === null) {
      start = now();
      lastTick = start;
      timer = setInterval(tick, cfg.batchMs);
    } else if (m?.type === "exit") {
      if (timer) clearInterval(timer);
      for (const c of consoles) {
        c.socket?.destroy();
        c.server?.close();
      }
      process.disconnect();
    }
  });
  send({ type: "ready", ports });
}

// ---------------------------------------------------------------------------------------------
// Clean-up: every resource registers how to release it; the end or a signal unwinds them all.

function progress(msg: string, done: boolean): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${msg}${done ? "\n" : ""}`);
  else if (done) process.stderr.write(`${msg}\n`);
}

// ---------------------------------------------------------------------------------------------
// The feeder, seen from the bench

class Feeder extends FeederClient {
  constructor(cfg: FeederConfig) {
    super(["--import", "tsx", SELF, "feeder", JSON.stringify(cfg)], ROOT);
  }
}

// ---------------------------------------------------------------------------------------------
// tmux and /proc

/** A private tmux server with one session, `lw`. */
class Tmux {
  constructor(readonly socket: string) {}

  run(...args: string[]): string {
    return execFileSync("tmux", ["-S", this.socket, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  screen(): string {
    return this.run("capture-pane", "-p", "-t", "lw");
  }

  kill(): void {
    try {
      this.run("kill-server");
    } catch {}
  }
}

/** `s` quoted for sh. */
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

/** A `Vm…` field of /proc/PID/status, KiB. */
function vm(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

function clockTicks(): number {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    if (n > 0) return n;
  } catch {}
  return 100;
}

// ---------------------------------------------------------------------------------------------
// The run

interface Sample {
  /** Seconds into the feed. */
  t: number;
  ticks: number;
  rssKib: number;
  tmuxTicks: number | null;
}

interface Result {
  sent: Record<string, number>;
  bytes: number;
  /** ms from writing the end markers until both were on the screen; null when they never were. */
  catchUpMs: number | null;
  cpu: number;
  tmuxCpu: number | null;
  rss: Record<number, number>;
  hwmKib: number;
  feederLagMs: number;
  screen: { nodes: boolean; workers: boolean; alerts: boolean; log: boolean; changed: boolean };
  /** How legowatch quit on `q`. */
  quit: string;
  finalScreen: string;
}

/** The panels of a screen, as far as the bench checks them. */
function panels(screen: string) {
  const lines = screen.split("\n");
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const nodesAt = at(/^─ Nodes /);
  const workersAt = at(/Workers/);
  const logAt = at(/^─ Log /);
  const nodeRows = nodesAt < 0 ? [] : lines.slice(nodesAt + 1, nodesAt + 4);
  const middle = workersAt < 0 || logAt < 0 ? [] : lines.slice(workersAt + 1, logAt);
  const log = logAt < 0 ? [] : lines.slice(logAt + 1).filter((l) => l.trim() !== "");
  return {
    nodes: ["P", "M"].every((n) => nodeRows.some((r) => new RegExp(`^${n}\\s.*connected`).test(r))),
    middle: middle.join("\n"),
    // Rows of M's workers (`M:0 …`) under the Workers title, and alerts firing.
    workers: middle.some((l) => /^M:\d/.test(l)),
    alerts: /Alerts ─ [1-9]\d* firing/.test(screen),
    log,
    logBoth: log.some((l) => l.startsWith("P ")) && log.some((l) => l.startsWith("M ")),
  };
}

async function run(dir: string, tmux: Tmux, clkTck: number): Promise<Result> {
  const cliJs = path.join(ROOT, "dist", "cli.js");
  if (!existsSync(cliJs)) throw new Error("dist/cli.js is missing: run `npm run build` first");
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
  } catch {
    throw new Error("tmux is not installed");
  }

  progress("tui: starting the feeder", true);
  const feeder = new Feeder({
    ...FEED,
    nodes: [
      { name: "P", node: "P", seed: 1 },
      { name: "M", node: "M", seed: 2 },
    ],
  });
  const { ports } = await feeder.next<{ ports: Record<string, number> }>("ready", 30_000);
  const connected = Promise.all([
    feeder.next("connected", CONNECT_TIMEOUT_MS),
    feeder.next("connected", CONNECT_TIMEOUT_MS),
  ]);
  connected.catch(() => undefined);

  progress(`tui: starting legowatch in tmux (${SIZE.columns}x${SIZE.rows})`, true);
  // No user config; the pane stays after legowatch exits, so that what it printed can be read.
  const conf = path.join(dir, "tmux.conf");
  writeFileSync(conf, "set -g remain-on-exit on\nset -g status off\n");
  // `exec`: the pane's process is legowatch itself.
  const cmd = [
    "cd",
    sh(ROOT),
    "&& exec",
    sh(process.execPath),
    "dist/cli.js --no-bell",
    `--crash-store ${sh(path.join(dir, "crashes"))}`,
    `P=tcp://127.0.0.1:${ports.P}`,
    `M=tcp://127.0.0.1:${ports.M}`,
  ].join(" ");
  if (isInterrupted()) throw new Error("interrupted");
  defer(() => tmux.kill());
  tmux.run(
    "-f",
    conf,
    "new-session",
    "-d",
    "-s",
    "lw",
    "-x",
    String(SIZE.columns),
    "-y",
    String(SIZE.rows),
    cmd,
  );
  const tmuxPid = Number(tmux.run("display", "-p", "-t", "lw", "#{pid}").trim());
  const pid = Number(tmux.run("display", "-p", "-t", "lw", "#{pane_pid}").trim());
  // Whatever happens, legowatch does not outlive the bench (killed by its own PID).
  defer(() => {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("dist/cli.js")) process.kill(pid, "SIGKILL");
    } catch {}
  });
  const paneDead = () => tmux.run("display", "-p", "-t", "lw", "#{pane_dead}").trim() === "1";
  const died = () => new Error(`legowatch exited:\n${tmux.screen().trimEnd()}`);
  await waitFor(
    () => {
      if (paneDead()) throw died();
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("dist/cli.js");
    },
    "the pane to exec legowatch",
    5_000,
  );
  await connected;
  await waitFor(
    () => {
      if (paneDead()) throw died();
      return panels(tmux.screen()).nodes;
    },
    () => `both consoles connected on the screen:\n${tmux.screen()}`,
    CONNECT_TIMEOUT_MS,
  );
  await sleep(200);

  const samples: Sample[] = [];
  const sample = (t: number) => {
    let tmuxTicks: number | null = null;
    try {
      tmuxTicks = cpuTicks(tmuxPid);
    } catch {}
    try {
      samples.push({ t, ticks: cpuTicks(pid), rssKib: vm(pid, "VmRSS"), tmuxTicks });
    } catch {
      throw died();
    }
  };
  const t0 = now();
  feeder.send({ type: "go" });
  const done = feeder.next<FeedDone>("done", FEED.seconds * 1000 + 20_000);
  done.catch(() => undefined);
  sample(0);
  let midScreen = "";
  for (let k = 1; k <= FEED.seconds; k++) {
    const wait = t0 + k * 1000 - now();
    if (wait > 0) await sleep(wait);
    if (isInterrupted()) throw new Error("interrupted");
    sample((now() - t0) / 1000);
    if (k === 15) midScreen = tmux.screen();
    const last = samples.at(-1)!;
    progress(`tui: ${k} / ${FEED.seconds} s, RSS ${(last.rssKib / 1024).toFixed(1)} MiB`, false);
  }
  const d = await done;
  const markers = Object.entries(d.sent).map(([n, lines]) => endMarker(n, lines));
  let catchUpMs: number | null = null;
  try {
    await waitFor(
      () => {
        if (paneDead()) throw died();
        const screen = tmux.screen();
        return markers.every((m) => screen.includes(m));
      },
      "the end markers",
      CATCH_UP_TIMEOUT_MS,
    );
    catchUpMs = now() - d.markersAt;
  } catch (e) {
    if (paneDead()) throw e;
  }
  const hwmKib = vm(pid, "VmHWM");
  const finalScreen = tmux.screen();
  progress(
    `tui: ${FEED.seconds} s fed, ${catchUpMs === null ? "the end markers never showed" : `end markers shown ${catchUpMs.toFixed(0)} ms after they were written`}`,
    true,
  );

  // Quit as a person would.
  tmux.run("send-keys", "-t", "lw", "q");
  const q0 = now();
  let quit = `still running after ${QUIT_TIMEOUT_MS / 1000} s`;
  try {
    await waitFor(paneDead, "legowatch to quit", QUIT_TIMEOUT_MS);
    quit = `exited in ${(now() - q0).toFixed(0)} ms`;
    // tmux marks the pane dead when the terminal closes, and knows the status once it has reaped it.
    const status = await waitFor(
      () => tmux.run("display", "-p", "-t", "lw", "#{pane_dead_status}").trim(),
      "the exit status",
      2_000,
    );
    quit = `exit ${status} in ${(now() - q0).toFixed(0)} ms`;
  } catch {}
  feeder.send({ type: "exit" });

  const at = (t: number) =>
    samples.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best));
  const from = at(WARMUP_S);
  const to = at(FEED.seconds);
  const secs = to.t - from.t;
  const rss: Record<number, number> = {};
  for (const t of RSS_AT) rss[t] = at(t).rssKib;
  const fin = panels(finalScreen);
  const mid = panels(midScreen);
  return {
    sent: d.sent,
    bytes: Object.values(d.bytes).reduce((a, b) => a + b, 0),
    catchUpMs,
    cpu: (to.ticks - from.ticks) / clkTck / secs,
    tmuxCpu:
      from.tmuxTicks === null || to.tmuxTicks === null
        ? null
        : (to.tmuxTicks - from.tmuxTicks) / clkTck / secs,
    rss,
    hwmKib,
    feederLagMs: d.maxLagMs,
    screen: {
      nodes: fin.nodes,
      workers: fin.workers,
      alerts: fin.alerts,
      log: fin.logBoth,
      changed: mid.middle !== fin.middle && mid.log.join("\n") !== fin.log.join("\n"),
    },
    quit,
    finalScreen,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;

function table(r: Result): string {
  const sent = Object.values(r.sent).reduce((a, b) => a + b, 0);
  const rows: [string, string][] = [
    ["", `legowatch TUI, ${SIZE.columns}x${SIZE.rows}, 2 x ${FEED.rate} lines/s`],
    ["lines sent (P / M)", `${sent} (${r.sent.P} / ${r.sent.M})`],
    [
      "lines received",
      r.catchUpMs === null ? "not all (end markers not shown)" : `${sent} (both end markers shown)`,
    ],
    ["end markers shown after", r.catchUpMs === null ? "n/a" : `${r.catchUpMs.toFixed(0)} ms`],
    ["bytes/line", (r.bytes / sent).toFixed(1)],
    [`legowatch CPU (cores), ${WARMUP_S}-${FEED.seconds} s`, r.cpu.toFixed(3)],
    ...RSS_AT.map((t): [string, string] => [`RSS at ${t} s`, mib(r.rss[t]!)]),
    [
      `RSS growth ${RSS_AT[0]} s -> ${RSS_AT[2]} s`,
      `${r.rss[RSS_AT[2]]! >= r.rss[RSS_AT[0]]! ? "+" : "-"}${mib(Math.abs(r.rss[RSS_AT[2]]! - r.rss[RSS_AT[0]]!))} (x${(r.rss[RSS_AT[2]]! / r.rss[RSS_AT[0]]!).toFixed(2)})`,
    ],
    ["RSS peak (VmHWM)", mib(r.hwmKib)],
    ["tmux server CPU (cores)", r.tmuxCpu === null ? "n/a" : r.tmuxCpu.toFixed(3)],
    ["feeder pacing lag max", `${r.feederLagMs.toFixed(1)} ms`],
    ["quit on q", r.quit],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const v = Math.max(...rows.map(([, x]) => x.length));
  return rows.map(([k, x]) => `${k.padEnd(w)}   ${x.padStart(v)}`).join("\n");
}

function targets(r: Result): string {
  const growth = r.rss[RSS_AT[2]]! / r.rss[RSS_AT[0]]!;
  const s = r.screen;
  const checks: [boolean, string, string][] = [
    [r.cpu < MAX_CPU, `legowatch CPU < ${MAX_CPU} of one core`, `${r.cpu.toFixed(3)}`],
    [
      growth <= MAX_RSS_GROWTH,
      `RSS flat: at ${RSS_AT[2]} s within ${MAX_RSS_GROWTH}x of ${RSS_AT[0]} s`,
      `x${growth.toFixed(2)}`,
    ],
    [
      r.catchUpMs !== null,
      "every line reached the screen (end markers shown)",
      r.catchUpMs === null ? "no" : "yes",
    ],
    [
      s.nodes && s.workers && s.alerts && s.log,
      "the screen shows P and M connected, workers, alerts and a log of both",
      Object.entries(s)
        .filter(([k]) => k !== "changed")
        .map(([k, ok]) => `${k} ${ok ? "ok" : "missing"}`)
        .join(", "),
    ],
    [s.changed, "workers/alerts and the log changed between 15 s and the end", s.changed ? "yes" : "no"],
  ];
  return checks.map(([ok, text, detail]) => `  ${ok ? "PASS" : "FAIL"}  ${text} (${detail})`).join("\n");
}

async function main(): Promise<number> {
  cleanUpOnSignals();
  const tmp = tempDir("bench-tui");
  defer(tmp.remove);
  const tmux = new Tmux(path.join(tmp.dir, "tmux.sock"));
  let result: Result;
  try {
    result = await run(tmp.dir, tmux, clockTicks());
  } catch (e) {
    // A signal is cleaning up and exiting: what broke is its doing.
    if (isInterrupted()) return 130;
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`\nerror: tui: ${msg}\n`);
    console.log(`\nsetup failed: ${msg.split("\n")[0]}`);
    return 1;
  } finally {
    await unwind();
    await killAll();
  }
  console.log(table(result));
  console.log(
    `(${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} at the end)`,
  );
  console.log("");
  console.log("targets");
  console.log(targets(result));
  const s = result.screen;
  if (!(s.nodes && s.workers && s.alerts && s.log)) console.log(`\nthe final screen:\n${result.finalScreen}`);
  return 0;
}

if (process.argv[2] === "feeder") await feeder(JSON.parse(process.argv[3]!) as FeederConfig);
else process.exitCode = await main();
