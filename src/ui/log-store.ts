import type { Severity } from "../engine/alerts.js";

/** One line of the merged log tail. */
export interface LogEntry {
  /** Arrival order across all nodes. */
  seq: number;
  node: string;
  lineNo: number;
  /** The display text (control and escape sequences already removed by the framer). */
  text: string;
  /** Severity of what the line started (a crash, a timeout...), `info` for plain lines. */
  severity: Severity;
}

/** Which lines a view shows. */
export interface LogFilter {
  /** Only this node; all when absent. */
  node?: string;
  /** Only lines at least this severe. */
  minSeverity?: Severity;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2, critical: 3 };

/**
 * The merged console tail: a ring buffer of the newest lines of every node, with a version counter that
 * bumps on every change, and queries for the visible slice only (a view never copies the whole buffer).
 */
export class LogStore {
  private readonly ring: (LogEntry | undefined)[];
  private next = 0;
  private seq = 0;
  version = 0;

  constructor(readonly capacity = 20_000) {
    this.ring = new Array(capacity);
  }

  add(node: string, lineNo: number, text: string): void {
    this.ring[this.next] = { seq: this.seq++, node, lineNo, text, severity: "info" };
    this.next = (this.next + 1) % this.capacity;
    this.version++;
  }

  /** Raises the severity of a line still in the buffer (an event found on it after it was added). */
  mark(node: string, lineNo: number, severity: Severity): void {
    // Events refer to recent lines: look back a little, newest first.
    for (let i = 1; i <= Math.min(this.size, 2000); i++) {
      const e = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (!e) break;
      if (e.node === node && e.lineNo === lineNo) {
        if (RANK[severity] > RANK[e.severity]) {
          e.severity = severity;
          this.version++;
        }
        return;
      }
    }
  }

  /** How many lines are held. */
  get size(): number {
    return Math.min(this.seq, this.capacity);
  }

  /**
   * Up to `count` matching lines ending `skip` matching lines before the newest, oldest first:
   * the rows of a view scrolled up by `skip`.
   */
  view(count: number, filter: LogFilter = {}, skip = 0): LogEntry[] {
    const out: LogEntry[] = [];
    let skipped = 0;
    for (let i = 1; i <= this.size && out.length < count; i++) {
      const e = this.ring[(this.next - i + this.capacity) % this.capacity]!;
      if (!matches(e, filter)) continue;
      if (skipped < skip) {
        skipped++;
        continue;
      }
      out.push(e);
    }
    return out.reverse();
  }

  /** How many held lines match a filter (for scroll bounds). */
  count(filter: LogFilter = {}): number {
    if (!filter.node && !filter.minSeverity) return this.size;
    let n = 0;
    for (let i = 1; i <= this.size; i++)
      if (matches(this.ring[(this.next - i + this.capacity) % this.capacity]!, filter)) n++;
    return n;
  }

  /**
   * The distance from the newest matching line of the next line holding `term` (case-insensitive),
   * searching older (`back`) or newer from distance `from`; null when there is none.
   */
  find(term: string, from: number, back: boolean, filter: LogFilter = {}): number | null {
    const needle = term.toLowerCase();
    const rows: LogEntry[] = [];
    for (let i = 1; i <= this.size; i++) {
      const e = this.ring[(this.next - i + this.capacity) % this.capacity]!;
      if (matches(e, filter)) rows.push(e);
    }
    if (back) {
      for (let d = from + 1; d < rows.length; d++) if (rows[d]!.text.toLowerCase().includes(needle)) return d;
    } else {
      for (let d = from - 1; d >= 0; d--) if (rows[d]!.text.toLowerCase().includes(needle)) return d;
    }
    return null;
  }
}

function matches(e: LogEntry, f: LogFilter): boolean {
  if (f.node && e.node !== f.node) return false;
  if (f.minSeverity && RANK[e.severity] < RANK[f.minSeverity]) return false;
  return true;
}
