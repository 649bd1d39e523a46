import type { CrashEvent, EventType, ParsedEvent, ProfileEvent, ThpoolEvent } from "../parse/events.js";

export type Role = "P" | "M" | "S" | "unknown";

/** One thread-pool sample kept for history (sparklines, trends). */
export interface WorkerSample {
  t: number | null;
  queued: number;
  inHandler: boolean;
  handled?: bigint;
}

/** Samples kept per worker: enough for a screen-wide sparkline, bounded so memory stays flat. */
export const WORKER_HISTORY = 120;

/** What is known about one M thread-pool worker. */
export class WorkerState {
  queued = 0;
  maxQueued = 0;
  inHandler = false;
  handled?: bigint;
  requests?: bigint;
  /** Node time when the current run of samples without progress began (null: it is making progress). */
  stallSince: number | null = null;
  /** Node time since when `queued` has stayed at or above the threshold. */
  deepSince: number | null = null;
  /** Samples in the current runs; one sample alone proves no duration, even when the clock moves on. */
  stallRun = 0;
  deepRun = 0;
  readonly history: WorkerSample[] = [];
  samples = 0;
  last?: ThpoolEvent;

  constructor(readonly id: number) {}

  /** Records a sample and says whether the worker made progress since the previous one. */
  sample(e: ThpoolEvent, t: number | null): boolean {
    const prev = this.last;
    let progressed: boolean;
    if (!e.inHandler) progressed = true;
    else if (!prev?.inHandler) progressed = true;
    else if (e.handled !== undefined && prev.handled !== undefined) progressed = e.handled !== prev.handled;
    else progressed = e.queued < prev.queued;
    this.queued = e.queued;
    this.inHandler = e.inHandler;
    if (e.maxQueued !== undefined) this.maxQueued = e.maxQueued;
    else this.maxQueued = Math.max(this.maxQueued, e.queued);
    if (e.handled !== undefined) this.handled = e.handled;
    if (e.requests !== undefined) this.requests = e.requests;
    this.last = e;
    this.samples++;
    const s: WorkerSample = { t, queued: e.queued, inHandler: e.inHandler };
    if (e.handled !== undefined) s.handled = e.handled;
    this.history.push(s);
    if (this.history.length > WORKER_HISTORY) this.history.shift();
    return progressed;
  }
}

/** What is known about one node: role, boots, clocks, workers, latest counters and profile. */
export class NodeState {
  role: Role = "unknown";
  /** What told us the role. */
  roleFrom?: string;
  lines = 0;
  /** Receive time (ms) of the last line. */
  lastArrival: number | null = null;
  /** Kernel time of the last stamped line. */
  lastTs: number | null = null;
  boots = 0;
  cpus?: number;
  nid?: number;
  version?: string;
  readonly workers = new Map<number, WorkerState>();
  readonly counters: Record<string, Record<string, bigint>> = {};
  profile?: ProfileEvent;
  readonly crashes: CrashEvent[] = [];
  /**
   * The kernel panicked (a report ended in `Kernel panic - not syncing: ...`): the node is down, its
   * CPUs stopped, until it boots again. Its console may well stay connected.
   */
  panicked?: { reason: string; line: number; ts: number | null };
  readonly counts: Partial<Record<EventType, number>> = {};

  constructor(readonly name: string) {}

  worker(id: number): WorkerState {
    let w = this.workers.get(id);
    if (!w) {
      w = new WorkerState(id);
      this.workers.set(id, w);
    }
    return w;
  }

  /** Learns the role from an event that only one kind of node prints. */
  learnRole(e: ParsedEvent): void {
    if (this.role !== "unknown") return;
    let role: Role | undefined;
    switch (e.type) {
      case "boot":
        role = e.role;
        break;
      case "thpool":
      case "stuck_worker":
      case "handler_error":
        role = "M";
        break;
      case "strace":
      case "segfault":
      case "alloc_abort":
      case "process":
        role = "P";
        break;
      case "crash":
      case "warning": {
        const die = e.report.find((l) => / (PROCESSOR|MEMORY)\s*$/.test(l));
        if (die) role = die.trimEnd().endsWith("PROCESSOR") ? "P" : "M";
        break;
      }
    }
    if (role) {
      this.role = role;
      this.roleFrom = e.text;
    }
  }

  /** A reboot: everything learnt about the previous boot but the role and the history of crashes goes. */
  reboot(): void {
    this.boots++;
    this.workers.clear();
    for (const k of Object.keys(this.counters)) delete this.counters[k];
    this.profile = undefined;
    this.panicked = undefined;
  }
}
