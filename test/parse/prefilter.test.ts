import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { KeyFinder } from "../../src/parse/prefilter.js";

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The reference: a regex alternation, longest key first so that at one place the longest wins. */
function leftmost(keys: string[], text: string): string | null {
  const re = new RegExp(
    [...keys]
      .sort((a, b) => b.length - a.length)
      .map(escapeRe)
      .join("|"),
  );
  return re.exec(text)?.[0] ?? null;
}

describe("key finder", () => {
  const keys = [
    "mad_got_one",
    "timeout (",
    "BUG: unable to handle kernel ",
    "BUG: failure at ",
    " syndrome ",
    "strace__",
  ];
  const f = new KeyFinder(keys);

  it("finds keys anywhere in a line, the leftmost first", () => {
    assert.equal(
      f.find("[ 1.000000] ib_mad_completion_handler 2344 got successful recv cq op 128 mad_got_one 15"),
      "mad_got_one",
    );
    assert.equal(f.find("[30938.564843] mlx4_ib_handle_error_cqe syndrome 21"), " syndrome ");
    assert.equal(f.find("strace__mmap timeout ("), "strace__");
    assert.equal(f.find("BUG: failure at x.c:1/f()!"), "BUG: failure at ");
    assert.equal(f.find("an ordinary line about nothing"), null);
    assert.equal(f.find(""), null);
    assert.equal(f.find("tim"), null);
  });

  it("refuses keys too short to skip with", () => {
    assert.throws(() => new KeyFinder(["ab"]), /shorter than/);
  });

  it("agrees with a regex alternation on any text", () => {
    const key = fc.string({
      minLength: 4,
      maxLength: 9,
      unit: fc.constantFrom("a", "b", "c", " ", "_", "é", "€"),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(key, { minLength: 1, maxLength: 8 }),
        fc.array(fc.oneof(fc.constantFrom("a", "b", "c", " ", "_", "é", "€", "x"), key), { maxLength: 30 }),
        (ks, parts) => {
          const text = parts.join("");
          assert.equal(new KeyFinder(ks).find(text), leftmost(ks, text));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("finds from a place on as it finds in the rest of the text", () => {
    const key = fc.string({ minLength: 4, maxLength: 9, unit: fc.constantFrom("a", "b", " ", "_", "€") });
    fc.assert(
      fc.property(
        fc.uniqueArray(key, { minLength: 1, maxLength: 8 }),
        fc.array(fc.oneof(fc.constantFrom("a", "b", " ", "x"), key), { maxLength: 30 }),
        fc.nat(),
        (ks, parts, n) => {
          const text = parts.join("");
          const from = n % (text.length + 1);
          assert.equal(new KeyFinder(ks).find(text, from), leftmost(ks, text.slice(from)));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("lists every key that occurs, each once", () => {
    assert.deepEqual(f.findAll("strace__mmap timeout (x) strace__").sort(), ["strace__", "timeout ("]);
    assert.deepEqual(f.findAll("nothing here"), []);
    const key = fc.string({ minLength: 4, maxLength: 9, unit: fc.constantFrom("a", "b", " ", "_", "€") });
    fc.assert(
      fc.property(
        fc.uniqueArray(key, { minLength: 1, maxLength: 8 }),
        fc.array(fc.oneof(fc.constantFrom("a", "b", " ", "x"), key), { maxLength: 30 }),
        (ks, parts) => {
          const text = parts.join("");
          const found = new KeyFinder(ks).findAll(text);
          assert.deepEqual([...found].sort(), ks.filter((k) => text.includes(k)).sort());
        },
      ),
      { numRuns: 1000 },
    );
  });
});
