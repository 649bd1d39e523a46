import { z } from "zod";
import { DEFAULT_THRESHOLDS as D } from "./threshold-defaults.js";

/** Alert thresholds. The defaults come from LegoOS itself (formats.md §3); a config file can change them. */
export const ThresholdsSchema = z
  .object({
    /** A worker in its handler with no progress this long is stuck (the kernel's own threshold is 20 s). */
    stuckSeconds: z.number().positive().default(D.stuckSeconds),
    /** Queued requests at or above this many... */
    queueDepth: z.number().int().positive().default(D.queueDepth),
    /** ...for this long raise `queue-growth`. */
    queueSeconds: z.number().nonnegative().default(D.queueSeconds),
    /** This many IB errors... */
    stormCount: z.number().int().positive().default(D.stormCount),
    /** ...within this window raise one `ib-error-storm`; the storm ends after a window without errors. */
    stormWindowSeconds: z.number().positive().default(D.stormWindowSeconds),
    /** A node that printed nothing this long is silent; 0 turns the rule off (the default). */
    silentSeconds: z.number().nonnegative().default(D.silentSeconds),
    /** How far apart (receive time) a P timeout and an M stall may be to be told as one story. */
    stalledRpcWindowSeconds: z.number().positive().default(D.stalledRpcWindowSeconds),
    /** A kernel hang (soft lockup, hung task, RCU stall) not reported again for this long is over. */
    stallQuietSeconds: z.number().positive().default(D.stallQuietSeconds),
    /** An IB port seen down at boot this long keeps the node out of the cluster. */
    ibPortSeconds: z.number().positive().default(D.ibPortSeconds),
  })
  .strict();

export type Thresholds = z.infer<typeof ThresholdsSchema>;

/** The defaults, as `ThresholdsSchema.parse({})` gives them. */
export { DEFAULT_THRESHOLDS } from "./threshold-defaults.js";
