import type { CrashKnowledge } from "../crash/knowledge.js";
import type { Alert, Severity } from "../engine/alerts.js";
import type { Engine } from "../engine/engine.js";
import type { NodeStatus } from "../live/monitor.js";
import type { ParsedEvent } from "../parse/events.js";
import type { LogLine } from "../parse/line.js";
import { LogStore } from "./log-store.js";
import { profileHistoryOf } from "./profile-history.js";

/** Severity a log line gets from the event it starts. */
const EVENT_SEVERITY: Partial<Record<ParsedEvent["type"], Severity>> = {
  crash: "critical",
  stuck_worker: "critical",
  timeout: "critical",
  ib_error: "error",
  segfault: "error",
  oom: "error",
  alloc_abort: "error",
  handler_error: "error",
  warning: "warning",
  reboot: "warning",
  corruption: "warning",
};

/** A node's source status, with when it was last set. */
export interface StatusView extends NodeStatus {
  at: number;
}

/**
 * How often data changes reach the screen: 5 frames a second. A console read by a person needs no
 * more, and each frame costs Ink a full layout and diff; keys still redraw at once.
 */
export const FRAME_MS = 200;

/**
 * What the screen shows, read-only: the engine's state, the log tail and the sources' statuses. Feeds
 * arrive at any rate; subscribers are told at most once per `frameMs`, so redraws are throttled and
 * independent of how fast lines come. Components read it through {@link useModel}; nothing here parses.
 */
export class UiModel {
  readonly log: LogStore;
  readonly statuses = new Map<string, StatusView>();
  /** Alerts acknowledged by the user, with the count they had then: a change shows them again. */
  readonly acked = new Map<string, number>();
  /** Bumps on every batch of changes. */
  version = 0;
  /** The newest critical alert not yet announced by a bell. */
  bell = 0;
  /** Symbolized frames and crash history, when the run learns about crashes (see {@link learnFrom}). */
  knowledge: CrashKnowledge | undefined;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly engine: Engine,
    private readonly now: () => number = Date.now,
    readonly frameMs = FRAME_MS,
    logCapacity = 20_000,
  ) {
    this.log = new LogStore(logCapacity);
  }

  /** Shows what `k` learns about crashes, redrawing as it arrives. */
  learnFrom(k: CrashKnowledge | undefined): void {
    this.knowledge = k;
    k?.subscribe(() => this.touch());
  }

  /** The wall clock, for ages and countdowns. */
  clock(): number {
    return this.now();
  }

  /** Pipeline hook: every line. */
  readonly onLine = (l: LogLine): void => {
    this.log.add(l.node, l.lineNo, l.text);
    this.touch();
  };

  /** Pipeline hook: every event. */
  readonly onEvent = (e: ParsedEvent): void => {
    const sev = EVENT_SEVERITY[e.type];
    if (sev) this.log.mark(e.node, e.line, sev);
    // Every table is remembered as it comes, so the profile view can show what changed since the last.
    if (e.type === "profile") profileHistoryOf(this).sync(this.engine.nodes);
    this.touch();
  };

  /** Engine hook: alert changes. */
  readonly onAlert = (a: Alert): void => {
    if (a.severity === "critical" && a.count === 1 && a.state === "firing") this.bell++;
    this.touch();
  };

  /** Monitor hook: source status changes. */
  readonly onStatus = (s: NodeStatus): void => {
    // A node is on screen from the moment its source reports, not only once it has printed.
    this.engine.node(s.node);
    this.statuses.set(s.node, { ...s, at: this.now() });
    this.touch();
  };

  /** Hides an alert until its count changes. */
  acknowledge(a: Alert): void {
    this.acked.set(a.id, a.count);
    this.touch();
  }

  /** True when an alert is acknowledged and has not changed since. */
  isAcked(a: Alert): boolean {
    return this.acked.get(a.id) === a.count;
  }

  /** Something changed that the screen should show (a clock tick, a key). */
  touch(): void {
    this.dirty = true;
    if (this.timer || this.listeners.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.dirty) return;
      this.dirty = false;
      this.version++;
      for (const l of this.listeners) l();
    }, this.frameMs);
    this.timer.unref?.();
  }

  /** For `useSyncExternalStore`. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getVersion = (): number => this.version;

  /** Pushes pending changes to subscribers now (tests, and the last frame before exit). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.dirty = false;
    this.version++;
    for (const l of this.listeners) l();
  }
}
