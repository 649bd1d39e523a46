import { type CrashFormat, matchHeader, renderTitle, SKIP_FRAMES } from "./crash-formats.js";
import { frameLine, ipLine, isDumpLine, registers, taskLine } from "./dump.js";
import type { CrashEvent, Emit, Frame } from "./events.js";
import { baseOf } from "./family.js";
import type { LogLine } from "./line.js";

/** How many foreign lines a report tolerates in a row before it is taken as cut off. */
const FOREIGN_LIMIT = 40;
/** Kernel seconds of silence inside a report after which the report is taken as cut off. */
const GAP_LIMIT_S = 30;
/** Free-text lines a WARN or BUG may print between its header and its register dump. */
const MESSAGE_LINES = 4;

// Linux since 4.x prints frames without addresses and a few lines LegoOS never prints.
const LINUX_FRAME = /^\s*(\? )?([\w.$]+\+0x[0-9a-f]+\/0x[0-9a-f]+)(?: \[[\w-]+\])?\s*$/;
const LINUX_DUMP =
  /^(?:#PF: |Modules linked in:|Hardware name:|Workqueue:|Kernel Offset:|<\/?(?:TASK|IRQ|NMI|SOFTIRQ)>|DR[0-7]: |PKRU: |RIP: 0033:|Tainted: |irq event stamp:|hardirqs |softirqs |Dumping ftrace|Rebooting in|Current call stack:|---\[ end trace)/;

interface Report {
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
}

/**
 * Assembles one node's multi-line crash and warning reports. Offered every line of the node, it
 * takes the lines that belong to a report (tolerating foreign lines from other CPUs in between)
 * and emits one {@link CrashEvent} when the report ends: at its end marker, when another report
 * starts, after too many foreign lines, or when {@link CrashAssembler.close} is called because the
 * log ended or the node went quiet. A report cut off because the kernel died still produces its crash.
 */
export class CrashAssembler {
  private open: Report | null = null;

  constructor(private readonly emit: Emit) {}

  /** True while a report is being collected. */
  get busy(): boolean {
    return this.open !== null;
  }

  /** Offers a line; returns true when the line belongs to a report. */
  offer(line: LogLine): boolean {
    const msg = line.msg;
    const r = this.open;
    if (
      r &&
      line.ts !== null &&
      r.lastTs !== null &&
      (line.ts - r.lastTs > GAP_LIMIT_S || line.ts < r.lastTs - 1)
    ) {
      this.close(true);
    }
    const hit = matchHeader(msg);
    if (hit) return this.header(line, hit.format, hit.m);
    if (!this.open) return false;
    return this.body(this.open, line);
  }

  /** Ends the open report; `cut` says it ended before its end marker. */
  close(cut: boolean): void {
    const r = this.open;
    if (!r) return;
    this.open = null;
    if (r.format.role === "cut") return; // a cut-here marker no header followed
    const fn = r.fnFromHeader ?? r.fnFromIp ?? r.fnFromRip ?? guiltyFrame(r.ev.frames);
    const ev: CrashEvent = {
      ...r.ev,
      type: r.format.type,
      kind: r.format.kind,
      title: renderTitle(r.format, r.m, fn),
      report: r.lines,
      reportLines: r.lineNos,
      truncated: cut,
    };
    if (fn) ev.function = fn;
    this.emit(ev);
  }

  private header(line: LogLine, format: CrashFormat, m: RegExpExecArray): boolean {
    const r = this.open;
    switch (format.role) {
      case "end":
        if (!r) return false;
        r.lines.push(line.text);
        r.lineNos.push(line.lineNo);
        this.close(false);
        return true;
      case "panic":
        if (r) {
          r.ev.panic ??= m[1] ?? "";
          this.add(r, line);
          return true;
        }
        break;
      case "die":
        // A die line after an Oops head is the same report (the seed's 04/08 BUG + general protection fault).
        if (r && r.ev.die === undefined && r.format.role !== "cut" && r.format.type === "crash") {
          r.ev.die = Number(m[format.dieGroup ?? 1]);
          this.add(r, line);
          return true;
        }
        break;
      case "start":
        if (r && r.format.role === "cut") {
          this.restart(r, line, format, m);
          return true;
        }
        break;
      case "cut":
        break;
    }
    if (r) this.close(true);
    this.start(line, format, m);
    return true;
  }

  private start(line: LogLine, format: CrashFormat, m: RegExpExecArray): void {
    const base = baseOf(line);
    const r: Report = {
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
    };
    this.applyHeader(r, format, m);
    this.open = r;
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
    if (format.reasonGroup) r.ev.panic = m[format.reasonGroup] ?? "";
    if (format.fnGroup && m[format.fnGroup]) {
      const sym = m[format.fnGroup]!;
      r.fnFromHeader = sym.includes("+") ? sym.slice(0, sym.indexOf("+")) : sym;
    }
    const task = /^WARNING: CPU: ?(\d+) PID: ?(\d+)/.exec(m[0]);
    if (task) {
      r.ev.cpu = Number(task[1]);
      r.ev.pid = Number(task[2]);
    }
  }

  private body(r: Report, line: LogLine): boolean {
    const msg = line.msg;
    const t = msg.trimStart();
    if (isDumpLine(t) || LINUX_DUMP.test(t) || (r.inTrace && LINUX_FRAME.test(t))) {
      r.sawDump = true;
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
    if (++r.foreign > FOREIGN_LIMIT) this.close(true);
    return false;
  }

  private add(r: Report, line: LogLine): void {
    const t = line.msg.trimStart();
    r.lines.push(line.text);
    r.lineNos.push(line.lineNo);
    r.foreign = 0;
    if (line.ts !== null) r.lastTs = line.ts;
    const ev = r.ev;
    if (t === "Call Trace:" || t === "Current call stack:") {
      r.inTrace = true;
      return;
    }
    const frame = frameLine(t) ?? linuxFrame(t);
    if (frame) {
      ev.frames.push(frame);
      return;
    }
    const ip = ipLine(t);
    if (ip) {
      if (ip.from === "IP") r.fnFromIp ??= ip.fn;
      else r.fnFromRip ??= ip.fn;
      ev.ip ??= ip.sym;
      return;
    }
    const task = taskLine(t);
    if (task) {
      ev.cpu ??= task.cpu;
      ev.pid ??= task.pid;
      ev.comm ??= task.comm;
      ev.kernel ??= task.kernel;
      return;
    }
    if (/^(?:R[A-Z0-9]{1,2}|E[A-Z]{2}|FS|CS|CR2|DR\d):/.test(t)) registers(t, ev.registers);
  }
}

function linuxFrame(t: string): Frame | null {
  const m = LINUX_FRAME.exec(t);
  if (!m) return null;
  const sym = m[2]!;
  return { sym, fn: sym.slice(0, sym.indexOf("+")), reliable: m[1] === undefined };
}

/** The first reliable frame that is not part of the reporting machinery. */
export function guiltyFrame(frames: readonly Frame[]): string | undefined {
  for (const f of frames) if (f.reliable && !SKIP_FRAMES.test(f.fn)) return f.fn;
  for (const f of frames) if (!SKIP_FRAMES.test(f.fn)) return f.fn;
  return undefined;
}
