import {
  type CrashFormat,
  type FrameSource,
  matchHeader,
  normalizeTitle,
  renderTitle,
  SKIP_FRAMES,
} from "./crash-formats.js";
import { baseName, linuxGuilty } from "./crash-guilty.js";
import { frameLine, ipLine, isDumpLine, registers, taskLine } from "./dump.js";
import type { CrashEvent, Emit, Frame } from "./events.js";
import { baseOf } from "./family.js";
import type { LogLine } from "./line.js";

/**
 * A panic this many lines into a Linux report is panic_on_warn's (or the stall's) epilogue: its stack
 * repeats the report's, so syzkaller reads nothing after it, and nor do Linux titles here.
 */
const PANIC_EPILOGUE_LINES = 22;
/** How many foreign lines a report tolerates in a row before it is taken as cut off. */
const FOREIGN_LIMIT = 40;
/** Kernel seconds of silence inside a report after which the report is taken as cut off. */
const GAP_LIMIT_S = 30;
/** Free-text lines a WARN or BUG may print between its header and its register dump. */
const MESSAGE_LINES = 4;

// Linux since 4.x prints frames without addresses and a few lines LegoOS never prints.
const LINUX_FRAME = /^\s*(\? )?([\w.$]+\+0x[0-9a-f]+\/0x[0-9a-f]+)(?: \[[\w-]+\])?\s*$/;
// 32-bit arm's unwinder: `[<80a2d198>] (mmc_blk_mq_complete_rq) from [<804f7f3c>] (blk_mq_complete_request+0x24/0x30)`.
const ARM_FRAME = /^\s*\[<([0-9a-f]{8,16})>\] \(([\w.$]+)(?:\+0x[0-9a-f]+\/0x[0-9a-f]+)?\) from /;
const LINUX_DUMP =
  /^(?:#PF: |Modules linked in:|Hardware name:|Workqueue:|Kernel Offset:|<\/?(?:TASK|IRQ|NMI|SOFTIRQ)>|DR[0-7]: |PKRU: |RIP: 0033:|Tainted: |irq event stamp:|hardirqs |softirqs |Dumping ftrace|Rebooting in|Current call stack:|---\[ end trace|(?:lr|sp) : |LR is at |pstate: |x\d+ ?: |Mem abort info:|Data abort info:|(?:ESR|EC|SET|FnV|EA|S1PTW|FSC|ISV|ISS|CM|WnR|TnD|TagAccess|GCS|Overlay|DirtyBit|Xs) = |(?:user|swapper) pgtable:|\[[0-9a-f]{16}\] pgd=)/;

/** A line that starts with one of `parts` (regex sources), then `tail`. */
function lineOf(parts: readonly string[], tail = ""): RegExp {
  return new RegExp(`^(?:${parts.map((p) => `(?:${p})`).join("|")})${tail}`);
}

/**
 * Lines that open a stack in a Linux report: the call trace, KASAN's allocation and free stacks,
 * kmemleak's backtrace, lockdep's dependency chain and state stacks, KCSAN's two accesses, KFENCE's
 * access, allocation and free stacks, KMSAN's origins, page_owner's stacks. (KMSAN's first stack has
 * no line of its own: its header opens it, see `stackAfterHeader`.)
 */
const STACK_START = lineOf(
  [
    "Call [Tt]race:",
    "Backtrace:",
    "(?:Allocated|Freed) by task \\d+:",
    "(?:Second to last p|Last p)otentially related work creation:",
    "backtrace(?: \\(crc [0-9a-f]+\\))?:",
    "-> #\\d+ .*:",
    ".* state was registered at:",
    "which became \\S+ at:",
    "to a \\S+ lock at:",
    "(?:read|write|read-write)(?: \\(marked\\))? to 0x[0-9a-f]+ of \\d+ bytes by .*:",
    "(?:allocated|freed) by task \\d+ .*:",
    "(?:Use-after-free|Out-of-bounds|Invalid) (?:read|write) at .*:",
    "Invalid free of .*:",
    "Corrupted memory at .*:",
    // KMSAN's origins of the uninitialized value (mm/kmsan/report.c).
    "Uninit was (?:created|stored to memory) at:",
    "Local variable \\S+ created at:",
    // page_owner's allocation and free stacks under a bad page (mm/page_owner.c).
    "page last allocated via .*",
    "page last free (?:pid \\d+ tgid \\d+ )?stack trace:",
  ],
  "\\s*$",
);

/** Text of Linux reports that belongs to the report (shown with it) without being a dump line. */
const LINUX_TEXT = lineOf([
  "[=-]{20,}$",
  "(?:Read|Write) (?:of size|at addr) ",
  "Bytes? \\d+(?:-\\d+)? of \\d+ (?:is|are) uninitialized",
  "Memory access of size \\d+ starts at ",
  "Data copied to user address ",
  "The buggy address ",
  "Memory state around the buggy address",
  "[> ]?[0-9a-f]{16}: [0-9a-f]{2} ",
  "\\^$",
  "page:[0-9a-f]+ ",
  "flags: 0x",
  "raw: ",
  "page dumped because:",
  "page_type: ",
  "page_owner tracks the page as ",
  "page has been migrated, ",
  "Disabling lock debugging",
  "Not tainted ",
  '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs"',
  "task:\\S.* state:",
  "rcu: ",
  "\\(detected by \\d+",
  "\\(t=\\d+ jiffies",
  "Sending NMI from CPU",
  "NMI backtrace for cpu",
  "Showing all locks held",
  "\\d+ locks? held by ",
  "#\\d+: [0-9a-f]+ ",
  "other info that might help",
  "Possible unsafe locking scenario",
  "CPU0 +CPU1",
  "----  +----",
  "lock\\(",
  "<Interrupt>",
  "\\*\\*\\* DEADLOCK \\*\\*\\*",
  "is trying to acquire lock",
  "but task is already holding lock",
  "which lock already depends on the new lock",
  "the existing dependency chain",
  "inconsistent \\{",
  ".* takes:$",
  ".*, at: ",
  "in_atomic\\(\\): ",
  "preempt_count: ",
  "RCU nest depth",
  "Preemption disabled at:",
  "rcu_scheduler_active",
  "stack backtrace:",
  "value changed: ",
  "Reported by Kernel Concurrency Sanitizer",
  "kfence-#\\d+",
  'comm "',
  "hex dump \\(first",
  "[0-9a-f]{2}(?: [0-9a-f]{2}){7,}",
  "shift exponent ",
  "index -?\\d+ is out of range",
  "signed integer overflow",
  "load of value ",
  "KASAN: ",
  "Usage count = ",
]);

/** printk's note that the console fell behind: the report it lands in has lines missing. */
const DROPPED = /^\*\* \d+ printk messages dropped \*\*/;
/** A lockdep `at:` line's function. */
const AT_FN = /\bat: (?:\[<?(?:0x)?[0-9a-f]+>?\] +)?([A-Za-z0-9_]+)[.+]/;
/** Where an RCU stall's timer interrupt came in: the stalled code is below it. */
const TIMER_IRQ = /apic_timer_interrupt|el1h_64_irq/;
/** LegoOS's stack markers and die flags: Linux prints neither. */
const LEGO_MARKER = /^<(?:TSK|EOT|EOI|EOE)>\s*$/;
const LEGO_DIE_FLAGS = /\[#\d+\].*\b(?:PROCESSOR|MEMORY)\b/;

/** One function a report named, in report order: a frame, the faulting IP, or a lockdep `at:`. */
interface Item {
  fn: string;
  kind: "frame" | "rip" | "at";
  /** Index into the report's stacks; 0 before the first stack opened. */
  stack: number;
  reliable: boolean;
}

interface Report {
  /** The printer's caller tag (`T123`, `C1`), "" when the console prints none. */
  caller: string;
  /** `** N printk messages dropped **` came in the middle: lines of it are missing. */
  dropped: boolean;
  format: CrashFormat;
  m: RegExpExecArray;
  lastTs: number | null;
  lines: string[];
  lineNos: number[];
  foreign: number;
  messageLines: number;
  sawDump: boolean;
  inTrace: boolean;
  ev: Omit<CrashEvent, "type" | "title" | "kind" | "truncated">;
  fnFromIp?: string;
  fnFromRip?: string;
  fnFromHeader?: string;
  items: Item[];
  /** The line that opened each stack; index 0 stands for "before any". */
  stacks: string[];
  /** Values of the format's body captures. */
  slots: Map<string, string>;
  /** Captures whose `after` line has been seen. */
  armed: Set<string>;
  /** Kinds of `part` rows this report took in. */
  parts: Set<string>;
  /** Something only LegoOS prints was seen. */
  lego: boolean;
  /** The panic that ended the report. */
  panic?: { format: CrashFormat; m: RegExpExecArray };
  /** How many items and stacks came before a panic epilogue (see {@link PANIC_EPILOGUE_LINES}). */
  epilogue?: { items: number; stacks: number };
}

/** Why a report closed early, for `corruptedReason`. */
type CutBy = "another report" | "unrelated lines" | "a gap in the log" | "the end of the log";

/**
 * Assembles one node's multi-line crash and warning reports. Offered every line of the node, it
 * takes the lines that belong to a report (tolerating foreign lines from other CPUs in between)
 * and emits one {@link CrashEvent} when the report ends: at its end marker, when another report
 * starts, after too many foreign lines, or when {@link CrashAssembler.close} is called because the
 * log ended or the node went quiet. A report cut off because the kernel died still produces its crash.
 */
export class CrashAssembler {
  /**
   * The open reports by printer: a kernel with CONFIG_PRINTK_CALLER tags each line with its task or
   * CPU, and two reports printed at once interleave line by line; without tags there is one.
   */
  private readonly reports = new Map<string, Report>();
  /** The printer of the current line: an untagged line goes with the tagged ones before it. */
  private caller = "";
  /**
   * The report that took the last line. A printer with no report of its own is printing for this one:
   * the NMI backtraces an RCU stall or a lockup asks other CPUs for.
   */
  private last: Report | null = null;

  constructor(private readonly emit: Emit) {}

  /** True while a report is being collected. */
  get busy(): boolean {
    return this.reports.size > 0;
  }

  /** Offers a line; returns true when the line belongs to a report. */
  offer(line: LogLine): boolean {
    const msg = line.msg;
    if (line.caller !== undefined) this.caller = line.caller;
    if (line.ts !== null) {
      for (const r of [...this.reports.values()]) {
        if (r.lastTs !== null && (line.ts - r.lastTs > GAP_LIMIT_S || line.ts < r.lastTs - 1))
          this.closeReport(r, true, "a gap in the log");
      }
    }
    const r = this.reports.get(this.caller) ?? this.last;
    if (r && DROPPED.test(msg)) {
      r.dropped = true;
      this.add(r, line);
      return true;
    }
    const hit = matchHeader(msg);
    if (hit) return this.header(line, hit.format, hit.m);
    return r ? this.body(r, line) : false;
  }

  /** Ends every open report; `cut` says they ended before their end markers, `by` what cut them. */
  close(cut: boolean, by: CutBy = "the end of the log"): void {
    for (const r of [...this.reports.values()]) this.closeReport(r, cut, by);
  }

  private closeReport(r: Report, cut: boolean, by: CutBy): void {
    this.reports.delete(r.caller);
    if (this.last === r) this.last = [...this.reports.values()].pop() ?? null;
    if (r.format.role === "cut") return; // a cut-here marker no header followed
    const lego = r.lego || r.format.lego === true;
    const guilty = lego ? legoGuiltyOf(r) : linuxGuiltyOf(r);
    const fn = guilty.fn;
    const missing = (r.format.captures ?? []).filter((c) => !r.slots.has(c.slot));
    const titled = !lego && r.format.panicTitles && r.panic ? r.panic : r;
    // syzkaller names a frame it could not find `corrupted`.
    const titleFn = fn ?? (lego ? undefined : "corrupted");
    const title = renderTitle(titled.format, titled.m, titleFn, r.slots, lego);
    const ev: CrashEvent = {
      ...r.ev,
      type: r.format.type,
      kind: r.format.kind,
      title: lego ? title : normalizeTitle(title),
      report: r.lines,
      reportLines: r.lineNos,
      truncated: cut,
    };
    if (fn) ev.function = fn;
    const reason =
      r.format.corrupted ??
      (missing.length > 0 ? `no ${missing.map((c) => c.what).join(", ")}` : undefined) ??
      (r.format.noStack ? undefined : ((lego ? undefined : stackProblem(r)) ?? guilty.missing)) ??
      (r.dropped ? "printk messages dropped in it" : undefined);
    if (reason) {
      ev.corrupted = true;
      ev.corruptedReason = cut && !r.format.corrupted ? `${reason}; cut short by ${by}` : reason;
    }
    this.emit(ev);
  }

  private header(line: LogLine, format: CrashFormat, m: RegExpExecArray): boolean {
    const own = this.reports.get(this.caller);
    const r = own ?? this.last;
    switch (format.role) {
      case "end":
        if (!r) return false;
        r.lines.push(line.text);
        r.lineNos.push(line.lineNo);
        this.closeReport(r, false, "the end of the log");
        return true;
      case "panic":
        if (r) {
          r.ev.panic ??= m[1] ?? "";
          r.panic ??= { format, m };
          if (r.lines.length > PANIC_EPILOGUE_LINES)
            r.epilogue ??= { items: r.items.length, stacks: r.stacks.length };
          this.add(r, line);
          return true;
        }
        break;
      case "die":
        // A die line after an Oops head is the same report (the seed's 04/08 BUG + general protection fault).
        if (r && r.ev.die === undefined && r.format.role !== "cut" && r.format.type === "crash") {
          r.ev.die = Number(m[format.dieGroup ?? 1]);
          if (LEGO_DIE_FLAGS.test(line.msg)) r.lego = true;
          this.add(r, line);
          return true;
        }
        break;
      case "part":
        if (r && format.partOf?.includes(r.format.kind) && !r.parts.has(format.kind)) {
          r.parts.add(format.kind);
          if (format.addressGroup && m[format.addressGroup]) r.ev.address ??= m[format.addressGroup];
          this.add(r, line);
          return true;
        }
        break;
      case "start":
        if (own && (own.format.role === "cut" || (format.warnMessage && isWarnHead(own)))) {
          this.restart(own, line, format, m);
          return true;
        }
        break;
      case "cut":
        break;
    }
    // A new report of the same printer ends its last one; another printer's goes on beside it.
    if (own) this.closeReport(own, true, "another report");
    this.start(line, format, m);
    return true;
  }

  private start(line: LogLine, format: CrashFormat, m: RegExpExecArray): void {
    const base = baseOf(line);
    const r: Report = {
      caller: this.caller,
      dropped: false,
      format,
      m,
      lastTs: line.ts,
      lines: [line.text],
      lineNos: [line.lineNo],
      foreign: 0,
      messageLines: 0,
      sawDump: false,
      inTrace: false,
      ev: { ...base, registers: {}, frames: [], report: [], reportLines: [] },
      items: [],
      stacks: [""],
      slots: new Map(),
      armed: new Set(),
      parts: new Set(),
      lego: false,
    };
    if (format.stackAfterHeader) {
      r.stacks.push(m[0]);
      r.inTrace = true;
    }
    this.applyHeader(r, format, m);
    this.reports.set(r.caller, r);
    this.last = r;
  }

  /** A cut-here marker learns which report it opened. */
  private restart(r: Report, line: LogLine, format: CrashFormat, m: RegExpExecArray): void {
    r.format = format;
    r.m = m;
    r.lines.push(line.text);
    r.lineNos.push(line.lineNo);
    r.lastTs = line.ts ?? r.lastTs;
    this.applyHeader(r, format, m);
  }

  private applyHeader(r: Report, format: CrashFormat, m: RegExpExecArray): void {
    if (format.addressGroup && m[format.addressGroup]) r.ev.address = m[format.addressGroup]!.trim();
    if (format.whereGroup && m[format.whereGroup]) r.ev.where = m[format.whereGroup];
    if (format.dieGroup) r.ev.die = Number(m[format.dieGroup]);
    if (format.taskGroups && m[format.taskGroups[0]]) {
      r.ev.comm = m[format.taskGroups[0]];
      r.ev.pid = Number(m[format.taskGroups[1]]);
    }
    if (format.reasonGroup) r.ev.panic = m[format.reasonGroup] ?? "";
    if (format.fnGroup && m[format.fnGroup]) {
      const sym = m[format.fnGroup]!;
      r.fnFromHeader = sym.includes("+") ? sym.slice(0, sym.indexOf("+")) : sym;
    }
    if (format.role === "die" && LEGO_DIE_FLAGS.test(m.input)) r.lego = true;
    const task = /^WARNING: CPU: ?(\d+) PID: ?(\d+)/.exec(m[0]);
    if (task) {
      r.ev.cpu = Number(task[1]);
      r.ev.pid = Number(task[2]);
    }
  }

  private body(r: Report, line: LogLine): boolean {
    const t = textOf(r, line);
    this.capture(r, t);
    if (
      isDumpLine(t) ||
      LINUX_DUMP.test(t) ||
      STACK_START.test(t) ||
      (r.inTrace && (LINUX_FRAME.test(t) || ARM_FRAME.test(t))) ||
      LINUX_TEXT.test(t)
    ) {
      r.sawDump ||= !LINUX_TEXT.test(t);
      this.add(r, line);
      return true;
    }
    // WARN(cond, fmt...) and friends print free text right after the header.
    const freeText = r.format.kind === "warning" || r.format.kind === "bug";
    if (freeText && !r.sawDump && r.messageLines < MESSAGE_LINES && r.foreign === 0 && t.length > 0) {
      r.messageLines++;
      this.add(r, line);
      return true;
    }
    if (++r.foreign > FOREIGN_LIMIT) this.closeReport(r, true, "unrelated lines");
    return false;
  }

  /** Fills the format's body captures from a line, whether or not the line is taken. */
  private capture(r: Report, t: string): void {
    for (const c of r.format.captures ?? []) {
      if (r.slots.has(c.slot)) continue;
      if (c.after && !r.armed.has(c.slot)) {
        if (c.after.test(t)) r.armed.add(c.slot);
        continue;
      }
      const m = c.re.exec(t);
      if (m?.[1]) r.slots.set(c.slot, m[1]);
    }
  }

  private add(r: Report, line: LogLine): void {
    this.last = r;
    const t = textOf(r, line);
    r.lines.push(line.text);
    r.lineNos.push(line.lineNo);
    r.foreign = 0;
    if (line.ts !== null) r.lastTs = line.ts;
    const ev = r.ev;
    if (LEGO_MARKER.test(t)) r.lego = true;
    if (STACK_START.test(t)) {
      r.stacks.push(t);
      r.inTrace = true;
      return;
    }
    if (t === "Current call stack:") {
      r.inTrace = true;
      return;
    }
    const frame = frameLine(t) ?? linuxFrame(t);
    if (frame) {
      ev.frames.push(frame);
      r.items.push({ fn: frame.fn, kind: "frame", stack: r.stacks.length - 1, reliable: frame.reliable });
      return;
    }
    const ip = ipLine(t);
    if (ip) {
      if (ip.from === "IP") r.fnFromIp ??= ip.fn;
      else r.fnFromRip ??= ip.fn;
      ev.ip ??= ip.sym;
      r.items.push({ fn: ip.fn, kind: "rip", stack: r.stacks.length - 1, reliable: true });
      return;
    }
    const task = taskLine(t);
    if (task) {
      ev.cpu ??= task.cpu;
      ev.pid ??= task.pid;
      ev.comm ??= task.comm;
      ev.kernel ??= task.kernel;
      if (/-lego/i.test(t)) r.lego = true;
      return;
    }
    const at = AT_FN.exec(t);
    if (at) {
      r.items.push({ fn: at[1]!, kind: "at", stack: r.stacks.length - 1, reliable: true });
      return;
    }
    if (/^(?:R[A-Z0-9]{1,2}|E[A-Z]{2}|FS|CS|CR2|DR\d):/.test(t)) registers(t, ev.registers);
  }
}

/**
 * A WARNING that has printed its header and perhaps a line or two (`Hardware name:`), but no message,
 * registers or stack yet: what follows may be its message.
 */
function isWarnHead(r: Report): boolean {
  return (
    r.format.kind === "warning" &&
    r.format.type === "warning" &&
    r.messageLines === 0 &&
    r.items.length === 0 &&
    r.stacks.length === 1 &&
    r.lines.length <= 4
  );
}

/** A body line as its format reads it: indentation and the format's own line prefix removed. */
function textOf(r: Report, line: LogLine): string {
  const t = line.msg.trimStart();
  const strip = r.format.strip;
  return strip ? t.replace(strip, "").trimStart() : t;
}

function linuxFrame(t: string): Frame | null {
  const m = LINUX_FRAME.exec(t);
  if (m) {
    const sym = m[2]!;
    return { sym, fn: sym.slice(0, sym.indexOf("+")), reliable: m[1] === undefined };
  }
  const a = ARM_FRAME.exec(t);
  return a ? { addr: a[1]!, sym: a[2]!, fn: a[2]!, reliable: true } : null;
}

/** The first reliable frame that is not part of the reporting machinery. */
export function guiltyFrame(frames: readonly Frame[]): string | undefined {
  for (const f of frames) if (f.reliable && !SKIP_FRAMES.test(f.fn)) return f.fn;
  for (const f of frames) if (!SKIP_FRAMES.test(f.fn)) return f.fn;
  return undefined;
}

/** LegoOS: the header's function, the faulting one, then the first frame not on the skip list. */
function legoGuiltyOf(r: Report): { fn?: string; missing?: string } {
  const fn = r.fnFromHeader ?? r.fnFromIp ?? r.fnFromRip ?? guiltyFrame(r.ev.frames);
  if (fn) return { fn };
  return { missing: r.ev.frames.length > 0 ? "no guilty frame" : "no call trace" };
}

/**
 * A Linux report that should have stacks but has none, or has a stack of unreliable frames only
 * (the unwinder lost its way, or the lines were cut off): syzkaller's rules for a corrupted report.
 */
function stackProblem(r: Report): string | undefined {
  if (r.stacks.length === 1) return "no call trace";
  for (let s = 1; s < r.stacks.length; s++) {
    if (!r.items.some((i) => i.stack === s && i.kind === "frame" && i.reliable))
      return "no frames in a stack trace";
  }
  return undefined;
}

/** The rule of a format without one: the header's function, the faulting one, the call trace. */
const DEFAULT_SOURCES: readonly FrameSource[] = ["header", "rip", /^Call [Tt]race:/, "all"];

/** Linux: the format's candidates, skipped and picked as syzkaller does; or why there is none. */
function linuxGuiltyOf(r: Report): { fn?: string; missing?: string } {
  if (r.epilogue) {
    r.items = r.items.slice(0, r.epilogue.items);
    r.stacks = r.stacks.slice(0, r.epilogue.stacks);
  }
  const rule = r.format.stack;
  const names = candidates(r, rule?.from ?? DEFAULT_SOURCES);
  if (names.length === 0) {
    return { missing: r.items.some((i) => i.kind === "frame") ? "no guilty frame" : "no call trace" };
  }
  const pick = rule?.pick ?? "first";
  // A stall with no anchor frame (a kernel thread's own loop, a stack the unwinder lost) is named
  // after where the CPU was caught, its first frame, rather than not at all.
  const fn =
    linuxGuilty(names, rule?.skip, pick) ??
    (pick === "stall" ? linuxGuilty(names, rule?.skip, "first") : undefined);
  return fn ? { fn } : { missing: "no guilty frame" };
}

/** The candidate functions of a report, from each source in turn (unreliable `? ` frames never count). */
function candidates(r: Report, from: readonly FrameSource[]): string[] {
  const items = r.items.filter((i) => i.reliable);
  const frames = items.filter((i) => i.kind === "frame");
  const names: string[] = [];
  for (const source of from) {
    if (source === "header") {
      if (r.fnFromHeader) names.push(baseName(r.fnFromHeader));
    } else if (source === "rip") {
      const rip = items.find((i) => i.kind === "rip");
      if (rip) names.push(rip.fn);
    } else if (source === "at") {
      names.push(...items.filter((i) => i.kind === "at" && i.stack === 0).map((i) => i.fn));
    } else if (source === "lead") {
      const trace = r.stacks.findIndex((s) => /^Call [Tt]race:/.test(s));
      names.push(...frames.filter((i) => i.stack > 0 && (trace === -1 || i.stack < trace)).map((i) => i.fn));
    } else if (source === "irq") {
      names.push(...belowTimerInterrupt(items));
    } else if (source === "all") {
      names.push(...frames.map((i) => i.fn));
    } else {
      const stack = r.stacks.findIndex((s, i) => i > 0 && source.test(s));
      if (stack > 0) names.push(...frames.filter((i) => i.stack === stack).map((i) => i.fn));
    }
    // Later sources are fallbacks: once one gave frames that survive, they are enough.
    if (names.length > 0 && linuxGuilty(names, r.format.stack?.skip, r.format.stack?.pick ?? "first")) break;
  }
  return names;
}

/**
 * The code an RCU stall's timer interrupt came in on: the faulting function of the registers printed
 * after the interrupt frame, then the frames after it; without such registers, the frames after the
 * interrupt frame. Nothing when no timer interrupt frame is there.
 */
function belowTimerInterrupt(items: readonly Item[]): string[] {
  const irq = items.findIndex((i) => i.kind === "frame" && TIMER_IRQ.test(i.fn));
  if (irq === -1) return [];
  const rest = items.slice(irq + 1);
  const rip = rest.findIndex((i) => i.kind === "rip");
  const from = rip === -1 ? rest : rest.slice(rip);
  return from.filter((i) => i.kind !== "at").map((i) => i.fn);
}
