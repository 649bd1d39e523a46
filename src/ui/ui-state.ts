import type { Severity } from "../engine/alerts.js";

/** Which list the arrow keys move. */
export type Focus = "alerts" | "log";

/** The screen's own state: focus, views, selection, log filter and scroll. Data lives in the model. */
export interface UiState {
  focus: Focus;
  view: "main" | "crash" | "profile" | "help";
  /** Index into the visible (unacknowledged, newest first) alerts. */
  alert: number;
  /** The alert whose crash report the crash view shows. */
  crashAlert: string | null;
  /** Rows scrolled in the crash view. */
  crashScroll: number;
  log: {
    node: string | null;
    minSeverity: Severity | null;
    /** Lines scrolled up from the newest; 0 follows the tail. */
    skip: number;
    search: string | null;
    /** Typing a search after `/`. */
    typing: string | null;
  };
}

export const INITIAL_STATE: UiState = {
  focus: "alerts",
  view: "main",
  alert: 0,
  crashAlert: null,
  crashScroll: 0,
  log: { node: null, minSeverity: null, skip: 0, search: null, typing: null },
};

/** Everything a key can do. */
export type UiAction =
  | { type: "focus-next" }
  | { type: "view"; view: UiState["view"] }
  | { type: "select-alert"; delta: number; count: number }
  | { type: "open-crash"; alertId: string }
  | { type: "crash-scroll"; delta: number; max: number }
  | { type: "log-scroll"; delta: number; max: number }
  | { type: "log-follow" }
  | { type: "log-skip"; skip: number }
  | { type: "log-node"; nodes: readonly string[] }
  | { type: "log-severity" }
  | { type: "search-start" }
  | { type: "search-type"; text: string }
  | { type: "search-end"; commit: boolean };

const SEVERITY_CYCLE: (Severity | null)[] = [null, "warning", "error", "critical"];

/** The screen's state machine: a pure reducer, tested without React. */
export function reduce(s: UiState, a: UiAction): UiState {
  switch (a.type) {
    case "focus-next":
      return { ...s, focus: s.focus === "alerts" ? "log" : "alerts" };
    case "view":
      return { ...s, view: s.view === a.view ? "main" : a.view, crashScroll: 0 };
    case "select-alert":
      return { ...s, alert: clamp(s.alert + a.delta, 0, Math.max(0, a.count - 1)) };
    case "open-crash":
      return { ...s, view: "crash", crashAlert: a.alertId, crashScroll: 0 };
    case "crash-scroll":
      return { ...s, crashScroll: clamp(s.crashScroll + a.delta, 0, Math.max(0, a.max)) };
    case "log-scroll":
      return { ...s, log: { ...s.log, skip: clamp(s.log.skip + a.delta, 0, Math.max(0, a.max)) } };
    case "log-follow":
      return { ...s, log: { ...s.log, skip: 0 } };
    case "log-skip":
      return { ...s, log: { ...s.log, skip: Math.max(0, a.skip) } };
    case "log-node": {
      const all: (string | null)[] = [null, ...a.nodes];
      const i = all.indexOf(s.log.node);
      return { ...s, log: { ...s.log, node: all[(i + 1) % all.length] ?? null, skip: 0 } };
    }
    case "log-severity": {
      const i = SEVERITY_CYCLE.indexOf(s.log.minSeverity);
      return {
        ...s,
        log: { ...s.log, minSeverity: SEVERITY_CYCLE[(i + 1) % SEVERITY_CYCLE.length] ?? null, skip: 0 },
      };
    }
    case "search-start":
      return { ...s, focus: "log", log: { ...s.log, typing: "" } };
    case "search-type":
      return { ...s, log: { ...s.log, typing: a.text } };
    case "search-end":
      return {
        ...s,
        log: { ...s.log, typing: null, search: a.commit ? s.log.typing || null : s.log.search },
      };
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
