import { z } from "zod";
import { ThresholdsSchema } from "../engine/thresholds.js";

/** The config file: alert thresholds and what the operator knows about each node. */
export const ConfigSchema = z
  .object({
    /** Overrides of the alert thresholds (see `Thresholds`). */
    alerts: ThresholdsSchema.partial().optional(),
    /** Node roles by node name, when the console does not make them plain. */
    roles: z.record(z.string(), z.enum(["P", "M", "S"])).optional(),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
