import type { CorruptionEvent, EventBase } from "./events.js";
import { eventOf, type FieldsOf, type FormatRow, firstRow, hex, type LineFamily } from "./family.js";
import type { LogLine } from "./line.js";

/**
 * Memory-corruption diagnostics (formats.md F23): a bad page-table entry, or an object dumped with
 * the reason why. The dump rows around the `dumped because` line (`pte:... pfn:... flags:()`) are
 * context, not events.
 */

type Fields = FieldsOf<CorruptionEvent>;

type Row = FormatRow<Fields>;

const ROWS: readonly Row[] = [
  {
    // `%p` is 16 hex digits without `0x`, or `(null)`; the value is `%016lx`.
    re: /^(\S+:\d+): bad (pte|pmd|pud|pgd) (\S+)\(([0-9a-fA-F]+)\)/,
    build: (m) => {
      const addr = hex(m[3]!);
      if (addr === null) return null;
      return { what: `bad-${m[2]}`, where: m[1]!, addr, value: hex(m[4]!)! };
    },
  },
  {
    // The victim dump indents its line by four blanks.
    re: /^\s*(pte|page|pcache|pcache_rmap|victim) dumped because: (.*)$/,
    build: (m) => ({ what: `${m[1]}-dumped`, reason: m[2]!.trimEnd() }),
  },
];

/** Bad page-table entries and `... dumped because:` lines (F23) as `corruption` events. */
export const corruptionFamily: LineFamily = {
  name: "corruption",
  keys: [": bad pte ", ": bad pmd ", ": bad pud ", ": bad pgd ", " dumped because: "],
  parse(line: LogLine, base: EventBase): CorruptionEvent | null {
    const fields = firstRow(ROWS, line.msg);
    return fields ? eventOf<CorruptionEvent>(base, "corruption", fields) : null;
  },
};
