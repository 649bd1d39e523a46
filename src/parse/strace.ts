import type { EventBase, StraceEvent } from "./events.js";
import { eventOf, hex, type LineFamily } from "./family.js";
import type { LogLine } from "./line.js";

/**
 * Per-syscall strace lines (formats.md F18): April's `CPU%d PID%d name(args)`, the `PID%d-comm`
 * form from 2018-04-17, and the generic `sys_xxx` lines of syscalls without a decoder, each as an
 * enter line or a leave line ending `= %d, %#lx`.
 *
 * The comm may hold `-` and blanks, so it is not split on either: it is the shortest run (15
 * characters at most) that the syscall name confirms. The args are greedy up to the last `)`, since
 * they contain parentheses of their own (`fd=18446744073709551615( )`).
 */
const STRACE =
  /^CPU(\d+) PID(\d+)(?:-(.{1,16}?))? (strace__\w+|[Ss]y[Ss]_\w+)(?:\((.*)\))?(?: = (-?\d+), ((?:0x)?[0-9a-fA-F]+))?\s*$/;

/** The summary table's rows end in `sys_xxx` too; the anchored `CPU%d PID%d` keeps them out. */
const PREFIX = /^(?:strace__|sys_)/i;

/** Strace per-call lines (F18) as `strace` events. `syscall` is the bare name (`mmap`, `execve`). */
export const straceFamily: LineFamily = {
  name: "strace",
  keys: ["strace__", " sys_", " SyS_"],
  parse(line: LogLine, base: EventBase): StraceEvent | null {
    const m = STRACE.exec(line.msg);
    if (!m) return null;
    const e = eventOf<StraceEvent>(base, "strace", {
      cpu: Number(m[1]),
      pid: Number(m[2]),
      syscall: m[4]!.replace(PREFIX, ""),
    });
    if (m[3] !== undefined) e.comm = m[3];
    if (m[5] !== undefined) e.args = m[5];
    if (m[6] !== undefined) {
      // The decimal is the value cast to int; the hex is the real u64 return.
      e.ret = { int: Number(m[6]), hex: hex(m[7]!) ?? 0n };
    }
    return e;
  },
};
