import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { corruptionFamily } from "../../src/parse/corruption.js";
import { baseOf } from "../../src/parse/family.js";
import { body, line, parseLines, seedNotes } from "../helpers.js";

const _SEED = new URL("../fixtures/seed/", import.meta.url);

function one(text: string): Record<string, unknown> {
  const evs = parseLines(corruptionFamily, text);
  assert.equal(evs.length, 1, `expected one event from ${JSON.stringify(text)}`);
  return body(evs[0]!);
}

describe("corruption family (F23)", () => {
  it('"%s:%d: bad pgd %p(%016lx)"', () => {
    assert.deepEqual(
      one("[ 2552.074985] ./arch/x86/include/asm/pgtable.h:579: bad pgd ffff88103e956028(ffffffff81146ca0)"),
      {
        type: "corruption",
        what: "bad-pgd",
        where: "./arch/x86/include/asm/pgtable.h:579",
        addr: 0xffff88103e956028n,
        value: 0xffffffff81146ca0n,
      },
    );
  });

  it('"%s:%d: bad pte|pmd|pud %p(%016lx)"', () => {
    for (const level of ["pte", "pmd", "pud"]) {
      const e = one(
        `[ 1234.000000] ./arch/x86/include/asm/pgtable.h:560: bad ${level} ffff88103e94a038(0000000000000001)`,
      );
      assert.equal(e.what, `bad-${level}`);
      assert.equal(e.value, 1n);
    }
  });

  it('"pte|page|pcache|pcache_rmap dumped because: %s" and the indented victim one', () => {
    assert.deepEqual(one("[  317.482752] pte dumped because: corrupted"), {
      type: "corruption",
      what: "pte-dumped",
      reason: "corrupted",
    });
    assert.equal(one("[ 1234.000000] page dumped because: bad refcount").what, "page-dumped");
    assert.equal(one("[ 1234.000000] pcache dumped because: PcacheLocked").what, "pcache-dumped");
    assert.equal(one("[ 1234.000000] pcache_rmap dumped because: rmap corrupted").what, "pcache_rmap-dumped");
    assert.deepEqual(one("[ 1234.000000]     victim dumped because: evict timeout"), {
      type: "corruption",
      what: "victim-dumped",
      reason: "evict timeout",
    });
  });

  it("the dump rows around the reason are context, not events", () => {
    assert.deepEqual(
      parseLines(corruptionFamily, "[  317.477701] pte:ffff88103e94a038 pfn:0x0 flags:()"),
      [],
    );
  });

  it("author notes in the seed fixtures produce no events", () => {
    for (const { file, text } of seedNotes()) assert.deepEqual(parseLines(corruptionFamily, text), [], file);
  });

  it("parse never throws, on any text or on keys mixed with noise", () => {
    const piece = fc.oneof(
      fc.string(),
      fc.constantFrom(...corruptionFamily.keys),
      fc.constantFrom("pgtable.h", ":579", "(", ")", "ffff", "(null)", "pte", "victim", "    "),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(piece, { maxLength: 12 }), (stamp, parts) => {
        const l = line(`${stamp ? "[  123.456789] " : ""}${parts.join("")}`);
        const e = corruptionFamily.parse(l, baseOf(l));
        assert.ok(e === null || e.type === "corruption");
      }),
      { numRuns: 2000 },
    );
  });
});
