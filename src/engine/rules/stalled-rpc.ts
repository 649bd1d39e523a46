import type { TimeoutEvent } from "../../parse/events.js";
import { type Alert, evidenceOf, whenOf } from "../alerts.js";
import type { RuleContext } from "./context.js";

/**
 * The cross-node story: a node's RPC timed out while another node's worker was stuck or its queue
 * saturated. Kernel clocks of two nodes are unrelated, so both sides are placed by receive time; without
 * receive times (files read after the fact) the order of two consoles is unknown and nothing is claimed.
 */
export class StalledRpc {
  /** Recent timeouts, and whether their story was told: one story per timeout. */
  private readonly timeouts: { e: TimeoutEvent; told: boolean }[] = [];

  constructor(private readonly ctx: RuleContext) {}

  /** A timeout arrived: is some other node's worker stalled within the window? A stuck worker tells it best. */
  onTimeout(e: TimeoutEvent): void {
    if (e.arrival === null) return;
    const t = { e, told: false };
    this.timeouts.push(t);
    if (this.timeouts.length > 64) this.timeouts.shift();
    const stalls = this.ctx.book.all.filter((a) => this.stall(a) && this.near(a, e));
    const best = stalls.find((a) => a.rule === "worker-stuck") ?? stalls[0];
    if (best) this.raise(t, best);
  }

  /** A stall alert fired or grew: did another node time out within the window? */
  onStall(a: Alert): void {
    if (!this.stall(a)) return;
    for (const t of this.timeouts) if (!t.told && this.near(a, t.e)) this.raise(t, a);
  }

  private stall(a: Alert): boolean {
    return a.rule === "worker-stuck" || a.rule === "queue-growth";
  }

  private near(a: Alert, e: TimeoutEvent): boolean {
    if (a.node === e.node || e.arrival === null || a.first.arrival === null || a.last.arrival === null)
      return false;
    const w = this.ctx.th.stalledRpcWindowSeconds * 1000;
    // The stall must overlap the time the RPC was waiting (its timeout before the report) or be near it.
    const waitStart = e.arrival - e.ms - w;
    const end = a.state === "firing" ? Number.POSITIVE_INFINITY : a.last.arrival + w;
    return a.first.arrival <= e.arrival + w && end >= waitStart;
  }

  private raise(t: { e: TimeoutEvent; told: boolean }, a: Alert): void {
    const e = t.e;
    t.told = true;
    const key = `stalled-rpc:${e.node}:${e.line}:${e.arrival}`;
    const message = `RPC from ${e.node} (${e.callerFn}) timed out after ${e.ms} ms while ${a.node} ${a.message}`;
    this.ctx.book.raise(
      key,
      { rule: "stalled-rpc", severity: "critical", node: e.node, message },
      whenOf(e),
      [evidenceOf(e), ...a.evidence.slice(0, 2)],
    );
  }
}
