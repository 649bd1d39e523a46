import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { baseOf } from "../../src/parse/family.js";
import { segfaultFamily } from "../../src/parse/segfault.js";
import { body, line, parseLines, seedNotes } from "../helpers.js";

const SEED = new URL("../fixtures/seed/", import.meta.url);

function one(text: string): Record<string, unknown> {
  const evs = parseLines(segfaultFamily, text);
  assert.equal(evs.length, 1, `expected one event from ${JSON.stringify(text)}`);
  return body(evs[0]!);
}

function direct(text: string) {
  const l = line(text);
  return segfaultFamily.parse(l, baseOf(l));
}

describe("segfault family (F14)", () => {
  it('"%s[%d]: segfault at %#lx ip %p sp %p error %lx"', () => {
    assert.deepEqual(
      one(
        "[ 1234.187460] kmeans-pthread[43]: segfault at 0x7fff9c3d1000 ip 0000000000401b7e sp 00007fff9c3b0d40 error 4",
      ),
      {
        type: "segfault",
        kind: "segfault",
        comm: "kmeans-pthread",
        pid: 43,
        addr: 0x7fff9c3d1000n,
        ip: 0x401b7en,
        sp: 0x7fff9c3b0d40n,
        error: 4,
      },
    );
  });

  it("segfault: a zero address prints `0`, a NULL ip `(null)`, error is hex, comm may hold blanks", () => {
    const e = one(
      "[ 1234.000000] my prog-x[7]: segfault at 0 ip           (null) sp 00007fff9c3b0d40 error 1e",
    );
    assert.equal(e.comm, "my prog-x");
    assert.equal(e.addr, 0n);
    assert.equal(e.ip, 0n);
    assert.equal(e.error, 0x1e);
  });

  it("segfault: addresses past 2^53 stay exact", () => {
    const e = one(
      "[ 1234.000000] a[1]: segfault at 0xffffffffffffff01 ip ffffffffffffff02 sp fffffffffffffff0 error 5",
    );
    assert.equal(e.addr, 0xffffffffffffff01n);
    assert.equal(e.ip, 0xffffffffffffff02n);
  });

  it('"%s[%d] trap %s ip:%lx sp:%lx error:%lx"', () => {
    assert.deepEqual(
      one("[ 1234.000000] word_count-pthr[29] trap divide error ip:401b7e sp:7fffb17f9bc0 error:0"),
      {
        type: "segfault",
        kind: "trap",
        comm: "word_count-pthr",
        pid: 29,
        trap: "divide error",
        ip: 0x401b7en,
        sp: 0x7fffb17f9bc0n,
        error: 0,
      },
    );
  });

  it('"%s[%d] general protection ip:%lx sp:%lx error:%lx"', () => {
    assert.deepEqual(
      one("[ 1234.000000] python[33] general protection ip:7f11d4a3c2e1 sp:7fff5fbff8a0 error:0"),
      {
        type: "segfault",
        kind: "general-protection",
        comm: "python",
        pid: 33,
        ip: 0x7f11d4a3c2e1n,
        sp: 0x7fff5fbff8a0n,
        error: 0,
      },
    );
  });

  it("a kernel-mode `general protection fault: 0000 [#1] SMP` is a crash, not this family's", () => {
    assert.equal(direct("[  868.725010] general protection fault: 0000 [#1] SMP PROCESSOR"), null);
    assert.equal(direct("[  868.725010] general protection fault: 0000 [#1] SMP"), null);
  });

  it('"potentially unexpected fatal signal %d."', () => {
    assert.deepEqual(one("[ 1234.000000] potentially unexpected fatal signal 11."), {
      type: "segfault",
      kind: "fatal-signal",
      signal: 11,
    });
  });

  it('"CPU%d PID:%d fail to allocate pcache or victim cache lines."', () => {
    assert.deepEqual(one("[ 1234.000000] CPU12 PID:21 fail to allocate pcache or victim cache lines."), {
      type: "alloc_abort",
      what: "pcache-or-victim",
      cpu: 12,
      pid: 21,
    });
  });

  it('"# CPU%d PID%d Abort pcache alloc (%ums) addr:%#lx pset:%lu"', () => {
    assert.deepEqual(
      one("[ 1234.000000] # CPU12 PID21 Abort pcache alloc (30001ms) addr:0x7fffb0f7c000 pset:1024"),
      {
        type: "alloc_abort",
        what: "pcache",
        cpu: 12,
        pid: 21,
        ms: 30001,
        addr: 0x7fffb0f7c000n,
      },
    );
  });

  it('"CPU%d PID%d Abort victim alloc (%ums) nr_usable_victims: %d. From pset_idx:%lu nr_hint_victim:%d nr_lru:%d fault_uva: %#lx"', () => {
    const text =
      "[ 1234.000000] CPU14 PID22 Abort victim alloc (20010ms) nr_usable_victims: 0. From pset_idx:17 nr_hint_victim:8 nr_lru:8 fault_uva: 0x4e853010";
    assert.deepEqual(one(text), {
      type: "alloc_abort",
      what: "victim",
      cpu: 14,
      pid: 22,
      ms: 20010,
      addr: 0x4e853010n,
    });
  });

  it('an earlier victim.c: "CPU%d PID:%d Abort victim alloc (%ums) nr_usable_victims: %d req from pset:%p, pset_idx:%lu, nr_lru:%d"', () => {
    // victim_alloc_slowpath() before the `fault_uva` wording: a colon after PID, no address.
    const text =
      "[ 1234.000000] CPU6 PID:23 Abort victim alloc (20010ms) nr_usable_victims: 0 req from pset:ffff88207e0c1a40, pset_idx:1033, nr_lru:7";
    assert.deepEqual(one(text), { type: "alloc_abort", what: "victim", cpu: 6, pid: 23, ms: 20010 });
  });

  it("seed b01: word_count-pthr[29] segfault at 0x4e842010, and the bare `0x4e842010` note is not one", () => {
    const evs = parseLines(segfaultFamily, readFileSync(new URL("b01.log", SEED), "utf8"));
    assert.equal(evs.length, 1);
    assert.equal(evs[0]!.line, 13);
    assert.equal(evs[0]!.ts, 227.72314);
    assert.deepEqual(body(evs[0]!), {
      type: "segfault",
      kind: "segfault",
      comm: "word_count-pthr",
      pid: 29,
      addr: 0x4e842010n,
      ip: 0x420354n,
      sp: 0x7fffb17f9bc0n,
      error: 6,
    });
  });

  it("seed b02p: pid 26 without a stamp", () => {
    const evs = parseLines(segfaultFamily, readFileSync(new URL("b02p.log", SEED), "utf8"));
    assert.equal(evs.length, 1);
    assert.equal(evs[0]!.ts, null);
    assert.equal(evs[0]!.line, 3);
    assert.equal(body(evs[0]!).pid, 26);
    assert.equal(body(evs[0]!).addr, 0x4e853010n);
  });

  it("seed b19: the kernel `general protection fault` inside an Oops is not a user fault", () => {
    assert.deepEqual(parseLines(segfaultFamily, readFileSync(new URL("b19.log", SEED), "utf8")), []);
  });

  it("author notes in the seed fixtures produce no events", () => {
    for (const { file, text } of seedNotes()) assert.deepEqual(parseLines(segfaultFamily, text), [], file);
  });

  it("parse never throws, on any text or on keys mixed with noise", () => {
    const piece = fc.oneof(
      fc.string(),
      fc.constantFrom(...segfaultFamily.keys),
      fc.constantFrom(
        "comm",
        "[12]",
        "[",
        "]",
        " ip ",
        " sp ",
        " error ",
        "ip:",
        "(null)",
        "0x",
        "ffff",
        "CPU3 ",
        "PID4",
      ),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(piece, { maxLength: 12 }), (stamp, parts) => {
        const e = direct(`${stamp ? "[  123.456789] " : ""}${parts.join("")}`);
        assert.ok(e === null || e.type === "segfault" || e.type === "alloc_abort");
      }),
      { numRuns: 2000 },
    );
  });
});
