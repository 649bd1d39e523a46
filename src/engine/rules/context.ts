import type { AlertBook } from "../alerts.js";
import type { NodeState } from "../node-state.js";
import type { Thresholds } from "../thresholds.js";

/** What every rule may read and where it raises alerts. */
export interface RuleContext {
  th: Thresholds;
  book: AlertBook;
  nodes: ReadonlyMap<string, NodeState>;
}
