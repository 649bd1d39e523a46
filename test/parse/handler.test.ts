import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { baseOf } from "../../src/parse/family.js";
import { handlerErrorFamily } from "../../src/parse/handler.js";
import { body, line, parseLines, seedNotes } from "../helpers.js";

const SEED = new URL("../fixtures/seed/", import.meta.url);

function one(text: string): Record<string, unknown> {
  const evs = parseLines(handlerErrorFamily, text);
  assert.equal(evs.length, 1, `expected one event from ${JSON.stringify(text)}`);
  return body(evs[0]!);
}

describe("handler error family (F16)", () => {
  it('"Unknown: opcode: %u, from node: %u"', () => {
    assert.deepEqual(one("[ 1234.000000] Unknown: opcode: 3735928559, from node: 0"), {
      type: "handler_error",
      what: "unknown-opcode",
      op: 3735928559,
      srcNid: 0,
    });
  });

  it('"src_nid:%u,pid:%u,vaddr:%#Lx"', () => {
    assert.deepEqual(one("[ 1234.000000] src_nid:1,pid:33,vaddr:0xffffffffff600000"), {
      type: "handler_error",
      what: "bad-address",
      srcNid: 1,
      pid: 33,
      vaddr: 0xffffffffff600000n,
    });
  });

  it('"fail to find vma", "not a stack", "fail to expand stack"', () => {
    assert.deepEqual(one("[ 1234.000000] fail to find vma"), { type: "handler_error", what: "no-vma" });
    assert.deepEqual(one("[ 1234.000000] not a stack"), { type: "handler_error", what: "not-stack" });
    assert.deepEqual(one("[ 1234.000000] fail to expand stack"), {
      type: "handler_error",
      what: "stack-expand",
    });
  });

  it("prose that merely mentions a reason is not an event", () => {
    assert.deepEqual(parseLines(handlerErrorFamily, "the fault is not a stack overflow"), []);
    assert.deepEqual(parseLines(handlerErrorFamily, "why did it fail to find vma here?"), []);
  });

  it("seed b02m: src_nid:0,pid:21,vaddr:0x4e853010 inside the April WARNING block", () => {
    const evs = parseLines(handlerErrorFamily, readFileSync(new URL("b02m.log", SEED), "utf8"));
    assert.equal(evs.length, 1);
    assert.equal(evs[0]!.line, 10);
    assert.equal(evs[0]!.ts, 583.19043);
    assert.deepEqual(body(evs[0]!), {
      type: "handler_error",
      what: "bad-address",
      srcNid: 0,
      pid: 21,
      vaddr: 0x4e853010n,
    });
  });

  it("author notes in the seed fixtures produce no events", () => {
    for (const { file, text } of seedNotes())
      assert.deepEqual(parseLines(handlerErrorFamily, text), [], file);
  });

  it("parse never throws, on any text or on keys mixed with noise", () => {
    const piece = fc.oneof(
      fc.string(),
      fc.constantFrom(...handlerErrorFamily.keys),
      fc.constantFrom(",pid:", ",vaddr:", "0x", "zz", "12", ", from node: ", " ", "\t"),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(piece, { maxLength: 12 }), (stamp, parts) => {
        const l = line(`${stamp ? "[  123.456789] " : ""}${parts.join("")}`);
        const e = handlerErrorFamily.parse(l, baseOf(l));
        assert.ok(e === null || e.type === "handler_error");
      }),
      { numRuns: 2000 },
    );
  });
});
