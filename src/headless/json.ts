import type { Alert } from "../engine/alerts.js";
import type { ParsedEvent } from "../parse/events.js";

/**
 * JSON for one event or alert, one object per line. BigInt values (u64 counters, addresses) are
 * written as decimal strings so that no consumer loses precision.
 */
export function eventJson(e: ParsedEvent): string {
  // Lead with what every consumer filters on.
  const { type, node, ts, line, ...rest } = e;
  return JSON.stringify({ type, node, ts, line, ...rest }, bigintAsString);
}

/** An alert as a JSON line: `type: "alert"`, its first moment as `ts`/`line`, and everything else. */
export function alertJson(a: Alert): string {
  const { id, rule, severity, node, message, count, state, first, last, evidence } = a;
  return JSON.stringify({
    type: "alert",
    node,
    ts: first.ts,
    line: first.line,
    id,
    rule,
    severity,
    message,
    count,
    state,
    first,
    last,
    evidence,
  });
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
