/** The eight block heights of a sparkline, lowest first. */
export const SPARK_BLOCKS = "▁▂▃▄▅▆▇█";

/**
 * A sparkline of the newest `width` values (newest at the right), one block per value, scaled so
 * that `max` (by default the largest value shown) is a full block. Zero, negative and non-finite
 * values are the lowest block; any positive value is at least the second, so a queue of one is told
 * from an empty one. Shorter than `width` when there are fewer values; empty for a width below one.
 */
export function sparkline(values: readonly number[], width: number, max?: number): string {
  const n = Math.floor(width);
  if (!(n > 0) || values.length === 0) return "";
  const shown = values.slice(-n);
  let top = max ?? 0;
  if (max === undefined) for (const v of shown) if (Number.isFinite(v) && v > top) top = v;
  const last = SPARK_BLOCKS.length - 1;
  let out = "";
  for (const v of shown) {
    if (!Number.isFinite(v) || v <= 0 || !(top > 0)) {
      out += SPARK_BLOCKS[0];
      continue;
    }
    const level = Math.min(last, Math.max(1, Math.round((v / top) * last)));
    out += SPARK_BLOCKS[level];
  }
  return out;
}
