import { type ChildProcess, spawn } from "node:child_process";
import stripAnsi from "strip-ansi";
import type { Alert, AlertChange } from "../engine/alerts.js";
import { alertJson } from "../headless/json.js";

/** Options of an {@link AlertHook}. */
export interface AlertHookOptions {
  /** A shell command line, run with `/bin/sh -c` for each new alert. */
  command: string;
  /** Alerts passed to the hook per minute at most; the others are counted and reported once the minute is over. Default 30. */
  maxPerMinute?: number;
  /** A run taking longer is killed (its process group: SIGTERM, then SIGKILL a second later), ms. Default 10000. */
  timeoutMs?: number;
  /** Runs at the same time at most. Default 4. */
  concurrency?: number;
  /** Alerts waiting for a free run at most; beyond, they are dropped, counted and reported. Default 100. */
  maxQueued?: number;
  /** The length of the rate-limit window, ms (tests shorten it). Default 60000. */
  windowMs?: number;
  /** One line for each failed, killed or missing command, and for each count of alerts not passed on. Never throws. */
  onError: (msg: string) => void;
}

/** One alert as the hook receives it, captured when it fired (the alert object keeps changing afterwards). */
interface Job {
  json: string;
  rule: string;
  severity: string;
  node: string;
}

interface Run {
  child: ChildProcess;
  done: Promise<void>;
  /** Kills the run's process group at once. */
  kill(): void;
}

/** Grace between SIGTERM and SIGKILL, and after SIGKILL before a run is given up on, ms. */
const KILL_GRACE_MS = 1000;
/** Bytes of a run's stderr kept, for its last line. */
const STDERR_TAIL = 4096;
const COMMAND_SHOWN = 80;

/**
 * Runs a user command for every new alert (`--on-alert CMD`): the alert as one JSON object on its stdin
 * (the `--json` alert schema) and `LEGOWATCH_RULE`, `LEGOWATCH_SEVERITY`, `LEGOWATCH_NODE` in its
 * environment. {@link alert} only queues: commands run in the background, a few at a time, from a bounded
 * queue, so a slow or hanging command never holds up the consoles. At most `maxPerMinute` alerts a minute
 * reach the command; what is held back or dropped is counted and reported in one line through `onError`,
 * as is every command that fails, hangs (and is killed) or cannot be found.
 */
export class AlertHook {
  private readonly command: string;
  private readonly maxPerMinute: number;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly windowMs: number;
  private readonly onError: (msg: string) => void;

  private readonly queue: Job[] = [];
  private readonly running = new Set<Run>();
  private closed = false;
  /** Set when {@link close} stops waiting: nothing more is started. */
  private abandoned = false;
  private pumpScheduled = false;

  /** Start of the current rate-limit window (ms, Date.now), null when no alert came in the last window. */
  private windowStart: number | null = null;
  private passedInWindow = 0;
  /** Alerts held back by the rate limit in the current window. */
  private limited = 0;
  private windowTimer: NodeJS.Timeout | null = null;
  /** Alerts dropped because the queue was full, not yet reported. */
  private overflowed = 0;

  constructor(o: AlertHookOptions) {
    this.command = o.command;
    this.maxPerMinute = Math.max(0, o.maxPerMinute ?? 30);
    this.timeoutMs = Math.max(1, o.timeoutMs ?? 10_000);
    this.concurrency = Math.max(1, o.concurrency ?? 4);
    this.maxQueued = Math.max(0, o.maxQueued ?? 100);
    this.windowMs = Math.max(1, o.windowMs ?? 60_000);
    this.onError = o.onError;
  }

  /** An alert changed (an {@link AlertSink}): a new one (`fire`) is passed to the command; the rest are ignored. */
  alert(a: Alert, change: AlertChange): void {
    if (change !== "fire" || this.closed) return;
    try {
      if (!this.admit()) return;
      if (this.queue.length >= this.maxQueued) {
        this.overflowed++;
        return;
      }
      this.queue.push({ json: alertJson(a), rule: a.rule, severity: a.severity, node: a.node });
      // Even starting a process (a fork) is left out of the caller's turn.
      if (!this.pumpScheduled) {
        this.pumpScheduled = true;
        setImmediate(() => {
          this.pumpScheduled = false;
          this.pump();
        });
      }
    } catch (err) {
      this.report(`could not pass an alert to the hook: ${oneLine(err)}`);
    }
  }

  /** Runs running or queued, for tests and status. */
  get pending(): number {
    return this.running.size + this.queue.length;
  }

  /**
   * Stops taking alerts and waits for the runs in progress and those queued, up to `waitMs` (default
   * 5000); then kills what still runs and reports what was never run. Never rejects.
   */
  async close(waitMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pump();
    const deadline = Date.now() + Math.max(0, waitMs);
    while (this.running.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await Promise.race([Promise.race([...this.running].map((r) => r.done)), sleep(left)]);
    }
    this.abandoned = true;
    if (this.queue.length > 0) {
      const n = this.queue.length;
      this.report(`${n} alert${n === 1 ? "" : "s"} not passed to the hook (shutting down)`);
      this.queue.length = 0;
    }
    if (this.running.size > 0) {
      const runs = [...this.running];
      for (const r of runs) r.kill();
      await Promise.race([Promise.all(runs.map((r) => r.done)), sleep(2 * KILL_GRACE_MS)]);
    }
    this.endWindow();
    this.reportOverflow();
  }

