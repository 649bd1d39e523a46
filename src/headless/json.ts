import type { Alert } from "../engine/alerts.js";
import type { ParsedEvent } from "../parse/events.js";
import { putOwn } from "../parse/family.js";

/**
 * JSON for one event or alert, one object per line. BigInt values (u64 counters, addresses) are
 * written as decimal strings so that no consumer loses precision.
 */
export function eventJson(e: ParsedEvent): string {
  // Lead with what every consumer filters on, then the rest in the event's own order. The bytes are
  // those of `JSON.stringify({ type, node, ts, line, ...rest }, replacer)` with a replacer that writes
  // BigInts as strings; built by hand, since the rest/spread and the replacer both kept V8 off its
  // fast paths, at several µs an event.
  const o: Record<string, unknown> = {
    type: withoutBigInts(e.type),
    node: withoutBigInts(e.node),
    ts: withoutBigInts(e.ts),
    line: withoutBigInts(e.line),
  };
  const src = e as unknown as Record<string, unknown>;
  for (const k in src) {
    if (k === "type" || k === "node" || k === "ts" || k === "line") continue;
    putOwn(o, k, withoutBigInts(src[k]));
  }
  return JSON.stringify(o);
}

/**
 * `v` with every BigInt in it (at any depth) turned into its decimal string, as a replacer that
 * writes BigInts as strings would see it: `v` itself when it holds none, else a copy whose keys keep
 * their order.
 */
export function withoutBigInts(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (typeof v !== "object" || v === null || !holdsBigInt(v)) return v;
  if (Array.isArray(v)) return v.map(withoutBigInts);
  const out: Record<string, unknown> = {};
  const src = v as Record<string, unknown>;
  for (const k in src) putOwn(out, k, withoutBigInts(src[k]));
  return out;
}

function holdsBigInt(v: object): boolean {
  if (Array.isArray(v)) {
    // Indexed, not `for...in`, which makes a string of every index.
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === "bigint" || (typeof x === "object" && x !== null && holdsBigInt(x))) return true;
    }
    return false;
  }
  const src = v as Record<string, unknown>;
  for (const k in src) {
    const x = src[k];
    if (typeof x === "bigint") return true;
    if (typeof x === "object" && x !== null && holdsBigInt(x)) return true;
  }
  return false;
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
