import type { EventBase, HandlerErrorEvent } from "./events.js";
import { eventOf, type FieldsOf, type FormatRow, firstRow, hex, type LineFamily } from "./family.js";
import type { LogLine } from "./line.js";

/**
 * Memory-manager handler errors (formats.md F16). The `src_nid:` line is printed inside a WARNING
 * block in April (it is the `WARN()` text) and just before one at HEAD; either way it is a line of
 * its own. The three pcache-miss reasons are whole short messages, so their rows match the whole
 * line: anything longer is prose that mentions them.
 */

type Fields = FieldsOf<HandlerErrorEvent>;

type Row = FormatRow<Fields>;

const ROWS: readonly Row[] = [
  {
    re: /^Unknown: opcode: (\d+), from node: (\d+)/,
    build: (m) => ({ what: "unknown-opcode", op: Number(m[1]), srcNid: Number(m[2]) }),
  },
  {
    re: /^src_nid:\s*(\d+),\s*pid:\s*(\d+),\s*vaddr:\s*(\S+)/,
    build: (m) => {
      const vaddr = hex(m[3]!);
      return vaddr === null ? null : { what: "bad-address", srcNid: Number(m[1]), pid: Number(m[2]), vaddr };
    },
  },
  { re: /^fail to find vma\s*$/, build: () => ({ what: "no-vma" }) },
  { re: /^not a stack\s*$/, build: () => ({ what: "not-stack" }) },
  { re: /^fail to expand stack\s*$/, build: () => ({ what: "stack-expand" }) },
];

/**
 * Unknown opcodes, failed pcache misses and stack errors of the memory manager (F16) as
 * `handler_error` events.
 */
export const handlerErrorFamily: LineFamily = {
  name: "handler_error",
  keys: ["Unknown: opcode: ", "src_nid:", "fail to find vma", "not a stack", "fail to expand stack"],
  parse(line: LogLine, base: EventBase): HandlerErrorEvent | null {
    const fields = firstRow(ROWS, line.msg);
    return fields ? eventOf<HandlerErrorEvent>(base, "handler_error", fields) : null;
  },
};
