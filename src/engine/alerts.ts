import type { ParsedEvent } from "../parse/events.js";

/** How bad an alert is, in increasing order. */
export const SEVERITIES = ["info", "warning", "error", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Compares severities: negative when `a` is less severe than `b`. */
export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** The watchdog rules. */
export type RuleName =
  | "worker-stuck"
  | "queue-growth"
  | "rpc-timeout"
  | "ib-error-storm"
  | "crash"
  | "stall"
  | "ib-port-down"
  | "warning"
  | "segfault"
  | "oom-kill"
  | "node-silent"
  | "reboot"
  | "stalled-rpc";

/** A line an alert cites. */
export interface Evidence {
  node: string;
  line: number;
  ts: number | null;
  text: string;
}

/** A moment: kernel time of the node (seconds) and receive time (ms since the epoch), either may be unknown. */
export interface When {
  ts: number | null;
  arrival: number | null;
  line: number;
}

/** One watchdog alert. It fires once, may count repeats, and resolves when its condition clears. */
export interface Alert {
  id: string;
  rule: RuleName;
  severity: Severity;
  node: string;
  message: string;
  /** How many times the condition was seen (repeats folded into this alert). */
  count: number;
  first: When;
  last: When;
  /** The lines that show it, first ones first (at most {@link MAX_EVIDENCE}). */
  evidence: Evidence[];
  state: "firing" | "resolved";
}

export const MAX_EVIDENCE = 6;

/** What changed about an alert. */
export type AlertChange = "fire" | "update" | "resolve";

/** Receives every alert change. */
export type AlertSink = (alert: Alert, change: AlertChange) => void;

export function evidenceOf(e: ParsedEvent): Evidence {
  return { node: e.node, line: e.line, ts: e.ts, text: e.text };
}

export function whenOf(e: { ts: number | null; arrival: number | null; line: number }): When {
  return { ts: e.ts, arrival: e.arrival, line: e.line };
}

/**
 * The alerts of a session, keyed so that a repeat of the same condition folds into the firing
 * alert instead of raising another. Ids are sequence numbers: the same input always gives the same ids.
 */
export class AlertBook {
  readonly all: Alert[] = [];
  private readonly firing = new Map<string, Alert>();

  constructor(private readonly sink: AlertSink) {}

  /** The firing alert for a key, if any. */
  get(key: string): Alert | undefined {
    return this.firing.get(key);
  }

  /** Fires a new alert under `key`, or folds this occurrence into the one already firing. */
  raise(
    key: string,
    a: Omit<Alert, "id" | "count" | "first" | "last" | "evidence" | "state">,
    at: When,
    evidence: Evidence[],
    count = 1,
  ): Alert {
    const cur = this.firing.get(key);
    if (cur) {
      cur.count += count;
      cur.last = at;
      cur.message = a.message;
      if (severityRank(a.severity) > severityRank(cur.severity)) cur.severity = a.severity;
      for (const ev of evidence) if (cur.evidence.length < MAX_EVIDENCE) cur.evidence.push(ev);
      this.sink(cur, "update");
      return cur;
    }
    const alert: Alert = {
      ...a,
      id: `${a.rule}#${this.all.length + 1}`,
      count,
      first: at,
      last: at,
      evidence: evidence.slice(0, MAX_EVIDENCE),
      state: "firing",
    };
    this.all.push(alert);
    this.firing.set(key, alert);
    this.sink(alert, "fire");
    return alert;
  }

  /** Resolves the alert firing under `key`. */
  resolve(key: string, at?: When): void {
    const cur = this.firing.get(key);
    if (!cur) return;
    this.firing.delete(key);
    cur.state = "resolved";
    if (at) cur.last = at;
    this.sink(cur, "resolve");
  }

  /** Resolves every firing alert of a node whose key starts with one of `prefixes`. */
  resolveNode(node: string, at: When, keep: (a: Alert) => boolean = () => false): void {
    for (const [key, a] of [...this.firing]) if (a.node === node && !keep(a)) this.resolve(key, at);
  }

  /** Firing alerts, in the order they fired. */
  active(): Alert[] {
    return [...this.firing.values()];
  }
}
