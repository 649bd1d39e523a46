import type { BlockFamily, LineFamily } from "./family.js";

/** The parsers one node needs. Block families can keep per-node state, so each node gets its own set. */
export interface Families {
  lines: LineFamily[];
  blocks: BlockFamily[];
}

/** Every family, in the order they are tried: block openers first, then one-line families. */
export function createFamilies(): Families {
  return { lines: [], blocks: [] };
}
