import type { Writable } from "node:stream";
import type { CrashKnowledge } from "../crash/knowledge.js";
import { type Severity, severityRank } from "../engine/alerts.js";
import type { Thresholds } from "../engine/thresholds.js";
import { replaySession } from "../record/replay.js";
import { printAlert, printNotes, statusLine } from "./live.js";
import { summary } from "./summary.js";

/** Options of {@link replayHeadless}. */
export interface ReplayHeadlessOptions {
  speed: number | "max";
  from?: number;
  json: boolean;
  failOn?: Severity;
  thresholds?: Partial<Thresholds>;
  stdout: Writable;
  stderr: Writable;
  signal?: AbortSignal;
  /** Symbolizes the replayed crashes and records them in the crash store (`--store`). */
  knowledge?: CrashKnowledge;
}

/**
 * Plays a recorded session as headless live output did: alerts as they fire, source status on stderr at
 * its recorded time, the summary at the end. Returns 1 when an alert at or above `failOn` fired.
 */
export async function replayHeadless(path: string, o: ReplayHeadlessOptions): Promise<number> {
  let code = 0;
  o.knowledge?.subscribe((e, n) => printNotes(o, e, n));
  const pipeline = await replaySession(path, {
    speed: o.speed,
    from: o.from,
    thresholds: o.thresholds,
    signal: o.signal,
    onWarning: (msg) => o.stderr.write(`legowatch: ${msg}\n`),
    onStatus: (s, at) => o.stderr.write(`${statusLine(s, at)}\n`),
    onEvent: (e) => {
      o.knowledge?.offer(e);
    },
    onAlert: (a, change) => {
      printAlert(o, a, change);
      if (change === "fire" && o.failOn && severityRank(a.severity) >= severityRank(o.failOn)) code = 1;
    },
  });
  await o.knowledge?.settle();
  (o.json ? o.stderr : o.stdout).write(summary(pipeline.engine));
  return code;
}
