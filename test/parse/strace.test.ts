import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { baseOf } from "../../src/parse/family.js";
import { straceFamily } from "../../src/parse/strace.js";
import { body, line, parseLines, seedNotes } from "../helpers.js";

const SEED = new URL("../fixtures/seed/", import.meta.url);

function one(text: string): Record<string, unknown> {
  const evs = parseLines(straceFamily, text);
  assert.equal(evs.length, 1, `expected one event from ${JSON.stringify(text)}`);
  return body(evs[0]!);
}

function direct(text: string) {
  const l = line(text);
  return straceFamily.parse(l, baseOf(l));
}

describe("strace family (F18)", () => {
  it('April leave: "CPU%d PID%d %s(...) = %d, %#lx"', () => {
    assert.deepEqual(
      one("[  227.054974] CPU14 PID22 strace__munmap([0x7fffb0ba9000 - 0x7fffb4000000], 54882304) = 0, 0x0"),
      {
        type: "strace",
        cpu: 14,
        pid: 22,
        syscall: "munmap",
        args: "[0x7fffb0ba9000 - 0x7fffb4000000], 54882304",
        ret: { int: 0, hex: 0n },
      },
    );
  });

  it('April enter: "CPU%d PID%d %s(...)" has no return', () => {
    assert.deepEqual(one("[ 1234.000000] CPU3 PID20 strace__pipe2(fds=0x7fffffffe5c0, flags=0x80000)"), {
      type: "strace",
      cpu: 3,
      pid: 20,
      syscall: "pipe2",
      args: "fds=0x7fffffffe5c0, flags=0x80000",
    });
  });

  it('from 2018-04-17: "CPU%d PID%d-%s %s(...)", comm with `-` and blanks', () => {
    assert.deepEqual(
      one("[ 1234.000000] CPU14 PID22-word_count-pthr strace__mmap(addr=0x0, len=0x1000) = 4096, 0x1000"),
      {
        type: "strace",
        cpu: 14,
        pid: 22,
        comm: "word_count-pthr",
        syscall: "mmap",
        args: "addr=0x0, len=0x1000",
        ret: { int: 4096, hex: 0x1000n },
      },
    );
    const spaced = one("[ 1234.000000] CPU2 PID9-my prog - x strace__dup2(3, 1) = 1, 0x1");
    assert.equal(spaced.comm, "my prog - x");
    assert.equal(spaced.syscall, "dup2");
  });

  it('generic: "CPU%d PID%d sys_execve" and "CPU%d PID%d sys_execve = 0, 0x0", with and without comm', () => {
    assert.deepEqual(one("[ 3867.573670] CPU12 PID21 sys_execve"), {
      type: "strace",
      cpu: 12,
      pid: 21,
      syscall: "execve",
    });
    assert.deepEqual(one("[ 3867.584215] CPU12 PID21 sys_execve = 0, 0x0"), {
      type: "strace",
      cpu: 12,
      pid: 21,
      syscall: "execve",
      ret: { int: 0, hex: 0n },
    });
    assert.deepEqual(one("[ 3867.584215] CPU12 PID21-exe.o sys_wait4 = 22, 0x16"), {
      type: "strace",
      cpu: 12,
      pid: 21,
      comm: "exe.o",
      syscall: "wait4",
      ret: { int: 22, hex: 0x16n },
    });
  });

  it("the hex return is the real value; the decimal is int-truncated", () => {
    const e = one(
      "[ 1234.000000] CPU18 PID24 strace__mmap(addr=0x0, len=0x4000000) = -1325940736, 0x7fffb0f7c000",
    );
    assert.deepEqual(e.ret, { int: -1325940736, hex: 0x7fffb0f7c000n });
    const err = one("[ 1234.000000] CPU18 PID24 strace__mmap(addr=0x0) = -12, 0xfffffffffffffff4");
    assert.deepEqual(err.ret, { int: -12, hex: 0xfffffffffffffff4n });
  });

  it("the developer abbreviation `strace__mmap(30 ..) = ...` does not throw", () => {
    const e = direct("CPU18 PID24 strace__mmap(30 ..) = -1325940736, 0x7fffb0f7c000");
    assert.ok(e === null || e.type === "strace");
  });

  it("the summary table's rows are not per-call lines", () => {
    assert.equal(
      direct("[ 2551.712141]  98.63   66.942660568    66942661         1         0 sys_wait4"),
      null,
    );
  });

  it("seed b01: eleven munmap leaves", () => {
    const evs = parseLines(straceFamily, readFileSync(new URL("b01.log", SEED), "utf8"));
    assert.equal(evs.length, 11);
    assert.deepEqual(
      evs.map((e) => (e.type === "strace" ? `${e.cpu}/${e.pid}/${e.syscall}` : "")),
      [
        "14/22/munmap",
        "16/23/munmap",
        "14/22/munmap",
        "18/24/munmap",
        "16/23/munmap",
        "22/26/munmap",
        "2/28/munmap",
        "14/31/munmap",
        "12/30/munmap",
        "14/31/munmap",
        "18/33/munmap",
      ],
    );
  });

  it("seed b02p: the unstamped mmap with `fd=18446744073709551615( )` in its args", () => {
    const evs = parseLines(straceFamily, readFileSync(new URL("b02p.log", SEED), "utf8"));
    assert.equal(evs.length, 1);
    assert.equal(evs[0]!.ts, null);
    assert.deepEqual(body(evs[0]!), {
      type: "strace",
      cpu: 22,
      pid: 26,
      syscall: "mmap",
      args: "addr=0x0, len=0xfb000, prot(0x3)=PROT_READ|PROT_WRITE, flags(0x22)=MAP_PRIVATE|MAP_ANONYMOUS, fd=18446744073709551615( ), off=0x0",
      ret: { int: 1317351432, hex: 0x4e853008n },
    });
  });

  it("author notes in the seed fixtures produce no events (the `grep __munmap` prompt included)", () => {
    for (const { file, text } of seedNotes()) assert.deepEqual(parseLines(straceFamily, text), [], file);
  });

  it("parse never throws, on any text or on keys mixed with noise", () => {
    const piece = fc.oneof(
      fc.string(),
      fc.constantFrom(...straceFamily.keys),
      fc.constantFrom(
        "CPU1",
        " PID2",
        "-",
        " ",
        "(",
        ")",
        " = ",
        "-1",
        ", ",
        "0x",
        "ff",
        "strace__mmap",
        "sys_read",
      ),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(piece, { maxLength: 14 }), (stamp, parts) => {
        const e = direct(`${stamp ? "[  123.456789] " : ""}${parts.join("")}`);
        assert.ok(e === null || e.type === "strace");
      }),
      { numRuns: 2000 },
    );
  });
});
