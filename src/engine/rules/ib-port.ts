import { IB_PORT_ACTIVE, IB_PORT_STATES } from "../../parse/boot.js";
import type { BootEvent } from "../../parse/events.js";
import { evidenceOf, whenOf } from "../alerts.js";
import type { NodeState } from "../node-state.js";
import type { RuleContext } from "./context.js";

const key = (node: string) => `ib-port-down:${node}`;

/**
 * The `ib-port-down` rule. At boot FIT queries the node's IB port once a second until the subnet
 * manager makes it ACTIVE, which takes a few seconds; a node whose port stays down keeps printing
 * that, never joins the cluster, and looks busy rather than silent. Raised once the port has been
 * seen down for {@link Thresholds.ibPortSeconds}; resolved when it comes up or the node reboots.
 */
export class IbPortRule {
  /** Node time a node's port was first seen down, since it was last seen up. */
  private readonly downSince = new Map<string, number>();

  constructor(private readonly ctx: RuleContext) {}

  onPort(node: NodeState, e: BootEvent, t: number | null): void {
    if (e.portState === undefined) return;
    if (e.portState === IB_PORT_ACTIVE) {
      this.downSince.delete(node.name);
      this.ctx.book.resolve(key(node.name), whenOf(e));
      return;
    }
    if (t === null) return;
    const since = this.downSince.get(node.name) ?? t;
    this.downSince.set(node.name, since);
    const secs = t - since;
    if (secs < this.ctx.th.ibPortSeconds) return;
    const state = IB_PORT_STATES[e.portState] ?? `state ${e.portState}`;
    this.ctx.book.raise(
      key(node.name),
      {
        rule: "ib-port-down",
        severity: "error",
        node: node.name,
        message: `IB port ${e.port ?? "?"} not active for ${Math.round(secs)} s (${state}, LID ${e.lid ?? "?"}): the node cannot join the cluster`,
      },
      whenOf(e),
      [evidenceOf(e)],
    );
  }

  /** The node rebooted: its next boot waits for the port afresh (the reboot resolves the alert). */
  forget(node: string): void {
    this.downSince.delete(node);
  }
}