  /** Applies the rate limit: true when the alert may go to the hook. */
  private admit(): boolean {
    const now = Date.now();
    if (this.windowStart !== null && now - this.windowStart >= this.windowMs) this.endWindow();
    if (this.windowStart === null) {
      this.windowStart = now;
      this.passedInWindow = 0;
    }
    if (this.passedInWindow < this.maxPerMinute) {
      this.passedInWindow++;
      return true;
    }
    this.limited++;
    if (!this.windowTimer) {
      this.windowTimer = setTimeout(
        () => this.endWindow(),
        Math.max(0, this.windowStart + this.windowMs - now),
      );
      this.windowTimer.unref();
    }
    return false;
  }

  /** The rate-limit window is over: says how many alerts it held back, and starts afresh. */
  private endWindow(): void {
    if (this.windowTimer) clearTimeout(this.windowTimer);
    this.windowTimer = null;
    this.windowStart = null;
    this.passedInWindow = 0;
    if (this.limited > 0) {
      const n = this.limited;
      this.limited = 0;
      this.report(`${n} alert${n === 1 ? "" : "s"} not passed to the hook (rate limit)`);
    }
  }

  private reportOverflow(): void {
    if (this.overflowed === 0) return;
    const n = this.overflowed;
    this.overflowed = 0;
    this.report(
      `${n} alert${n === 1 ? "" : "s"} not passed to the hook (queue full: the command is too slow)`,
    );
  }

  /** Starts queued runs while there is room. */
  private pump(): void {
    if (this.abandoned) return;
    while (this.running.size < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.start(job);
    }
    if (this.queue.length === 0) this.reportOverflow();
  }

  private start(job: Job): void {
    let child: ChildProcess;
    try {
      child = spawn("/bin/sh", ["-c", this.command], {
        // Its own process group, so that a timeout kills what the shell started too, and so that the
        // terminal's Ctrl-C reaches legowatch only. Its stdout is not ours to print (the screen).
        detached: true,
        stdio: ["pipe", "ignore", "pipe"],
        env: {
          ...process.env,
          LEGOWATCH_RULE: job.rule,
          LEGOWATCH_SEVERITY: job.severity,
          LEGOWATCH_NODE: job.node,
        },
      });
    } catch (err) {
      this.report(`${this.shown()}: could not start: ${oneLine(err)}`);
      return;
    }

    let stderr = "";
    let spawnError: Error | null = null;
    let timedOut = false;
    let code: number | null = null;
    let signal: NodeJS.Signals | null = null;
    let killTimer: NodeJS.Timeout | null = null;
    let giveUpTimer: NodeJS.Timeout | null = null;

    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        try {
          child.kill(sig);
        } catch {
          // Already gone.
        }
      }
    };

    let resolveDone!: () => void;
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    const run: Run = {
      child,
      done,
      kill: () => {
        killGroup("SIGKILL");
        giveUpTimer ??= setTimeout(finish, KILL_GRACE_MS);
      },
    };
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      if (giveUpTimer) clearTimeout(giveUpTimer);
      child.stderr?.destroy();
      child.stdin?.destroy();
      this.running.delete(run);
      const failure = describeFailure(spawnError, timedOut, this.timeoutMs, code, signal);
      if (failure) {
        const last = lastLine(stderr);
        this.report(`${this.shown()}: ${failure}${last ? `: ${last}` : ""}`);
      }
      resolveDone();
      this.pump();
    };

    const timer = setTimeout(() => {
      timedOut = true;
      killGroup("SIGTERM");
      killTimer = setTimeout(() => {
        killGroup("SIGKILL");
        giveUpTimer = setTimeout(finish, KILL_GRACE_MS);
      }, KILL_GRACE_MS);
    }, this.timeoutMs);

    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (s: string) => {
      stderr = (stderr + s).slice(-STDERR_TAIL);
    });
    child.stderr?.on("error", () => {});
    // A command that does not read its input may exit before it is written: EPIPE is not its failure.
    child.stdin?.on("error", () => {});
    child.on("error", (err) => {
      spawnError = err;
      finish();
    });
    child.on("exit", (c, s) => {
      code = c;
      signal = s;
    });
    child.on("close", (c, s) => {
      code ??= c;
      signal ??= s;
      finish();
    });

    this.running.add(run);
    child.stdin?.end(`${job.json}\n`);
  }

  private shown(): string {
    const c = this.command.replace(/\s+/g, " ").trim();
    return `--on-alert "${c.length > COMMAND_SHOWN ? `${c.slice(0, COMMAND_SHOWN - 1)}…` : c}"`;
  }

  private report(msg: string): void {
    try {
      this.onError(msg);
    } catch {
      // The reporter's own failure must not reach the pipeline.
    }
  }
}

function describeFailure(
  spawnError: Error | null,
  timedOut: boolean,
  timeoutMs: number,
  code: number | null,
  signal: NodeJS.Signals | null,
): string | null {
  if (spawnError) return `could not start: ${oneLine(spawnError)}`;
  if (timedOut) return `killed after ${formatMs(timeoutMs)} (timeout)${signal ? `, ${signal}` : ""}`;
  if (signal) return `killed by ${signal}`;
  if (code === 127) return "exit code 127 (command not found)";
  if (code === 126) return "exit code 126 (not executable)";
  if (code !== null && code !== 0) return `exit code ${code}`;
  return null;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** The last non-blank line of a command's stderr, cleaned of escape sequences and control bytes. */
function lastLine(s: string): string {
  const lines = stripAnsi(s)
    .split(/\r?\n|\r/)
    .map((l) => l.replace(/[\x00-\x1f\x7f]/g, "").trim())
    .filter((l) => l.length > 0);
  const last = lines[lines.length - 1] ?? "";
  return last.length > 200 ? `${last.slice(0, 199)}…` : last;
}

function oneLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.replace(/\s+/g, " ").trim();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
