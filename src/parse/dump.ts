import type { Frame } from "./events.js";
import { fnOf } from "./family.js";

/**
 * The lines of a register and stack dump (`show_regs`, `dump_stack`), shared by crash reports and
 * the memory manager's remote dump of a stuck CPU (formats.md F9 steps 6-11).
 */

// Recent kernels print a `UID: N` between the CPU and the PID; Linux then its taint (`Not tainted`, or
// `Tainted: G           OE`, on RHEL followed by a run of dashes), LegoOS none; then the release, which
// starts with a digit (a release that does not is read by the looser second form).
const TASK =
  /^CPU: ?(\d+) (?:UID: \d+ )?PID: ?(\d+) Comm: (.{1,16}?) (?:(?:Not tainted|Tainted: [A-Z ]*?(?: -+)?) +)?(\d\S*)(?: (#\S+))?(?: .*)?$/;
const TASK_LOOSE = /^CPU: ?(\d+) (?:UID: \d+ )?PID: ?(\d+) Comm: (.{1,16}?) (\S+)(?: (#\d+))?(?: .*)?$/;
// Kernels before 3.10: `Pid: 17, comm: migration/3 Not tainted 2.6.32-431.el6.x86_64 #1 Dell Inc.
// PowerEdge R720`, after a line of its own, `CPU 3`.
const TASK_OLD =
  /^Pid: (\d+), comm: (.{1,20}?) (?:Not tainted|Tainted: [A-Z ]+?(?: -+)?) +(\d\S*)(?: (#\S+))?(?: .*)?$/;
const CPU_OLD = /^CPU (\d+)\s*$/;
const RIP = /^RIP: ([0-9a-f]{4}):\[<([0-9a-f]{16})>\]\s+\[<([0-9a-f]{16})>\] (\S+)/;
const RIP_SUMMARY = /^RIP\s+\[<([0-9a-f]{16})>\] (\S+)/;
// Linux since 4.x: `RIP: 0010:sysrq_handle_crash+0x16/0x20`.
const RIP_LINUX = /^RIP: [0-9a-f]{4}:([\w.$]+\+0x[0-9a-f]+\/0x[0-9a-f]+)/;
// 32-bit x86 kernels print 8 hex digits where 64-bit ones print 16.
const IP = /^IP: \[<([0-9a-f]{8}|[0-9a-f]{16})>\] (\S+)/;
// The faulting instruction of arm64 (`pc : fn+0x2c/0x100 [mod]`), RISC-V (`epc :`), arm (`PC is at`)
// and 32-bit x86 (`EIP is at`).
const PC = /^(?:pc : |epc : |PC is at |EIP is at )([\w.$]+\+0x[0-9a-f]+\/0x[0-9a-f]+)/;
const REG_ROW = /^(?:RSP|RAX|RDX|RBP|R10|R13|FS|CS|CR2|EAX|ESP): /;
const REG_PAIR = /\b([A-Z][A-Z0-9]{1,5}):\s*([0-9a-f]{4}:[0-9a-f]{16}|[0-9a-f]{4,16}(?:\([0-9a-f]{4}\))?)/g;
const STACK_WORDS = /^(?:[0-9a-f]{16} ){0,7}[0-9a-f]{16}\s*$/;
// Kernels before 4.x put a stack's first frame on the line of its marker: ` <IRQ>  [<...>] ? f+0x1/0x2`
// (2.6 ends an exception stack with `<<EOE>>`); a module's function is followed by its name, `[mlx4_ib]`.
const FRAME =
  /^\s*(?:<(?:IRQ|EOI|NMI|#DF|#MC|<EOE>)>\s+)?\[<([0-9a-f]{8}|[0-9a-f]{16})>\] (\? )?(\S+)(?: \[[\w-]+\])?\s*$/;
const MARKER = /^<(?:TSK|IRQ|#DF|NMI|#DB|#MC|EOT|EOI|EOE|<EOE>)>\s*$/;
const PAGE_WALK = /^(?:PGD|PUD|PMD|PTE) [0-9a-f]+/;

/**
 * The task line `CPU: 4 PID: 17 Comm: recvpollcq 4.0.0-lego-ys+ #744`, or the older `Pid: 17, comm: ...`
 * and `CPU 3` lines, each with what it holds.
 */
export function taskLine(msg: string): { cpu?: number; pid?: number; comm?: string; kernel?: string } | null {
  const m = TASK.exec(msg) ?? TASK_LOOSE.exec(msg);
  if (m)
    return { cpu: Number(m[1]), pid: Number(m[2]), comm: m[3]!, kernel: m[5] ? `${m[4]} ${m[5]}` : m[4]! };
  const o = TASK_OLD.exec(msg);
  if (o) return { pid: Number(o[1]), comm: o[2]!, kernel: o[4] ? `${o[3]} ${o[4]}` : o[3]! };
  const c = CPU_OLD.exec(msg);
  return c ? { cpu: Number(c[1]) } : null;
}

/** `IP: [<...>] fn+off/size`, `RIP: 0010:[<...>]  [<...>] fn+off/size` or the summary `RIP  [<...>] fn`. */
export function ipLine(msg: string): { addr: string; sym: string; fn: string; from: "IP" | "RIP" } | null {
  let m = IP.exec(msg);
  if (m) return { addr: m[1]!, sym: m[2]!, fn: fnOf(m[2]!), from: "IP" };
  m = RIP_LINUX.exec(msg) ?? PC.exec(msg);
  if (m) return { addr: "", sym: m[1]!, fn: fnOf(m[1]!), from: "RIP" };
  m = RIP.exec(msg) ?? RIP_SUMMARY.exec(msg);
  if (!m) return null;
  const sym = m[m.length - 1]!;
  const addr = m.length === 5 ? m[2]! : m[1]!;
  return { addr, sym, fn: fnOf(sym), from: "RIP" };
}

/** A call-trace frame `[<ffffffff81003299>] ? native_smp_send_reschedule+0x39/0x50`. */
export function frameLine(msg: string): Frame | null {
  const m = FRAME.exec(msg);
  if (!m) return null;
  return { addr: m[1]!, sym: m[3]!, fn: fnOf(m[3]!), reliable: m[2] === undefined };
}

/** Register name/value pairs of a register row, added to `into`. */
export function registers(msg: string, into: Record<string, string>): void {
  REG_PAIR.lastIndex = 0;
  for (let m = REG_PAIR.exec(msg); m !== null; m = REG_PAIR.exec(msg)) into[m[1]!] = m[2]!;
}

/** True for any line a register/stack dump is made of. */
export function isDumpLine(msg: string): boolean {
  const t = msg.trimStart();
  if (t.length === 0) return false;
  return (
    TASK_LOOSE.test(t) ||
    TASK_OLD.test(t) ||
    CPU_OLD.test(t) ||
    IP.test(t) ||
    RIP.test(t) ||
    RIP_SUMMARY.test(t) ||
    RIP_LINUX.test(t) ||
    PC.test(t) ||
    REG_ROW.test(t) ||
    t === "Stack:" ||
    t === "Call Trace:" ||
    MARKER.test(t) ||
    FRAME.test(t) ||
    STACK_WORDS.test(t) ||
    PAGE_WALK.test(t) ||
    t.startsWith("Code: ") ||
    t.startsWith("RSP <") ||
    t.startsWith("Thread overran stack") ||
    t.startsWith("Bad RIP value")
  );
}

/** True for a register row (`RAX: ...`, `FS: ...`, `CR2: ...`). */
export function isRegisterRow(msg: string): boolean {
  return REG_ROW.test(msg.trimStart());
}
