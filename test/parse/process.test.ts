import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { baseOf } from "../../src/parse/family.js";
import { processFamily } from "../../src/parse/process.js";
import { body, line, parseLines, seedNotes } from "../helpers.js";

const SEED = new URL("../fixtures/seed/", import.meta.url);

function one(text: string): Record<string, unknown> {
  const evs = parseLines(processFamily, text);
  assert.equal(evs.length, 1, `expected one event from ${JSON.stringify(text)}`);
  return body(evs[0]!);
}

describe("process family (F22)", () => {
  it('"p2m_fork(cpu%d): I cur:%d-%s new:%d"', () => {
    assert.deepEqual(one("[ 1174.452983] p2m_fork(cpu10): I cur:20-exe.o new:21"), {
      type: "process",
      what: "fork-start",
      cpu: 10,
      pid: 20,
      comm: "exe.o",
      child: 21,
    });
  });

  it('"p2m_fork(cpu%d): O succeed cur:%d-%s new:%d", comm with `-` and blanks', () => {
    assert.deepEqual(one("[  868.478424] p2m_fork(cpu10): O succeed cur:20-exe.o new:21"), {
      type: "process",
      what: "fork-done",
      cpu: 10,
      pid: 20,
      comm: "exe.o",
      child: 21,
    });
    const e = one("[ 1234.000000] p2m_fork(cpu3): O succeed cur:29-word_count-pthr new:30");
    assert.equal(e.comm, "word_count-pthr");
    assert.equal(one("[ 1234.000000] p2m_fork(cpu3): I cur:5-a b new:x new:6").comm, "a b new:x");
  });

  it('April error: "%s():. net %d:%s cur:%d-%s new:%d"', () => {
    assert.deepEqual(one("[ 1234.000000] p2m_fork():. net -110:ETIMEDOUT cur:20-exe.o new:21"), {
      type: "process",
      what: "fork-error",
      detail: "-110:ETIMEDOUT",
      pid: 20,
      comm: "exe.o",
      child: 21,
    });
  });

  it('April error: "%s(): reply %d:%s. cur:%d-%s new:%d"', () => {
    assert.deepEqual(one("[ 1234.000000] p2m_fork(): reply -12:ENOMEM. cur:20-python new:22"), {
      type: "process",
      what: "fork-error",
      detail: "-12:ENOMEM",
      pid: 20,
      comm: "python",
      child: 22,
    });
  });

  it('HEAD error: "%s():. ret %d:%s cur:%d-%s new:%d"', () => {
    assert.deepEqual(one("[ 1234.000000] p2m_fork():. ret -110:Connection timed out cur:20-exe.o new:21"), {
      type: "process",
      what: "fork-error",
      detail: "-110:Connection timed out",
      pid: 20,
      comm: "exe.o",
      child: 21,
    });
  });

  it('"newpid: %d home:%d replica: %d"', () => {
    assert.deepEqual(one("[ 1174.406177] newpid: 20 home:1 replica: 1"), {
      type: "process",
      what: "newpid",
      pid: 20,
      home: 1,
      replica: 1,
    });
  });

  it('"note: %s[%d] exited with preempt_count %d"', () => {
    assert.deepEqual(one("[ 1234.000000] note: word_count-pthr[29] exited with preempt_count 1"), {
      type: "process",
      what: "exit-note",
      comm: "word_count-pthr",
      pid: 29,
      detail: "preempt_count 1",
    });
  });

  it("seed b18 and b19: newpid, then fork in and out", () => {
    const b18 = parseLines(processFamily, readFileSync(new URL("b18.log", SEED), "utf8"));
    assert.deepEqual(
      b18.map((e) => [e.line, body(e).what]),
      [
        [3, "newpid"],
        [4, "fork-start"],
      ],
    );
    const b19 = parseLines(processFamily, readFileSync(new URL("b19.log", SEED), "utf8"));
    assert.deepEqual(
      b19.map((e) => [e.ts, body(e).what, body(e).child]),
      [
        [863.887705, "fork-start", 21],
        [868.478424, "fork-done", 21],
      ],
    );
  });

  it("author notes in the seed fixtures produce no events", () => {
    for (const { file, text } of seedNotes()) assert.deepEqual(parseLines(processFamily, text), [], file);
  });

  it("parse never throws, on any text or on keys mixed with noise", () => {
    const piece = fc.oneof(
      fc.string(),
      fc.constantFrom(...processFamily.keys),
      fc.constantFrom(
        "(cpu3): ",
        "I ",
        "O succeed ",
        "cur:",
        "20",
        "-",
        " new:",
        "():. ",
        "net ",
        "reply ",
        ":",
        "[",
        "]",
      ),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(piece, { maxLength: 14 }), (stamp, parts) => {
        const l = line(`${stamp ? "[  123.456789] " : ""}${parts.join("")}`);
        const e = processFamily.parse(l, baseOf(l));
        assert.ok(e === null || e.type === "process");
      }),
      { numRuns: 2000 },
    );
  });
});
