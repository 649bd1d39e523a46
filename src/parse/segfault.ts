import type { AllocAbortEvent, EventBase, SegfaultEvent } from "./events.js";
import { eventOf, type FormatRow, firstRow, hex, type LineFamily } from "./family.js";
import type { LogLine } from "./line.js";

/**
 * User-program faults and the processor's allocation aborts (formats.md F14). A comm is at most 15
 * characters and may hold `-`, blanks or brackets, so it is matched as a short lazy run up to the
 * `[pid]` that the rest of the line confirms. A kernel-mode `general protection fault: 0000 [#1]`
 * header is a crash report, not this family's: no row matches it.
 */

type SegfaultFields = Omit<SegfaultEvent, keyof EventBase>;
type AbortFields = Omit<AllocAbortEvent, keyof EventBase>;

type Row = FormatRow<SegfaultFields | AbortFields>;

/** `comm[pid]` at the start of the line. */
const TASK = "^(.{1,16}?)\\[(\\d+)\\]";

/** An `%lx` error code. */
const errorCode = (s: string) => Number.parseInt(s, 16);

const ROWS: readonly Row[] = [
  {
    // `%p` prints a NULL ip or sp as `(null)` right-aligned in 16 columns, hence `\s+`.
    re: new RegExp(`${TASK}: segfault at (\\S+) ip\\s+(\\S+) sp\\s+(\\S+) error ([0-9a-fA-F]+)`),
    build: (m) => {
      const [addr, ip, sp] = [hex(m[3]!), hex(m[4]!), hex(m[5]!)];
      if (addr === null || ip === null || sp === null) return null;
      return {
        type: "segfault",
        kind: "segfault",
        comm: m[1]!,
        pid: Number(m[2]),
        addr,
        ip,
        sp,
        error: errorCode(m[6]!),
      };
    },
  },
  {
    // The trap name has blanks (`divide error`, `invalid opcode`).
    re: new RegExp(`${TASK} trap (.+?) ip:([0-9a-fA-F]+) sp:([0-9a-fA-F]+) error:([0-9a-fA-F]+)`),
    build: (m) => ({
      type: "segfault",
      kind: "trap",
      comm: m[1]!,
      pid: Number(m[2]),
      trap: m[3]!,
      ip: hex(m[4]!)!,
      sp: hex(m[5]!)!,
      error: errorCode(m[6]!),
    }),
  },
  {
    re: new RegExp(`${TASK} general protection ip:([0-9a-fA-F]+) sp:([0-9a-fA-F]+) error:([0-9a-fA-F]+)`),
    build: (m) => ({
      type: "segfault",
      kind: "general-protection",
      comm: m[1]!,
      pid: Number(m[2]),
      ip: hex(m[3]!)!,
      sp: hex(m[4]!)!,
      error: errorCode(m[5]!),
    }),
  },
  {
    re: /^potentially unexpected fatal signal (\d+)/,
    build: (m) => ({ type: "segfault", kind: "fatal-signal", signal: Number(m[1]) }),
  },
  {
    re: /^CPU(\d+) PID:(\d+) fail to allocate pcache or victim cache lines/,
    build: (m) => ({ type: "alloc_abort", what: "pcache-or-victim", cpu: Number(m[1]), pid: Number(m[2]) }),
  },
  {
    re: /^#?\s*CPU(\d+) PID(\d+) Abort pcache alloc \((\d+)ms\)(?: addr:\s*(\S+))?/,
    build: (m) => abort("pcache", m),
  },
  {
    // The faulting address comes last, after the victim counts: `... fault_uva: 0x7fff...`. An earlier
    // victim.c printed `CPU%d PID:%d Abort victim alloc (%ums) nr_usable_victims: %d req from
    // pset:%p, pset_idx:%lu, nr_lru:%d`: a colon after PID and no address.
    re: /^#?\s*CPU(\d+) PID:?(\d+) Abort victim alloc \((\d+)ms\)(?:.* fault_uva:\s*(\S+))?/,
    build: (m) => abort("victim", m),
  },
];

function abort(what: "pcache" | "victim", m: RegExpExecArray): AbortFields {
  const e: AbortFields = {
    type: "alloc_abort",
    what,
    cpu: Number(m[1]),
    pid: Number(m[2]),
    ms: Number(m[3]),
  };
  const addr = m[4] === undefined ? null : hex(m[4]);
  if (addr !== null) e.addr = addr;
  return e;
}

/**
 * User faults (`segfault at`, `trap`, `general protection`, fatal signals) as `segfault` events and
 * pcache/victim allocation aborts as `alloc_abort` events (F14).
 */
export const segfaultFamily: LineFamily = {
  name: "segfault",
  keys: [
    "]: segfault at ",
    "] trap ",
    "] general protection ip:",
    "potentially unexpected fatal signal",
    "fail to allocate pcache or victim",
    "Abort pcache alloc",
    "Abort victim alloc",
  ],
  parse(line: LogLine, base: EventBase): SegfaultEvent | AllocAbortEvent | null {
    const fields = firstRow(ROWS, line.msg);
    // `fields` carries the type; assigning it again keeps its place after the base.
    return fields ? eventOf<SegfaultEvent | AllocAbortEvent>(base, fields.type, fields as never) : null;
  },
};
