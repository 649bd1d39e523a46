import { KeyFinder } from "./prefilter.js";

/**
 * Crash and warning report formats as data, after syzkaller's `pkg/report`: each row is a header
 * that opens (or joins) a report and a title template. Adding a format is adding a row.
 * Sources: formats.md F9-F13 and F15 (LegoOS), and the Linux forms a storage node or a stock kernel prints.
 */

/** What a header line does to the node's open report. */
export type HeaderRole =
  /** Starts a new report (closing an open one as truncated). */
  | "start"
  /** `------------[ cut here ]------------`: a report whose kind the next header decides. */
  | "cut"
  /** A die line (`Oops:`, `general protection fault:`...): joins an open report that has none yet. */
  | "die"
  /** `Kernel panic - not syncing`: the last stage of an open report, or a report of its own. */
  | "panic"
  /** An end marker: closes the open report as complete. */
  | "end";

/** One row of the format table. */
export interface CrashFormat {
  /** Short name of the format, kept in the event's `kind`. */
  kind: string;
  /** `warning` for WARN blocks (the node goes on), `crash` for everything else. */
  type: "crash" | "warning";
  role: HeaderRole;
  /** Cheap literal tests before the regex: a header holds one of them. */
  literals: readonly string[];
  header: RegExp;
  /**
   * Title template. `{fn}` is the guilty function, `$1`... are the header's captures. A template whose
   * `{fn}` is unknown falls back to `fallback` (or the template with ` in {fn}` dropped).
   */
  title: string;
  fallback?: string;
  /** Capture index holding the function named by the header itself (`BUG: failure at f:l/fn()!`). */
  fnGroup?: number;
  /** Capture index holding a `file:line` location. */
  whereGroup?: number;
  /** Capture index holding the faulting address. */
  addressGroup?: number;
  /** Capture index holding the die counter `[#N]`. */
  dieGroup?: number;
  /** Capture index holding a panic reason. */
  reasonGroup?: number;
}

const DIE_TRAPS =
  "general protection fault|divide error|invalid opcode|int3|overflow|bounds|invalid TSS|segment not present|stack segment|alignment check|coprocessor segment overrun|fpu exception|simd exception|Bad pagetable";

