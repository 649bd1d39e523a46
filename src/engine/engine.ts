import type { ParsedEvent } from "../parse/events.js";
import type { LogLine } from "../parse/line.js";
import { type Alert, AlertBook, type AlertChange, type AlertSink } from "./alerts.js";
import { NodeState } from "./node-state.js";
import type { RuleContext } from "./rules/context.js";
import { IbPortRule } from "./rules/ib-port.js";
import { onCrash, onOom, onReboot, onSegfault, onTimeout } from "./rules/incidents.js";
import { checkSilent, heard } from "./rules/silent.js";
import { StallRule, stallDetector } from "./rules/stall.js";
import { StalledRpc } from "./rules/stalled-rpc.js";
import { endStorm, onIbError, StormWindow } from "./rules/storm.js";
import { checkWorker, onSample, onStuckReport } from "./rules/worker.js";
import { DEFAULT_THRESHOLDS } from "./threshold-defaults.js";
import type { Thresholds } from "./thresholds.js";

/** Options of an {@link Engine}. */
export interface EngineOptions {
  thresholds?: Partial<Thresholds>;
  /** Called on every alert change, in order. */
  onAlert?: AlertSink;
  /** Roles known from the configuration; they win over what the console suggests. */
  roles?: Record<string, "P" | "M" | "S">;
}

/** Kernel seconds after a panic past which a node that still prints is taken to be up. */
const ALIVE_AFTER_PANIC_S = 30;

/**
 * Keeps per-node and per-worker state and raises the watchdog alerts. It is fed parsed events and
 * every line (for line counts and silence), plus clock ticks so that "stuck for 20 s" fires with no
 * new line. Per-node rules run on the node's kernel time when there is one, else on receive time.
 * No clock is read here: the same lines, arrival times and ticks always give the same alerts.
 */
export class Engine {
  readonly nodes = new Map<string, NodeState>();
  readonly alerts: AlertBook;
  private readonly ctx: RuleContext;
  private readonly storms = new Map<string, StormWindow>();
  private readonly stalled: StalledRpc;
  private readonly stall: StallRule;
  private readonly ibPort: IbPortRule;
  private readonly roles: Record<string, "P" | "M" | "S">;

  constructor(options: EngineOptions = {}) {
    const th: Thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
    const sink = options.onAlert;
    this.alerts = new AlertBook((a: Alert, change: AlertChange) => {
      if (change !== "resolve") this.stalled?.onStall(a);
      sink?.(a, change);
    });
    this.ctx = { th, book: this.alerts, nodes: this.nodes };
    this.stalled = new StalledRpc(this.ctx);
    this.stall = new StallRule(this.ctx);
    this.ibPort = new IbPortRule(this.ctx);
    this.roles = options.roles ?? {};
  }

  /** The state of a node, created on first sight. */
  node(name: string): NodeState {
    let n = this.nodes.get(name);
    if (!n) {
      n = new NodeState(name);
      const role = this.roles[name];
      if (role) {
        n.role = role;
        n.roleFrom = "configuration";
      }
      this.nodes.set(name, n);
    }
    return n;
  }

  /** Every line of every node passes here, parsed or not. */
  line(l: LogLine): void {
    this.lines(l.node, 1, l.ts, l.arrival, l.lineNo);
  }

  /**
   * `count` lines of `node` that nothing parsed, the last one numbered `lastLine`; `lastTs` is the stamp
   * of the last stamped one (null: none was). The same as {@link line} for each of them.
   */
  lines(node: string, count: number, lastTs: number | null, arrival: number | null, lastLine: number): void {
    const n = this.node(node);
    n.lines += count;
    if (arrival !== null) n.lastArrival = arrival;
    if (lastTs !== null) n.lastTs = lastTs;
    // A panicked kernel's clock stops; one still printing well after its panic is running again (its
    // boot banner was lost), or the panic was not its own.
    const p = n.panicked;
    if (p && p.ts !== null && lastTs !== null && lastTs - p.ts > ALIVE_AFTER_PANIC_S) n.panicked = undefined;
    heard(this.ctx, n, arrival, lastLine);
  }

  /** One parsed event. */
  event(e: ParsedEvent): void {
    const n = this.node(e.node);
    n.counts[e.type] = (n.counts[e.type] ?? 0) + 1;
    n.learnRole(e);
    const t = this.timeOf(n, e);
    const storm = this.storm(n.name);
    if (e.type !== "ib_error") endStorm(this.ctx, n, storm, t);
    this.stall.end(n, t, { ts: t, arrival: e.arrival, line: e.line });
    switch (e.type) {
      case "thpool":
        onSample(this.ctx, n, e, t);
        break;
      case "stuck_worker":
        onStuckReport(this.ctx, n, e);
        break;
      case "ib_error":
        onIbError(this.ctx, n, storm, e, t);
        break;
      case "timeout":
        onTimeout(this.ctx, n, e);
        this.stalled.onTimeout(e);
        break;
      case "crash":
      case "warning": {
        n.crashes.push(e);
        if (n.crashes.length > 100) n.crashes.shift();
        if (e.panic !== undefined) n.panicked ??= { reason: e.panic, line: e.line, ts: e.ts };
        const detector = stallDetector(e);
        if (detector) this.stall.onReport(n, e, detector, t);
        else onCrash(this.ctx, n, e);
        break;
      }
      case "segfault":
        onSegfault(this.ctx, n, e);
        break;
      case "oom":
        onOom(this.ctx, n, e);
        break;
      case "reboot":
        onReboot(this.ctx, n, e);
        this.storms.delete(n.name);
        this.stall.forget(n.name);
        this.ibPort.forget(n.name);
        break;
      case "boot":
        if (e.cpus !== undefined) n.cpus = e.cpus;
        if (e.nid !== undefined) n.nid = e.nid;
        if (e.version !== undefined) n.version = e.version;
        if (e.what === "ib-port") this.ibPort.onPort(n, e, t);
        break;
      case "counters":
        n.counters[e.set] = { ...n.counters[e.set], ...e.values };
        break;
      case "profile":
        n.profile = e;
        break;
    }
  }

  /**
   * The clock moved to `now` (ms since the epoch) with or without new lines: duration rules fire
   * on their own. A node's kernel time is estimated as its last stamp plus the time since that line arrived.
   */
  tick(now: number): void {
    for (const n of this.nodes.values()) {
      checkSilent(this.ctx, n, now);
      const t = this.nowOf(n, now);
      endStorm(this.ctx, n, this.storm(n.name), t);
      this.stall.end(n, t, { ts: t, arrival: now, line: n.lines });
      for (const w of n.workers.values()) checkWorker(this.ctx, n, w, t, undefined, now);
    }
  }

  /** Alerts in the order they fired. */
  get all(): readonly Alert[] {
    return this.alerts.all;
  }

  private storm(node: string): StormWindow {
    let s = this.storms.get(node);
    if (!s) {
      s = new StormWindow();
      this.storms.set(node, s);
    }
    return s;
  }

  /** The node time of an event: its stamp, else the node's last stamp, else its receive time. */
  private timeOf(n: NodeState, e: ParsedEvent): number | null {
    if (e.ts !== null) return e.ts;
    if (n.lastTs !== null) return n.lastTs;
    return e.arrival !== null ? e.arrival / 1000 : null;
  }

  private nowOf(n: NodeState, now: number): number | null {
    if (n.lastTs !== null) return n.lastArrival !== null ? n.lastTs + (now - n.lastArrival) / 1000 : null;
    return now / 1000;
  }
}
