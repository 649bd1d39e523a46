import type { NodeState } from "../node-state.js";
import type { RuleContext } from "./context.js";

const key = (node: string) => `node-silent:${node}`;

/** On a clock tick: a node that printed before and has been quiet too long is silent. Off when 0. */
export function checkSilent(ctx: RuleContext, node: NodeState, now: number): void {
  const limit = ctx.th.silentSeconds;
  if (limit <= 0 || node.lastArrival === null) return;
  const quiet = (now - node.lastArrival) / 1000;
  if (quiet < limit || ctx.book.get(key(node.name))) return;
  ctx.book.raise(
    key(node.name),
    {
      rule: "node-silent",
      severity: "error",
      node: node.name,
      message: `no console output for ${Math.round(quiet)} s`,
    },
    { ts: node.lastTs, arrival: now, line: node.lines },
    [],
  );
}

/** Any line ends the silence. */
export function heard(ctx: RuleContext, node: NodeState, arrival: number | null, line: number): void {
  // Runs on every line: when the rule is off (the default) no alert of it can be firing.
  if (ctx.th.silentSeconds > 0 && ctx.book.get(key(node.name)))
    ctx.book.resolve(key(node.name), { ts: node.lastTs, arrival, line });
}
