/**
 * The default alert thresholds (`ThresholdsSchema` in thresholds.ts says what each means), apart from
 * the schema so that the engine, and `scan` with it, loads without zod: importing it costs about 0.1 s.
 */
export const DEFAULT_THRESHOLDS = {
  stuckSeconds: 20,
  queueDepth: 4,
  queueSeconds: 5,
  stormCount: 5,
  stormWindowSeconds: 10,
  silentSeconds: 0,
  stalledRpcWindowSeconds: 60,
  stallQuietSeconds: 300,
  ibPortSeconds: 30,
} satisfies Record<string, number>;
