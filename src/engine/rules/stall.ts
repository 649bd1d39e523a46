import type { CrashEvent } from "../../parse/events.js";
import { evidenceOf, type When, whenOf } from "../alerts.js";
import type { NodeState } from "../node-state.js";
import type { RuleContext } from "./context.js";

/**
 * The kernel's hang detectors, told by their reports' titles (syzkaller's wording): a report of one
 * of them means the kernel is stuck, not dead, and the same hang is often told by several of them.
 */
const DETECTORS: readonly (readonly [RegExp, string])[] = [
  [/soft lockup/i, "soft lockup"],
  [/hard LOCKUP/i, "hard lockup"],
  [/^INFO: task (?:hung|can't die|.*blocked for more than)/, "hung task"],
  [/^BUG: workqueue lockup/, "workqueue lockup"],
  [/\brcu(?:_\w+)?\b.*\bstall/i, "RCU stall"],
];

/**
 * The hang detector behind a report, or null for every other report. A panic is a crash whatever
 * made the kernel panic (`kernel panic: Hard LOCKUP`): the node is dead, not stuck.
 */
export function stallDetector(e: CrashEvent): string | null {
  if (e.title.startsWith("kernel panic")) return null;
  for (const [re, name] of DETECTORS) if (re.test(e.title)) return name;
  return null;
}

const key = (node: string) => `stall:${node}`;
/** `INFO: task NAME:PID blocked for more than N seconds.` */
const HUNG_TASK = /INFO: task (.+):(\d+) blocked for more than/;
/** Functions named in one alert's message, at most. */
const MAX_FUNCTIONS = 3;

/** What the detectors said of the hang a node's `stall` alert is about. */
interface Episode {
  detectors: Set<string>;
  functions: string[];
  /** Node time of its last report. */
  last: number | null;
}

/**
 * The `stall` rule: every hang report of a node folds into one alert, whichever detector made it,
 * until the node has gone {@link Thresholds.stallQuietSeconds} without one (the detectors repeat
 * every 20 s to 2 min while the hang lasts).
 */
export class StallRule {
  private readonly episodes = new Map<string, Episode>();

  constructor(private readonly ctx: RuleContext) {}

  /** A hang report from `detector`. */
  onReport(node: NodeState, e: CrashEvent, detector: string, t: number | null): void {
    this.end(node, t, whenOf(e));
    let ep = this.episodes.get(node.name);
    if (!ep || !this.ctx.book.get(key(node.name))) {
      ep = { detectors: new Set(), functions: [], last: null };
      this.episodes.set(node.name, ep);
    }
    ep.detectors.add(detector);
    if (e.function && !ep.functions.includes(e.function) && ep.functions.length < MAX_FUNCTIONS)
      ep.functions.push(e.function);
    if (t !== null) ep.last = t;
    const where = ep.functions.length > 0 ? ` in ${ep.functions.join(", ")}` : "";
    // A hung task's report is printed by khungtaskd: the task that hangs is the one its header names.
    const hung = detector === "hung task" ? HUNG_TASK.exec(e.text) : null;
    const comm = hung ? hung[1] : e.comm;
    const pid = hung ? hung[2] : e.pid;
    const who = comm !== undefined ? `, ${comm}${pid !== undefined ? `[${pid}]` : ""}` : "";
    const cpu = e.cpu !== undefined && !hung ? `, CPU ${e.cpu}` : "";
    this.ctx.book.raise(
      key(node.name),
      {
        rule: "stall",
        severity: "critical",
        node: node.name,
        message: `kernel stalled${where} (${[...ep.detectors].join(", ")}${who}${cpu})`,
      },
      whenOf(e),
      [evidenceOf(e)],
    );
  }

  /** Node time moved to `t` (at `at`): a hang not reported for long enough is over. */
  end(node: NodeState, t: number | null, at: When): void {
    const ep = this.episodes.get(node.name);
    if (!ep || t === null || ep.last === null) return;
    if (t - ep.last < this.ctx.th.stallQuietSeconds) return;
    this.episodes.delete(node.name);
    this.ctx.book.resolve(key(node.name), at);
  }

  /** The node rebooted: its hang is over (the reboot resolves the alert). */
  forget(node: string): void {
    this.episodes.delete(node);
  }
}
