import type { StuckWorkerEvent, ThpoolEvent } from "../../parse/events.js";
import { evidenceOf, whenOf } from "../alerts.js";
import type { NodeState, WorkerState } from "../node-state.js";
import type { RuleContext } from "./context.js";

export const stuckKey = (node: string, worker: number) => `worker-stuck:${node}:${worker}`;
export const queueKey = (node: string, worker: number) => `queue-growth:${node}:${worker}`;

const secs = (s: number) => `${Math.round(s)} s`;

/** The kernel's own stuck-worker report: critical at once; its repeats every tick fold into one alert. */
export function onStuckReport(ctx: RuleContext, node: NodeState, e: StuckWorkerEvent): void {
  const what = [e.opName ?? (e.op !== undefined ? `op ${e.op.toString(16)}` : undefined)]
    .concat(e.srcNid !== undefined ? [`from node ${e.srcNid}`] : [])
    .filter(Boolean)
    .join(" ");
  const where = [e.cpu !== undefined ? `CPU ${e.cpu}` : "", e.rip ? `at ${e.rip}` : ""]
    .filter(Boolean)
    .join(" ");
  const message = `worker ${e.worker} stuck in its handler${what ? ` (${what})` : ""}${where ? ` ${where}` : ""}, reported ${e.repeat}x`;
  ctx.book.raise(
    stuckKey(node.name, e.worker),
    { rule: "worker-stuck", severity: "critical", node: node.name, message },
    whenOf(e),
    [evidenceOf(e)],
  );
}

/** A thread-pool sample: tracks stalls and deep queues, then checks both rules at the sample's time. */
export function onSample(ctx: RuleContext, node: NodeState, e: ThpoolEvent, t: number | null): void {
  const w = node.worker(e.worker);
  const progressed = w.sample(e, t);
  if (!e.inHandler) {
    w.stallSince = null;
    w.stallRun = 0;
    ctx.book.resolve(stuckKey(node.name, w.id), whenOf(e));
  } else if (progressed) {
    w.stallSince = t;
    w.stallRun = 1;
    ctx.book.resolve(stuckKey(node.name, w.id), whenOf(e));
  } else {
    w.stallSince ??= t;
    w.stallRun++;
  }
  if (e.queued >= ctx.th.queueDepth) {
    w.deepSince ??= t;
    w.deepRun++;
  } else {
    w.deepSince = null;
    w.deepRun = 0;
    ctx.book.resolve(queueKey(node.name, w.id), whenOf(e));
  }
  checkWorker(ctx, node, w, t, e);
}

/**
 * Fires the duration rules of one worker if their time has come: on a sample (`e`), or on a clock tick
 * at node time `now` and receive time `arrival`. A tick only fires what is due; it never stretches an
 * alert already firing, since no new sample says the condition still holds.
 */
export function checkWorker(
  ctx: RuleContext,
  node: NodeState,
  w: WorkerState,
  now: number | null,
  e?: ThpoolEvent,
  arrival: number | null = null,
): void {
  if (now === null) return;
  const cite = e ?? w.last;
  if (!cite) return;
  const at = e ? whenOf(e) : { ts: now, arrival, line: cite.line };
  if (w.stallSince !== null && w.stallRun >= 2 && now - w.stallSince >= ctx.th.stuckSeconds) {
    const key = stuckKey(node.name, w.id);
    if (!ctx.book.get(key)) {
      const message = `worker ${w.id} in its handler with no progress for ${secs(now - w.stallSince)} (${w.queued} queued)`;
      ctx.book.raise(key, { rule: "worker-stuck", severity: "critical", node: node.name, message }, at, [
        evidenceOf(cite),
      ]);
    }
  }
  if (w.deepSince !== null && w.deepRun >= 2 && now - w.deepSince >= ctx.th.queueSeconds) {
    const key = queueKey(node.name, w.id);
    const message = `worker ${w.id}: ${w.queued} requests queued for ${secs(now - w.deepSince)}`;
    const cur = ctx.book.get(key);
    if (!cur) {
      ctx.book.raise(key, { rule: "queue-growth", severity: "warning", node: node.name, message }, at, [
        evidenceOf(cite),
      ]);
    } else if (e) {
      cur.message = message;
      cur.last = at;
    }
  }
}
