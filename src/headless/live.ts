import type { Writable } from "node:stream";
import { type CrashNotes, type DumpEvent, describeNotes, dumpTitle, withNotes } from "../crash/knowledge.js";
import { type Alert, type AlertChange, type Severity, severityRank } from "../engine/alerts.js";
import { type LiveNode, Monitor, type NodeStatus } from "../live/monitor.js";
import { type WatchOptions, watchPipelineOptions } from "../live/watch.js";
import { Pipeline } from "../pipeline.js";
import { alertJson } from "./json.js";
import { summary } from "./summary.js";

/** Options of {@link runHeadless}; its `knowledge` is printed after the crash's alert. */
export interface HeadlessOptions extends WatchOptions {
  json: boolean;
  failOn?: Severity;
  stdout: Writable;
  stderr: Writable;
  /** Resolves when the user asks to stop (SIGINT, SIGTERM). */
  stopRequested: Promise<void>;
  /** The clock tick, ms. */
  tickMs?: number;
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/**
 * Watches the nodes live without a screen: alerts are printed the moment they fire (text, or JSON
 * lines with the same schema as `scan`), source status changes go to stderr. Returns the exit code:
 * 1 as soon as an alert at or above `failOn` fires, else 0 when stopped or when every source closed.
 */
export async function runHeadless(nodes: readonly LiveNode[], o: HeadlessOptions): Promise<number> {
  let failed: () => void = () => {};
  const failure = new Promise<void>((resolve) => {
    failed = resolve;
  });
  let code = 0;
  const pipeline = new Pipeline({
    ...watchPipelineOptions(o),
    onEvent: (e) => {
      o.knowledge?.offer(e);
    },
    onAlert: (a, change) => {
      o.hooks?.onAlert?.(a, change);
      printAlert(o, a, change);
      if (change === "fire" && o.failOn && severityRank(a.severity) >= severityRank(o.failOn)) {
        code = 1;
        failed();
      }
    },
  });
  o.hooks?.onStart?.(pipeline);
  o.knowledge?.subscribe((e, n) => printNotes(o, e, n));
  let allClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    allClosed = resolve;
  });
  const monitor = new Monitor(nodes, pipeline, {
    tickMs: o.tickMs,
    onStatus: (s) => {
      o.hooks?.onStatus?.(s);
      o.stderr.write(`${statusLine(s)}\n`);
      if (monitor.allClosed) allClosed();
    },
    onDropped: (node, lines) =>
      o.stderr.write(
        `${clock(Date.now())} ${node}: fell behind, dropped ${lines} line${lines === 1 ? "" : "s"}\n`,
      ),
  });
  monitor.start();
  await Promise.race([o.stopRequested, failure, closed]);
  await monitor.stop();
  await o.knowledge?.settle();
  const text = summary(pipeline.engine);
  (o.json ? o.stderr : o.stdout).write(text);
  return code;
}

/** Prints one alert change as headless output does: JSON lines, or text with evidence. */
export function printAlert(o: { json: boolean; stdout: Writable }, a: Alert, change: AlertChange): void {
  if (change === "update") return;
  if (o.json) {
    o.stdout.write(`${alertJson(a)}\n`);
    return;
  }
  const when = clock(a.last.arrival ?? Date.now());
  if (change === "resolve") {
    o.stdout.write(`${when} resolved ${a.rule} on ${a.node}: ${a.message}\n`);
    return;
  }
  const lines = [`${when} ${a.severity.toUpperCase().padEnd(8)} ${a.rule} on ${a.node}: ${a.message}`];
  for (const e of a.evidence) lines.push(`    ${e.node}:${e.line}  ${e.text}`);
  o.stdout.write(`${lines.join("\n")}\n`);
}

/**
 * What was learnt about a crash, printed after its alert: text (`12:00:03 P:157 BUG: ... in f: new;
 * guilty fs/x.c:12`), or a JSON line `{"type":"crash_notes","node","line","title","history",
 * "guilty_file","frames"}` with the fields of `scan --json`'s crash events.
 */
export function printNotes(o: { json: boolean; stdout: Writable }, e: DumpEvent, n: CrashNotes): void {
  const full = withNotes(e, n) as DumpEvent & Record<string, unknown>;
  const title = dumpTitle(e);
  if (o.json) {
    const { node, line, frames, history, guilty_file, ip_file, symbolize_note, store_error } = full;
    const notes = {
      type: "crash_notes",
      node,
      line,
      title,
      history,
      guilty_file,
      ip_file,
      symbolize_note,
      store_error,
    };
    o.stdout.write(`${JSON.stringify(n.symbolized ? { ...notes, frames } : notes)}\n`);
    return;
  }
  const said = describeNotes(n);
  if (said) o.stdout.write(`${clock(Date.now())} ${e.node}:${e.line} ${title}: ${said}\n`);
}

/** One status line: `12:00:01 M: retrying in 2.0 s (connection refused)`, at `at` (ms; default now). */
export function statusLine(s: NodeStatus, at: number = Date.now()): string {
  const parts = [`${clock(at)} ${s.node}: ${s.state}`];
  if (s.detail) parts.push(s.detail);
  if (s.retryInMs !== undefined) parts.push(`in ${(s.retryInMs / 1000).toFixed(1)} s`);
  if (s.gapMs !== undefined) parts.push(`after a ${(s.gapMs / 1000).toFixed(1)} s gap`);
  let line = parts.join(" ");
  if (s.error) line += ` (${s.error})`;
  return line;
}
