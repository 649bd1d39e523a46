import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { baseOf } from "../../src/parse/family.js";
import { ibMadFamily } from "../../src/parse/ibmad.js";
import { body, line, parseLines, seedNotes } from "../helpers.js";

const SEED = new URL("../fixtures/seed/", import.meta.url);

function one(text: string): Record<string, unknown> {
  const evs = parseLines(ibMadFamily, text);
  assert.equal(evs.length, 1, `expected one event from ${JSON.stringify(text)}`);
  return body(evs[0]!);
}

describe("IB MAD family (F5)", () => {
  it('April: "%s %d got successful send cq op %d mad_got_one %d" and recv; the line number is dropped', () => {
    assert.deepEqual(
      one("[ 1224.130616] ib_mad_completion_handler 2338 got successful send cq op 0 mad_got_one 15"),
      {
        type: "ib_mad",
        dir: "send",
        op: 0,
        got: 15,
      },
    );
    assert.deepEqual(
      one("[ 1224.034898] ib_mad_completion_handler 2344 got successful recv cq op 128 mad_got_one 15"),
      { type: "ib_mad", dir: "recv", op: 128, got: 15 },
    );
  });

  it('HEAD: "ib_mad: ib_mad_completion_handler(): dev: %s port: %d %s mad_got_one=%d" (SEND/RECV)', () => {
    assert.deepEqual(
      one("[ 1234.000000] ib_mad: ib_mad_completion_handler(): dev: mlx4_0 port: 1 RECV mad_got_one=16"),
      { type: "ib_mad", dir: "recv", got: 16 },
    );
    assert.deepEqual(
      one("[ 1234.100000] ib_mad: ib_mad_completion_handler(): dev: mlx4_0 port: 1 SEND mad_got_one=16"),
      { type: "ib_mad", dir: "send", got: 16 },
    );
  });

  it('intermediate: "%s %d dev: %s port: %d %s cq op %d mad_got_one=%d"', () => {
    assert.deepEqual(
      one(
        "[ 1234.000000] ib_mad_completion_handler 2219 dev: 0000:03:00.0 port: 1 RECV cq op 128 mad_got_one=3",
      ),
      { type: "ib_mad", dir: "recv", op: 128, got: 3 },
    );
  });

  it("seed b17: 16 recv/send pairs, counting 15 to 30", () => {
    const evs = parseLines(ibMadFamily, readFileSync(new URL("b17.log", SEED), "utf8"));
    assert.equal(evs.length, 32);
    const got = evs.map((e) => (e.type === "ib_mad" ? `${e.dir}${e.got}` : ""));
    assert.deepEqual(got.slice(0, 4), ["recv15", "send15", "recv16", "send16"]);
    assert.equal(got.at(-1), "send30");
    assert.equal(evs[0]!.ts, 1224.034898);
  });

  it("seed b14 and b18: a MAD recv line just before an ib_mad Oops; the faddr2line notes are not events", () => {
    for (const [f, got] of [
      ["b14.log", 21],
      ["b18.log", 22],
    ] as const) {
      const evs = parseLines(ibMadFamily, readFileSync(new URL(f, SEED), "utf8"));
      assert.deepEqual(evs.map(body), [{ type: "ib_mad", dir: "recv", op: 128, got }], f);
    }
  });

  it("author notes in the seed fixtures produce no events", () => {
    for (const { file, text } of seedNotes()) assert.deepEqual(parseLines(ibMadFamily, text), [], file);
  });

  it("parse never throws, on any text or on keys mixed with noise", () => {
    const piece = fc.oneof(
      fc.string(),
      fc.constantFrom(...ibMadFamily.keys),
      fc.constantFrom(
        "ib_mad_completion_handler ",
        "2344 ",
        "got successful ",
        "recv",
        " cq op ",
        "=",
        "-1",
        "(): ",
      ),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(piece, { maxLength: 12 }), (stamp, parts) => {
        const l = line(`${stamp ? "[  123.456789] " : ""}${parts.join("")}`);
        const e = ibMadFamily.parse(l, baseOf(l));
        assert.ok(e === null || e.type === "ib_mad");
      }),
      { numRuns: 2000 },
    );
  });
});
