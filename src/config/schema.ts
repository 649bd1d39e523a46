import { z } from "zod";
import { ThresholdsSchema } from "../engine/thresholds.js";
import { NODE_NAME } from "./node-arg.js";

/** One node of the cluster: its name, role and console. */
export const NodeSchema = z
  .object({
    name: z.string().regex(NODE_NAME, "node names hold letters, digits and _ . : - only"),
    role: z.enum(["P", "M", "S"]).optional(),
    /** A source URI: `serial:...`, `ssh://...`, `tcp://...`, `cmd:...`, `file:...`. */
    source: z.string().min(1),
    /** The node's kernel image with debug info (`vmlinux`, LegoOS's `vmImage`): crash frames get file:line. */
    vmlinux: z.string().min(1).optional(),
  })
  .strict();

/** The config file: nodes, alert thresholds, and what the operator knows about each node. */
export const ConfigSchema = z
  .object({
    nodes: z.array(NodeSchema).optional(),
    /** Overrides of the alert thresholds (see `Thresholds`). */
    alerts: ThresholdsSchema.partial().optional(),
    /** Node roles by node name, when the console does not make them plain. */
    roles: z.record(z.string(), z.enum(["P", "M", "S"])).optional(),
    /** Record every session: `file` (a `.gz` compresses) and `maxSize` (e.g. `100M`) to rotate. */
    record: z
      .object({ file: z.string().min(1), maxSize: z.string().optional() })
      .strict()
      .optional(),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
export type NodeConfig = z.infer<typeof NodeSchema>;