/** The table, most specific rows first. */
export const CRASH_FORMATS: readonly CrashFormat[] = [
  {
    kind: "oops",
    type: "crash",
    role: "start",
    literals: ["BUG: unable to handle kernel "],
    header: /^BUG: unable to handle kernel (NULL pointer dereference|paging request)(?: at (.*\S))?/,
    title: "BUG: unable to handle kernel $1 in {fn}",
    addressGroup: 2,
  },
  {
    // Linux 4.17+ wording; syzkaller keeps the old titles for it.
    kind: "oops",
    type: "crash",
    role: "start",
    literals: ["BUG: kernel NULL pointer dereference"],
    header: /^BUG: kernel NULL pointer dereference, address: (\S+)/,
    title: "BUG: unable to handle kernel NULL pointer dereference in {fn}",
    addressGroup: 1,
  },
  {
    kind: "oops",
    type: "crash",
    role: "start",
    literals: ["BUG: unable to handle page fault"],
    header: /^BUG: unable to handle page fault for address: (\S+)/,
    title: "BUG: unable to handle kernel paging request in {fn}",
    addressGroup: 1,
  },
  {
    kind: "bug",
    type: "crash",
    role: "start",
    literals: ["BUG: failure at "],
    header: /^BUG: failure at (([^:\s]+):(\d+))\/(\w+)\(\)!/,
    title: "kernel BUG in {fn}",
    fallback: "kernel BUG at $1",
    fnGroup: 4,
    whereGroup: 1,
  },
  {
    kind: "bug",
    type: "crash",
    role: "start",
    literals: ["kernel BUG at "],
    header: /^kernel BUG at ([^!\s]+)!/,
    title: "kernel BUG in {fn}",
    fallback: "kernel BUG at $1",
    whereGroup: 1,
  },
  {
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: "],
    header: /^WARNING: (?:CPU: ?\d+ PID: ?\d+ )?at (?:(\S+:\d+) )?(\S+)/,
    title: "WARNING in {fn}",
    fallback: "WARNING at $1",
    whereGroup: 1,
    fnGroup: 2,
  },
  {
    kind: "deadlock",
    type: "crash",
    role: "start",
    literals: ["Possible deadlock happend"],
    header: /^Possible deadlock happend locker_cpu: (-?\d+)/,
    title: "possible deadlock in {fn}",
    fallback: "possible deadlock (locker cpu $1)",
  },
  {
    kind: "exception",
    type: "crash",
    role: "start",
    literals: ["PANIC: double fault", "PANIC: machine check", "PANIC: virtualization", "PANIC: reserved"],
    header: /^PANIC: (double fault|machine check|virtualization exception|reserved exception)/,
    title: "$1 in {fn}",
    fallback: "PANIC: $1",
  },
  {
    kind: "die",
    type: "crash",
    role: "die",
    // Traps without an error code print 0000.
    literals: DIE_TRAPS.split("|").map((t) => (t.length < 8 ? `${t}: 0000` : t)),
    header: new RegExp(`^(${DIE_TRAPS})(?:,[^:]*)?: [0-9a-f]{4} \\[#(\\d+)\\]`),
    title: "$1 in {fn}",
    dieGroup: 2,
  },
  {
    kind: "die",
    type: "crash",
    role: "die",
    // The error code is a page-fault code, `%04lx` of a value under 0x100.
    literals: ["Oops: 00"],
    header: /^Oops: [0-9a-f]{4} \[#(\d+)\]/,
    title: "Oops in {fn}",
    dieGroup: 1,
  },
  {
    kind: "panic",
    type: "crash",
    role: "panic",
    literals: ["not syncing"],
    header: /^Kernel [Pp]anic - not syncing: ?(.*?)\s*$/,
    title: "kernel panic: $1",
    reasonGroup: 1,
  },
  {
    kind: "end",
    type: "crash",
    role: "end",
    literals: ["---[ end "],
    header: /^---\[ end (?:trace [0-9a-f]+|Kernel [Pp]anic - not syncing)/,
    title: "",
  },
  {
    kind: "cut",
    type: "crash",
    role: "cut",
    literals: ["cut here"],
    header: /^-{12}\[ cut here \]-{12}$|^-{19} cut here -{19}$/,
    title: "",
  },
];

/** Literals of every header: a line without any of them cannot open or shape a report. */
export const CRASH_LITERALS: readonly string[] = [...new Set(CRASH_FORMATS.flatMap((f) => f.literals))];

/** One search for all the literals, so that most lines skip the row-by-row tests. */
const ANY_LITERAL = new KeyFinder(CRASH_LITERALS);

/** Finds the format row a line's message is a header of. */
export function matchHeader(msg: string): { format: CrashFormat; m: RegExpExecArray } | null {
  if (ANY_LITERAL.find(msg) === null) return null;
  for (const format of CRASH_FORMATS) {
    if (!format.literals.some((l) => msg.includes(l))) continue;
    const m = format.header.exec(msg);
    if (m) return { format, m };
  }
  return null;
}

/**
 * Frames that report the crash rather than cause it: the guilty function is the first frame
 * not on this list (syzkaller's "frames to skip").
 */
export const SKIP_FRAMES =
  /^(?:panic|__warn|warn_slowpath\w*|warn_on\w*|report_bug|dump_stack\w*|show_stack|show_regs|__die|die|oops_end|do_trap|do_error_trap|do_\w+_trap|do_general_protection|do_divide_error|do_invalid_op|exc_\w+|asm_exc_\w+|handle_bug|no_context|__bad_area\w*|bad_area\w*|page_fault|do_page_fault|__do_page_fault|async_page_fault|spin_dump|do_raw_spin_lock|_raw_spin_\w+|spin_lock\w*|__spin_lock\w*|lock_acquire|debug_spin_lock\w*|cpu_dumpstack|smp_call_function\w*|print_hex_dump|kthread|ret_from_fork\w*)$/;

/** Fills a title template. */
export function renderTitle(format: CrashFormat, m: RegExpExecArray, fn: string | undefined): string {
  const fill = (t: string) => t.replace(/\$(\d)/g, (_, i: string) => m[Number(i)] ?? "").trim();
  if (fn) return fill(format.title.replace("{fn}", fn));
  if (format.fallback) return fill(format.fallback);
  return fill(format.title.replace(/ in \{fn\}$/, "").replace("{fn}", "?"));
}
