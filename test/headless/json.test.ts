import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { eventJson, withoutBigInts } from "../../src/headless/json.js";
import type { ParsedEvent } from "../../src/parse/events.js";

/** What `scan --json` wrote before `eventJson` was written by hand: the bytes must not change. */
function reference(e: ParsedEvent): string {
  const { type, node, ts, line, ...rest } = e;
  return JSON.stringify({ type, node, ts, line, ...rest }, (_k, v) =>
    typeof v === "bigint" ? v.toString() : v,
  );
}

describe("event JSON", () => {
  it("writes the same bytes as JSON.stringify with a BigInt replacer, type first", () => {
    const e = {
      node: "P",
      ts: 1.5,
      line: 3,
      arrival: null,
      text: 'say "hi"\t\\',
      type: "strace",
      cpu: 2,
      ret: { int: -1, hex: 18446744073709551615n },
      skipped: undefined,
    } as unknown as ParsedEvent;
    assert.equal(eventJson(e), reference(e));
    assert.ok(eventJson(e).startsWith('{"type":"strace","node":"P","ts":1.5,"line":3,'));
  });

  it("agrees with the reference on any event-like object", () => {
    const key = fc.oneof(fc.string(), fc.constantFrom("__proto__", "toString", "1", "type", "ts"));
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(
        fc.string(),
        fc.double(),
        fc.bigInt(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
      ),
      node: fc.oneof(
        { depthSize: "small" },
        tie("leaf"),
        fc.array(tie("node"), { maxLength: 4 }),
        fc.dictionary(key, tie("node"), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.option(fc.double(), { nil: null }),
        fc.integer(),
        fc.dictionary(key, value, { maxKeys: 8 }),
        (type, node, ts, line, rest) => {
          const e = { node, ts, line, arrival: null, text: "x", type, ...rest } as unknown as ParsedEvent;
          assert.equal(eventJson(e), reference(e));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("leaves values without BigInts as they are", () => {
    const rows = [{ lo: 0, hi: 5, pct: "1.0" }];
    assert.equal(withoutBigInts(rows), rows);
    assert.deepEqual(withoutBigInts({ a: [1n, "b"], c: { d: 2n } }), { a: ["1", "b"], c: { d: "2" } });
  });
});
