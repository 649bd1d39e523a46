import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { ParsedEvent } from "../../src/parse/events.js";
import { baseOf, eventOf } from "../../src/parse/family.js";
import { Stamper } from "../../src/parse/line.js";

describe("events from a base", () => {
  it("have the keys of { ...base, type, ...fields }, in that order", () => {
    const base = baseOf(new Stamper("P").line("[  1.500000] x", 7, null));
    fc.assert(
      fc.property(
        fc.string(),
        fc.dictionary(
          fc.oneof(fc.string(), fc.constantFrom("__proto__", "type", "node", "1")),
          fc.oneof(fc.string(), fc.integer(), fc.constant(undefined)),
          {
            maxKeys: 6,
          },
        ),
        (type, fields) => {
          const e = eventOf<ParsedEvent>(base, type as ParsedEvent["type"], fields as never);
          const want = { ...base, type, ...fields };
          assert.deepEqual(Object.keys(e), Object.keys(want));
          assert.deepEqual(e, want);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
