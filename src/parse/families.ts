import { bootFamily } from "./boot.js";
import { corruptionFamily } from "./corruption.js";
import { cacheUtilFamily, countersFamily } from "./counters.js";
import type { BlockFamily, LineFamily } from "./family.js";
import { handlerErrorFamily } from "./handler.js";
import { ibErrorFamily, lostCqeFamily } from "./iberror.js";
import { ibMadFamily } from "./ibmad.js";
import { oomFamily } from "./oom.js";
import { processFamily } from "./process.js";
import { profileFamily } from "./profile.js";
import { segfaultFamily } from "./segfault.js";
import { straceFamily } from "./strace.js";
import { createStuckFamily } from "./stuck.js";
import { freeramFamily, thpoolBlockFamily, thpoolFamily } from "./thpool.js";
import { timeoutFamily } from "./timeout.js";

/** The parsers one node needs. Block families can keep per-node state, so each node gets its own set. */
export interface Families {
  lines: LineFamily[];
  blocks: BlockFamily[];
}

/** Every family, in the order they are tried: block openers first, then one-line families. */
export function createFamilies(): Families {
  return {
    blocks: [
      thpoolBlockFamily,
      createStuckFamily(),
      timeoutFamily,
      profileFamily,
      countersFamily,
      lostCqeFamily,
    ],
    lines: [
      thpoolFamily,
      freeramFamily,
      cacheUtilFamily,
      ibMadFamily,
      ibErrorFamily,
      segfaultFamily,
      oomFamily,
      straceFamily,
      processFamily,
      handlerErrorFamily,
      corruptionFamily,
      bootFamily,
    ],
  };
}
