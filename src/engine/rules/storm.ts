import type { IbErrorEvent } from "../../parse/events.js";
import { type Evidence, evidenceOf, whenOf } from "../alerts.js";
import type { NodeState } from "../node-state.js";
import type { RuleContext } from "./context.js";

const key = (node: string) => `ib-error-storm:${node}`;

/** Recent IB errors of one node, for the storm window. */
export class StormWindow {
  times: number[] = [];
  evidence: Evidence[] = [];
  last: number | null = null;
}

/**
 * IB errors come in bursts (a dead QP flushes every queued work request), so a burst is one
 * alert with a count, not one alert a line. Errors without any time count as one instant.
 */
export function onIbError(
  ctx: RuleContext,
  node: NodeState,
  w: StormWindow,
  e: IbErrorEvent,
  t: number | null,
): void {
  const now = t ?? w.last ?? 0;
  endStorm(ctx, node, w, now);
  w.last = now;
  w.times.push(now);
  w.evidence.push(evidenceOf(e));
  while (w.times.length > 0 && w.times[0]! < now - ctx.th.stormWindowSeconds) {
    w.times.shift();
    w.evidence.shift();
  }
  // Keep what a storm would cite bounded while no storm fires.
  if (w.times.length > ctx.th.stormCount) {
    w.times.splice(0, w.times.length - ctx.th.stormCount);
    w.evidence.splice(0, w.evidence.length - ctx.th.stormCount);
  }
  const firing = ctx.book.get(key(node.name));
  if (firing) {
    firing.count++;
    firing.last = whenOf(e);
    firing.message = message(firing.count, firing.evidence[0]?.text);
    return;
  }
  if (w.times.length >= ctx.th.stormCount) {
    const first = w.evidence[0]!;
    ctx.book.raise(
      key(node.name),
      {
        rule: "ib-error-storm",
        severity: "critical",
        node: node.name,
        message: message(w.times.length, first.text),
      },
      { ts: first.ts, arrival: e.arrival, line: first.line },
      w.evidence,
      w.times.length,
    );
  }
}

/** Ends the storm of a node once a whole window passed without an error. */
export function endStorm(ctx: RuleContext, node: NodeState, w: StormWindow, now: number | null): void {
  if (now === null || w.last === null || now - w.last <= ctx.th.stormWindowSeconds) return;
  ctx.book.resolve(key(node.name));
  w.times = [];
  w.evidence = [];
}

function message(count: number, first?: string): string {
  const body = first?.replace(/^\[\s*\d+\.\d+\]\s*/, "");
  return `${count} IB errors in a burst${body ? `, first: ${body}` : ""}`;
}
