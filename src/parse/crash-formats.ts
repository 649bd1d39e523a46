import type { Pick } from "./crash-guilty.js";
import { KeyFinder } from "./prefilter.js";

/**
 * Crash and warning report formats as data, after syzkaller's `pkg/report`: each row is a header
 * that opens (or joins) a report and a title template. Adding a format is adding a row.
 * Sources: formats.md F9-F13 and F15 (LegoOS), and the Linux families with the titles syzkaller's
 * `pkg/report/linux.go` gives them (their printk formats are in the kernel files named by each group).
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
  /** A later part of a report of a kind in `partOf` (joined once), or a report of its own. */
  | "part"
  /** An end marker: closes the open report as complete. */
  | "end";

/**
 * Where the candidates for a Linux report's guilty function come from, in order (syzkaller's stack
 * `parts`): `header` the function the header names; `rip` the faulting instruction's function;
 * `at` the `at: fn+0x...` lines of a lockdep report; `lead` the frames of every stack before the
 * call trace (lockdep's dependency chain); `irq` the interrupted code below the timer interrupt of an
 * RCU stall; `all` every frame; a RegExp, the frames of the first stack whose opening line matches it.
 */
export type FrameSource = "header" | "rip" | "at" | "lead" | "irq" | "all" | RegExp;

/** How a format finds its guilty function on Linux. */
export interface StackRule {
  from: readonly FrameSource[];
  /** Functions this format passes over beside the common plumbing (matched anywhere in the name). */
  skip?: RegExp;
  pick?: Pick;
}

/** A title word taken from a body line (`Read of size 8` gives KASAN's `{access}`). */
export interface BodyCapture {
  /** `{slot}` in the title. */
  slot: string;
  /** Group 1 is the value. */
  re: RegExp;
  /** Only lines after one matching this count. */
  after?: RegExp;
  /** What is missing when no line gave it, for `corruptedReason`. */
  what: string;
}

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
   * Title template. `{fn}` is the guilty function, `{slot}` a body capture, `$1`... are the header's
   * captures and `$0` the whole header, for the families syzkaller titles by their own line. A
   * template whose capture is missing falls back to `fallback` and is corrupted. On LegoOS
   * an unknown `{fn}` also falls back (or drops ` in {fn}`); on Linux it is `corrupted`, as syzkaller has it.
   */
  title: string;
  fallback?: string;
  /** The title of this header on a LegoOS node, when LegoOS titles it differently from syzkaller. */
  legoTitle?: string;
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
  /** The guilty function on Linux; absent: the header's function, the faulting one, the call trace. */
  stack?: StackRule;
  /** Body lines the title needs. */
  captures?: readonly BodyCapture[];
  /** A one-line report, or one whose header says it all: no call trace is expected. */
  noStack?: true;
  /** The header opens a stack: its frames follow it with no `Call Trace:` line (KMSAN). */
  stackAfterHeader?: true;
  /** Why every report of this row is corrupted (a header without its second half...). */
  corrupted?: string;
  /** Kinds of open report a `part` row joins. */
  partOf?: readonly string[];
  /** Text a body line of this format starts with that is not part of the message (`kmemleak: `). */
  strip?: RegExp;
  /** The header's groups that name the task it is about: comm, then PID (`[cat:4312]`, `task java:5512`). */
  taskGroups?: readonly [comm: number, pid: number];
  /** Only LegoOS prints this header. */
  lego?: true;
  /** syzkaller knows this header only by the panic that may follow it: such a panic gives the title. */
  panicTitles?: true;
  /**
   * Kernels also print this header as the message of a WARN (3.x hard lockups: `WARN(1, "Watchdog
   * detected hard LOCKUP on cpu %d")`); right after a WARNING's header it names that report.
   */
  warnMessage?: true;
}

const DIE_TRAPS =
  "general protection fault|divide error|invalid opcode|int3|overflow|bounds|invalid TSS|segment not present|stack segment|alignment check|coprocessor segment overrun|fpu exception|simd exception|Bad pagetable";

/** The stack of a call trace (arm64 says `Call trace:`, arm's unwinder `Backtrace:`). */
const TRACE = /^(?:Call [Tt]race:|Backtrace:)/;

/** A faulting access: the function at the faulting instruction, else the call trace. */
const FAULT: StackRule = { from: ["rip", TRACE] };

/** A lockdep `at:` line's function: `(&mm->mmap_lock){++++}-{3:3}, at: do_user_addr_fault+0x1e2/0x8f0`. */
const AT_FN = /\bat: (?:\[<?(?:0x)?[0-9a-f]+>?\] +)?([A-Za-z0-9_]+)[.+]/;

// --- LegoOS and Linux faults (arch/x86/mm/fault.c, arch/x86/kernel/traps.c, kernel/panic.c) -----------

const FAULTS: readonly CrashFormat[] = [
  {
    // arm64 and arm (arch/arm64/mm/fault.c `die_kernel_fault`, arch/arm/mm/fault.c `__do_kernel_fault`).
    // syzkaller files these under x86's titles, so that one bug on two architectures is one title.
    kind: "oops",
    type: "crash",
    role: "start",
    literals: ["Unable to handle kernel "],
    header:
      /^Unable to handle kernel (NULL pointer dereference|paging request|access to user memory)\b(?:.* at virtual address (\S+))?/,
    title: "BUG: unable to handle kernel $1 in {fn}",
    addressGroup: 2,
    stack: FAULT,
  },
  {
    // Any other kind of fault (`execute from non-executable memory`, `write to read-only memory`...):
    // syzkaller knows the family but not the kind, keeps the line as the title and asks for no stack.
    kind: "oops",
    type: "crash",
    role: "start",
    literals: ["Unable to handle kernel "],
    header: /^Unable to handle kernel .*?(?: at virtual address (\S+))?\s*$/,
    title: "$0",
    addressGroup: 1,
    stack: FAULT,
    noStack: true,
  },
  {
    // arm (arch/arm/mm/fault.c `do_DataAbort`): a fault no handler took, `page domain fault` and the like.
    kind: "oops",
    type: "crash",
    role: "start",
    literals: ["Unhandled fault: "],
    header: /^Unhandled fault: .* at (0x[0-9a-f]+)/,
    title: "Unhandled fault in {fn}",
    addressGroup: 1,
    stack: FAULT,
  },
  {
    kind: "oops",
    type: "crash",
    role: "start",
    literals: ["BUG: unable to handle kernel "],
    header: /^BUG: unable to handle kernel (NULL pointer dereference|paging request)(?: at (.*\S))?/,
    title: "BUG: unable to handle kernel $1 in {fn}",
    addressGroup: 2,
    stack: FAULT,
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
    stack: FAULT,
  },
  {
    kind: "oops",
    type: "crash",
    role: "start",
    literals: ["BUG: unable to handle page fault"],
    header: /^BUG: unable to handle page fault for address: (\S+)/,
    title: "BUG: unable to handle kernel paging request in {fn}",
    addressGroup: 1,
    stack: FAULT,
  },
  {
    // The rest of the header is a pr_cont that another CPU's line cut off or garbled.
    kind: "oops",
    type: "crash",
    role: "start",
    literals: ["BUG: unable to handle kernel", "BUG: Unable to handle kernel"],
    header: /^BUG: [Uu]nable to handle kernel/,
    title: "BUG: unable to handle kernel",
    corrupted: "the header was cut short",
    stack: FAULT,
  },
];

// --- BUG() and WARN() (include/asm-generic/bug.h, lib/bug.c, kernel/panic.c) -------------------------------

/**
 * A WARNING at `file` in a function matching `fn` (both regex sources): `$1` is the place, `$2` the
 * function. syzkaller gives some files a title of their own, whatever warned in them.
 */
const WARN_AT = (file: string, fn: string) =>
  new RegExp(`^WARNING: (?:CPU: ?\\d+ PID: ?\\d+ )?at (${file}:\\d+) (${fn})`);

const BUGS_AND_WARNINGS: readonly CrashFormat[] = [
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
    lego: true,
  },
  {
    kind: "bug",
    type: "crash",
    role: "start",
    literals: ["kernel BUG at "],
    header: /^kernel BUG at (lib\/list_debug\.c:\d+)!/,
    title: "BUG: corrupted list in {fn}",
    whereGroup: 1,
    stack: { from: [TRACE] },
  },
  {
    kind: "bug",
    type: "crash",
    role: "start",
    literals: ["kernel BUG at "],
    header: /^kernel BUG at (mm\/usercopy\.c:\d+)!/,
    title: "BUG: bad usercopy in {fn}",
    whereGroup: 1,
    stack: { from: [TRACE], skip: /usercopy|__check/ },
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
    // skb helpers BUG_ON() what their caller got wrong.
    stack: { from: ["rip", TRACE], skip: /^skb_/ },
  },
  {
    // lib/bug.c without CONFIG_DEBUG_BUGVERBOSE: no file and line, only the address.
    kind: "bug",
    type: "crash",
    role: "start",
    literals: ["Kernel BUG "],
    header: /^Kernel BUG (.*\S)/,
    title: "kernel BUG $1",
  },
  {
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: "],
    header: WARN_AT("lib\\/refcount\\.c", "\\S+"),
    title: "WARNING: refcount bug in {fn}",
    whereGroup: 1,
    stack: { from: ["rip", TRACE], skip: /refcount|kobject_/ },
  },
  {
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: "],
    header: WARN_AT("lib\\/debugobjects\\.c", "debug_print\\S*|debug_check\\S*"),
    title: "WARNING: ODEBUG bug in {fn}",
    whereGroup: 1,
    // The object's users too: timers, work items, RCU heads are what ODEBUG watches.
    stack: {
      from: ["rip", TRACE],
      skip: /debug_|rcu|hrtimer_|timer_|work_|percpu_|vunmap|vfree|__free_|kobject_/,
    },
  },
  {
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: "],
    header: WARN_AT("mm\\/usercopy\\.c", "usercopy_warn\\S*"),
    title: "WARNING: bad usercopy in {fn}",
    whereGroup: 1,
    stack: { from: ["rip", TRACE], skip: /usercopy|__check/ },
  },
  {
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: "],
    header: WARN_AT("lib\\/kobject\\.c", "kobject_\\S*"),
    title: "WARNING: kobject bug in {fn}",
    whereGroup: 1,
    stack: { from: ["rip", TRACE], skip: /kobject_/ },
  },
  {
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: "],
    header: WARN_AT("fs\\/proc\\/generic\\.c", "proc_register\\S*"),
    title: "WARNING: proc registration bug in {fn}",
    whereGroup: 1,
    stack: { from: ["rip", TRACE], skip: /proc_/ },
  },
  {
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: "],
    header: WARN_AT("kernel\\/locking\\/lockdep\\.c", "\\S*lock_\\S*"),
    title: "WARNING: locking bug in {fn}",
    whereGroup: 1,
    stack: { from: ["rip", TRACE], skip: /lock_sock|release_sock/ },
  },
  {
    // An allocator refusing a size (`kmalloc`, `kvmalloc`...): the bug is whoever asked for it.
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: "],
    header: WARN_AT("\\S*mm\\/\\S*\\.c", "k?.?malloc\\S*"),
    title: "WARNING: kmalloc bug in {fn}",
    whereGroup: 1,
    stack: { from: ["rip", TRACE], skip: /kmalloc|krealloc|slab|kmem/ },
  },
  {
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: "],
    header: WARN_AT("\\S*mm\\/vmalloc\\.c", "__vmalloc_node\\S*"),
    title: "WARNING: zero-size vmalloc in {fn}",
    whereGroup: 1,
    stack: { from: ["rip", TRACE] },
  },
  {
    // A URB the USB core refused: the title names the driver that submitted it.
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: "],
    header: /^WARNING: (?:CPU: ?\d+ PID: ?\d+ )?at (?:(\S+:\d+) )?(usb_submit_urb\S*)/,
    title: "WARNING in {fn}/usb_submit_urb",
    whereGroup: 1,
    stack: {
      from: ["rip", TRACE],
      skip: /usb_submit_urb|usb_start_wait_urb|usb_bulk_msg|usb_interrupt_msg|usb_control_msg/,
    },
  },
  {
    // The frame-pointer unwinder's complaints (arch/x86/kernel/unwind_frame.c): no stack of their own.
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: kernel stack"],
    header: /^WARNING: kernel stack regs at [0-9a-f]+ in \S* has bad '([^']+)' value/,
    title: "WARNING: kernel stack regs has bad '$1' value",
    noStack: true,
  },
  {
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: kernel stack"],
    header: /^WARNING: kernel stack frame pointer at [0-9a-f]+ in \S* has bad value/,
    title: "WARNING: kernel stack frame pointer has bad value",
    noStack: true,
  },
  {
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: kernel stack"],
    header: /^WARNING: kernel stack (?:regs .* has bad 'bp'|frame pointer .* has bad) value/,
    title: "WARNING: kernel stack regs has bad value",
    noStack: true,
  },
  {
    // Before 4.x (warn_slowpath_common: `WARNING: [CPU: N PID: N ]at file:line fn+off/size()`), a
    // WARNING printed no registers: the header names its function, and the call trace is all there is.
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: "],
    header: /^WARNING: (?:CPU: ?\d+ PID: ?\d+ )?at (\S+:\d+) ([\w.$]+\+0x[0-9a-f]+\/0x[0-9a-f]+)\(\)/,
    title: "WARNING in {fn}",
    fallback: "WARNING at $1",
    whereGroup: 1,
    fnGroup: 2,
    stack: { from: ["header", TRACE] },
  },
  {
    // syzkaller titles a WARNING by where it trapped or by its call trace, never by the header alone:
    // a header with neither after it is `WARNING in corrupted`.
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING: "],
    header: /^WARNING: (?:CPU: ?\d+ PID: ?\d+ )?at (?:(\S+:\d+) )?(\S+)/,
    title: "WARNING in {fn}",
    fallback: "WARNING at $1",
    whereGroup: 1,
    fnGroup: 2,
    stack: { from: ["rip", TRACE] },
  },
  {
    // The message of a WARNING whose text another CPU's line cut off.
    kind: "warning",
    type: "warning",
    role: "start",
    literals: ["WARNING:"],
    header: /^WARNING:\s*$/,
    title: "WARNING: corrupted",
    corrupted: "the header was cut short",
    noStack: true,
  },
];

// --- lockdep (kernel/locking/lockdep.c, kernel/rcu/update.c) -------------------------------------------------

/** `[ INFO: ... ]` is how kernels before 4.15 framed the same headers; `$1` is the word they used. */
const LOCKDEP = (what: string) => new RegExp(`^(?:\\[ )?(WARNING|INFO): ${what}`);

const LOCKDEP_REPORTS: readonly CrashFormat[] = [
  {
    kind: "lockdep",
    type: "warning",
    role: "start",
    literals: ["possible circular locking"],
    header: LOCKDEP("possible circular locking dependency detected"),
    title: "possible deadlock in {fn}",
    fallback: "$1: possible circular locking dependency detected",
    captures: [{ slot: "acquire", re: /(is trying to acquire lock)/, what: "lock being acquired" }],
    // Work items' pseudo-locks make every workqueue function look guilty.
    stack: {
      from: ["at", "lead"],
      skip: /process_one_work|flush_workqueue|drain_workqueue|destroy_workqueue/,
    },
  },
  {
    kind: "lockdep",
    type: "warning",
    role: "start",
    literals: ["possible recursive locking"],
    header: LOCKDEP("possible recursive locking detected"),
    title: "possible deadlock in {at}",
    fallback: "$1: possible recursive locking detected",
    captures: [{ slot: "at", re: AT_FN, after: /is trying to acquire lock/, what: "lock being acquired" }],
  },
  {
    kind: "lockdep",
    type: "warning",
    role: "start",
    literals: ["irq lock inversion"],
    header: LOCKDEP("possible irq lock inversion dependency detected"),
    title: "possible deadlock in {at}",
    fallback: "$1: possible irq lock inversion dependency detected",
    captures: [
      { slot: "at", re: AT_FN, after: /just changed the state of lock/, what: "lock whose state changed" },
    ],
  },
  {
    kind: "lockdep",
    type: "warning",
    role: "start",
    literals: ["lock order detected"],
    header: LOCKDEP("\\S+-safe -> \\S+-unsafe lock order detected"),
    title: "possible deadlock in {fn}",
    // Usage stacks open on `... which became SOFTIRQ-irq-safe at:`: the dots are lockdep's decoration.
    strip: /^\.\.\. /,
    stack: { from: [/^which became \S+ at:/] },
  },
  {
    kind: "lockdep",
    type: "warning",
    role: "start",
    literals: ["inconsistent lock state"],
    header: LOCKDEP("inconsistent lock state"),
    title: "inconsistent lock state in {fn}",
    fallback: "$1: inconsistent lock state",
    captures: [{ slot: "takes", re: AT_FN, after: /takes:$/, what: "lock taken" }],
    stack: { from: [TRACE] },
  },
  {
    kind: "lockdep",
    type: "warning",
    role: "start",
    literals: ["suspicious RCU usage"],
    header: LOCKDEP("suspicious RCU usage"),
    title: "$1: suspicious RCU usage in {fn}",
    fallback: "$1: suspicious RCU usage",
    captures: [{ slot: "src", re: /([\w/.-]+\.[a-z]+:\d+)/, what: "source line" }],
    stack: { from: [TRACE], skip: /rcu|kmem|slab/ },
  },
  {
    // Held locks are listed `#0: ffff... (&lock){+.+.}-{3:3}, at: fn+0x...`: the first one's function.
    kind: "locks-held",
    type: "crash",
    role: "start",
    literals: ["still has locks held"],
    header: /^(?:\[ )?(BUG|WARNING): .*still has locks held!/,
    title: "$1: still has locks held in {fn}",
    stack: { from: ["at"] },
  },
  {
    // Printed on the way out of a syscall: the held locks, and no stack.
    kind: "locks-held",
    type: "crash",
    role: "start",
    literals: ["lock held when returning"],
    header: /^(?:\[ )?(BUG|WARNING): lock held when returning to user space/,
    title: "$1: lock held when returning to user space in {fn}",
    stack: { from: ["at"] },
    noStack: true,
  },
  {
    // `is trying to release lock (...) at:` is followed by `[<ffffffff81234567>] fn+0x.../0x...`.
    kind: "locks-held",
    type: "crash",
    role: "start",
    literals: ["bad unlock balance"],
    header: /^(?:\[ )?(BUG|WARNING): bad unlock balance detected!/,
    title: "$1: bad unlock balance in {fn}",
    stack: { from: ["all"] },
  },
  {
    kind: "locks-held",
    type: "crash",
    role: "start",
    literals: ["held lock freed"],
    header: /^(?:\[ )?(BUG|WARNING): held lock freed!/,
    title: "$1: held lock freed in {fn}",
    stack: { from: ["at"] },
  },
  {
    // arm and arm64 kernels' report of what x86 ones warn about in lockdep.c: one title for both.
    kind: "lockdep",
    type: "warning",
    role: "start",
    literals: ["BUG: Invalid wait context"],
    header: /^(?:\[ )?BUG: Invalid wait context/,
    title: "WARNING: locking bug in {fn}",
    stack: { from: [TRACE], skip: /lock_sock|release_sock/ },
  },
  {
    kind: "lockdep",
    type: "warning",
    role: "start",
    literals: ["Nested lock was not taken"],
    header: /^WARNING: Nested lock was not taken/,
    title: "WARNING: nested lock was not taken in {fn}",
    stack: { from: ["rip", TRACE] },
  },
];

/** KMSAN's first stack: the one its header opens. */
const KMSAN_STACK = /^BUG: KMSAN: /;

// --- sanitizers (mm/kasan/report.c, mm/kfence/report.c, kernel/kcsan/report.c, lib/ubsan.c) ------------------

const SANITIZERS: readonly CrashFormat[] = [
  {
    // mm/kmsan/report.c: `BUG: KMSAN: uninit-value in f+0x.../0x...`, then that function's stack with
    // no `Call Trace:` line. A URB's infoleak is the driver's that submitted it.
    kind: "kmsan",
    type: "crash",
    role: "start",
    literals: ["BUG: KMSAN: kernel-usb-infoleak"],
    header: /^BUG: KMSAN: (kernel-usb-infoleak) in (\S+)/,
    title: "KMSAN: $1 in {fn}",
    stackAfterHeader: true,
    stack: {
      from: [KMSAN_STACK],
      skip: /usb_submit_urb|usb_start_wait_urb|usb_bulk_msg|usb_interrupt_msg|usb_control_msg/,
    },
  },
  {
    kind: "kmsan",
    type: "crash",
    role: "start",
    literals: ["BUG: KMSAN: "],
    header: /^BUG: KMSAN: ([\w-]+) in (\S+)/,
    title: "KMSAN: $1 in {fn}",
    stackAfterHeader: true,
    stack: { from: [KMSAN_STACK], skip: /alloc_skb|netlink_ack|netlink_rcv_skb/ },
  },
  {
    kind: "kasan",
    type: "crash",
    role: "start",
    literals: ["BUG: KASAN: "],
    header: /^BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in (\S+)/,
    title: "KASAN: invalid-free in {fn}",
    fnGroup: 1,
    stack: { from: ["header", TRACE], skip: /slab_|kfree|vunmap|vfree/ },
  },
  {
    kind: "kasan",
    type: "crash",
    role: "start",
    literals: ["BUG: KASAN: "],
    header: /^BUG: KASAN: ([a-z-]+) in (\S+)/,
    title: "KASAN: $1 {access} in {fn}",
    fallback: "KASAN: $1 in $2",
    fnGroup: 2,
    captures: [
      { slot: "access", re: /^(Read|Write) (?:of size|at addr) [0-9a-f]+/, what: "Read/Write line" },
    ],
    // Hardware tag-based KASAN reports through the arm64 fault path.
    stack: { from: ["header", TRACE], skip: /kernel_fault|tag_check|mem_abort|^el1_|^el1h_/ },
  },
  {
    // Kernels before 4.11 named no function for wild and user-memory accesses.
    kind: "kasan",
    type: "crash",
    role: "start",
    literals: ["BUG: KASAN: "],
    header: /^BUG: KASAN: (([a-z-]+) on address.*\S)/,
    title: "KASAN: $2 {access}",
    fallback: "KASAN: $1",
    captures: [{ slot: "access", re: /^(Read|Write) of size \d+/, what: "Read/Write line" }],
  },
  {
    kind: "kasan",
    type: "crash",
    role: "start",
    literals: ["BUG: KASAN: "],
    header: /^BUG: KASAN: (.*\S)/,
    title: "KASAN: $1",
    corrupted: "an unknown KASAN report",
    noStack: true,
  },
  {
    kind: "kfence",
    type: "crash",
    role: "start",
    literals: ["BUG: KFENCE: "],
    header: /^BUG: KFENCE: (use-after-free|out-of-bounds) (read|write) in (\S+)/,
    title: "KFENCE: $1 $2 in {fn}",
    fnGroup: 3,
    stack: { from: ["header", "all"] },
  },
  {
    kind: "kfence",
    type: "crash",
    role: "start",
    literals: ["BUG: KFENCE: "],
    header: /^BUG: KFENCE: (invalid (?:read|write|free)|memory corruption) in (\S+)/,
    title: "KFENCE: $1 in {fn}",
    fnGroup: 2,
    stack: { from: ["header", "all"] },
  },
  {
    // Both racing functions are in the header; the stacks add nothing to the title.
    kind: "kcsan",
    type: "crash",
    role: "start",
    literals: ["BUG: KCSAN: "],
    header: /^BUG: KCSAN: (.*\S)/,
    title: "KCSAN: $1",
    noStack: true,
  },
  {
    kind: "ubsan",
    type: "crash",
    role: "start",
    literals: ["UBSAN: "],
    header: /^UBSAN: Undefined behaviour in (\S+)/,
    title: "UBSAN: undefined-behaviour in {fn}",
    whereGroup: 1,
    stack: { from: [TRACE], skip: /ubsan|overflow/ },
  },
  {
    kind: "ubsan",
    type: "crash",
    role: "start",
    literals: ["UBSAN: "],
    header: /^UBSAN: ([a-z-]+) in (\S+)/,
    title: "UBSAN: $1 in {fn}",
    whereGroup: 2,
    stack: { from: [TRACE], skip: /ubsan|overflow/ },
  },
];

// --- stalls and hangs (kernel/watchdog.c, kernel/hung_task.c, kernel/rcu/tree_stall.h, tree_exp.h) -------------

const STALLS: readonly CrashFormat[] = [
  {
    kind: "soft-lockup",
    type: "crash",
    role: "start",
    literals: ["BUG: soft lockup"],
    header: /^(?:(?:NMI )?watchdog: )?BUG: soft lockup - CPU#(\d+) stuck for (\d+)s! \[(.*):(\d+)\]/,
    title: "BUG: soft lockup in {fn}",
    taskGroups: [3, 4],
    stack: { from: ["rip", TRACE], pick: "stall" },
  },
  {
    kind: "hard-lockup",
    type: "crash",
    role: "start",
    literals: ["hard LOCKUP"],
    header: /^(?:(?:NMI )?watchdog: )?(?:CPU\d+: )?Watchdog detected hard LOCKUP on cpu (\d+)/,
    title: "hard lockup in {fn}",
    fallback: "hard lockup",
    panicTitles: true,
    warnMessage: true,
    stack: { from: ["rip", TRACE], pick: "stall" },
  },
  {
    kind: "hung-task",
    type: "crash",
    role: "start",
    literals: ["blocked for more than", "blocked in I/O wait"],
    header: /^INFO: task (.*):(\d+) blocked (?:in I\/O wait )?for more than (\d+) seconds/,
    title: "INFO: task hung in {fn}",
    taskGroups: [1, 2],
    stack: { from: [TRACE], pick: "hung" },
  },
  {
    kind: "rcu-stall",
    type: "crash",
    role: "start",
    literals: ["detected stall", "detected expedited"],
    header: /^(?:rcu: )?INFO: rcu_(preempt|sched|bh|tasks) (?:self-)?detected(?: expedited)? stall/,
    title: "INFO: rcu detected stall in {fn}",
    stack: { from: ["irq"], skip: /apic_timer_interrupt|rcu/, pick: "stall" },
  },
];

// --- atomicity (kernel/sched/core.c) and leaks (mm/kmemleak.c, net/core/dev.c) -------------------------------

/** The allocator's own frames: a leak belongs to whoever asked for the memory. */
const MEMLEAK_SKIP =
  /kmemleak|mmap|kmem|slab|alloc|create_object|idr_get|list_lru_init|kasprintf|kvasprintf|pcpu_create|strdup|strndup|memdup/;

const OTHERS: readonly CrashFormat[] = [
  {
    kind: "spinlock",
    type: "crash",
    role: "start",
    literals: ["BUG: spinlock ", "BUG: rwlock "],
    header:
      /^BUG: (spinlock|rwlock) (lockup suspected|already unlocked|recursion|cpu recursion|bad magic|wrong owner|wrong CPU|trylock failure on UP)/,
    title: "BUG: $1 $2 in {fn}",
    stack: { from: [TRACE], skip: /spin_|_lock|_unlock/ },
  },
  {
    kind: "preemptible",
    type: "crash",
    role: "start",
    literals: ["in preemptible"],
    header: /^BUG: using (\w+)\(\) in preemptible/,
    title: "BUG: using $1() in preemptible code in {fn}",
    stack: { from: [TRACE], skip: /dump_stack|preempt|debug_|processor_id|this_cpu/ },
  },
  {
    kind: "stack-guard",
    type: "crash",
    role: "start",
    literals: ["stack guard page was hit"],
    header: /^BUG: (?:\w+ )?stack guard page was hit at/,
    title: "BUG: stack guard page was hit in {fn}",
    // A runaway recursion: named, as a stall is, after where the looping code was entered.
    stack: { from: ["rip", TRACE], pick: "stall" },
  },
  {
    kind: "workqueue-leak",
    type: "crash",
    role: "start",
    literals: ["workqueue leaked lock"],
    header: /^BUG: workqueue leaked lock or atomic/,
    title: "BUG: workqueue leaked lock or atomic in {function}",
    captures: [{ slot: "function", re: /last function: ([A-Za-z0-9_]+)/, what: "last function line" }],
    noStack: true,
  },
  {
    // mm/: the kernel found its own mm bookkeeping wrong when the mm went away; no stack.
    kind: "mm-state",
    type: "crash",
    role: "start",
    literals: ["BUG: Bad rss-counter", "on freeing mm"],
    header: /^BUG: (Bad rss-counter state|non-zero \w+ on freeing mm)/,
    title: "BUG: $1",
    noStack: true,
  },
  {
    // A page is named after who allocated it, from page_owner's stack (`page last allocated via
    // order 0, ...`); without page_owner the report has no such stack and syzkaller calls it corrupted.
    kind: "mm-state",
    type: "crash",
    role: "start",
    literals: ["BUG: Bad page state", "BUG: Bad page cache"],
    header: /^BUG: Bad page (state|cache)/,
    title: "BUG: Bad page $1 in {fn}",
    stack: {
      from: [/^page last allocated/],
      skip: /(?:free|put|get|update|release)_page|free_unref|^_*folio|truncate_inode_pages|page_frag_free|alloc|vmap|page_owner/,
    },
  },
  {
    kind: "mm-state",
    type: "crash",
    role: "start",
    literals: ["BUG: Bad page map"],
    header: /^BUG: Bad page map/,
    title: "BUG: Bad page map",
  },
  {
    // WARN()'s message, printed before its WARNING line. The file system and the device are left out
    // of the title: loop devices and file system types only split one bug into many.
    kind: "dentry",
    type: "crash",
    role: "start",
    literals: ["still in use ("],
    header: /^BUG: Dentry .* still in use \(\d+\) \[(unmount) of ([^\]]+)\]/,
    title: "BUG: Dentry still in use in $1",
    noStack: true,
  },
  {
    kind: "dentry",
    type: "crash",
    role: "start",
    literals: ["BUG: Dentry "],
    header: /^BUG: Dentry .* still in use.*/,
    title: "$0",
    corrupted: "the header was cut short",
    noStack: true,
  },
  {
    // The SLUB allocator's own consistency checks (mm/slub.c `slab_bug`).
    kind: "slub",
    type: "crash",
    role: "start",
    literals: ["BUG kmalloc-"],
    header: /^BUG kmalloc-.*: Object already free/,
    title: "BUG: Object already free",
  },
  {
    // Any other complaint (`Poison overwritten`, `Redzone overwritten`...): the line is the title.
    kind: "slub",
    type: "crash",
    role: "start",
    literals: ["BUG kmalloc-"],
    header: /^BUG kmalloc-.*\S/,
    title: "$0",
    noStack: true,
  },
  {
    // fs/file_table.c and fs/super.c before they became WARN()s: use-after-frees of files and inodes.
    kind: "vfs",
    type: "crash",
    role: "start",
    literals: ["VFS: Close: file count is 0"],
    header: /^VFS: Close: file count is 0/,
    title: "VFS: Close: file count is zero (use-after-free)",
    noStack: true,
  },
  {
    kind: "vfs",
    type: "crash",
    role: "start",
    literals: ["VFS: Busy inodes after unmount"],
    header: /^VFS: Busy inodes after unmount/,
    title: "VFS: Busy inodes after unmount (use-after-free)",
    noStack: true,
  },
  {
    // A hang of its own (kernel/workqueue.c): the stall rule counts it.
    kind: "workqueue-lockup",
    type: "crash",
    role: "start",
    literals: ["BUG: workqueue lockup"],
    header: /^BUG: workqueue lockup/,
    title: "BUG: workqueue lockup",
    noStack: true,
  },
  {
    kind: "non-static-key",
    type: "crash",
    role: "start",
    literals: ["register non-static key"],
    header: /^INFO: trying to register non-static key/,
    title: "INFO: trying to register non-static key in {fn}",
    stack: { from: [TRACE], skip: /stack|lock|IRQ/ },
  },
  {
    // An INFO: header whose text another CPU's line cut off.
    kind: "info",
    type: "crash",
    role: "start",
    literals: ["INFO:"],
    header: /^INFO:\s*$/,
    title: "INFO: corrupted",
    corrupted: "the header was cut short",
    noStack: true,
  },
  {
    kind: "task-cant-die",
    type: "crash",
    role: "start",
    literals: ["can't die for more than"],
    header: /^INFO: task .* can't die for more than .* seconds/,
    title: "INFO: task can't die in {fn}",
    stack: { from: [TRACE], skip: /schedule/ },
  },
  {
    kind: "atomic-sleep",
    type: "crash",
    role: "start",
    literals: ["scheduling while atomic"],
    header: /^BUG: scheduling while atomic: (.*)\/(\d+)\/0x([0-9a-f]+)/,
    title: "BUG: scheduling while atomic in {fn}",
    stack: { from: [TRACE], skip: /schedule/ },
  },
  {
    kind: "atomic-sleep",
    type: "crash",
    role: "start",
    literals: ["sleeping function called"],
    header: /^BUG: sleeping function called from invalid context at (\S+)/,
    title: "BUG: sleeping function called from invalid context in {fn}",
    whereGroup: 1,
    stack: { from: [TRACE] },
  },
  {
    kind: "memleak",
    type: "crash",
    role: "start",
    literals: ["BUG: memory leak"],
    header: /^BUG: memory leak/,
    title: "memory leak in {fn}",
    strip: /^kmemleak: +/,
    stack: { from: [/backtrace/], skip: MEMLEAK_SKIP },
  },
  {
    // With kmemleak.verbose the kernel prints its leaks itself, each line after `kmemleak: `.
    kind: "memleak",
    type: "crash",
    role: "part",
    partOf: ["memleak"],
    literals: ["unreferenced object"],
    header: /^(?:kmemleak: )?unreferenced object (0x[0-9a-f]+) \(size (\d+)\):/,
    title: "memory leak in {fn}",
    addressGroup: 1,
    strip: /^kmemleak: +/,
    stack: { from: [/backtrace/], skip: MEMLEAK_SKIP },
  },
  {
    kind: "netdev-leak",
    type: "crash",
    role: "start",
    literals: ["unregister_netdevice: waiting"],
    header: /^unregister_netdevice: waiting for (.*) to become free/,
    title: "unregister_netdevice: waiting for DEV to become free",
    noStack: true,
  },
];

// --- exceptions, die(), panic() and the markers around them -------------------------------------------------------

const DIE_AND_PANIC: readonly CrashFormat[] = [
  {
    kind: "deadlock",
    type: "crash",
    role: "start",
    literals: ["Possible deadlock happend"],
    header: /^Possible deadlock happend locker_cpu: (-?\d+)/,
    title: "possible deadlock in {fn}",
    fallback: "possible deadlock (locker cpu $1)",
    lego: true,
  },
  {
    kind: "exception",
    type: "crash",
    role: "start",
    literals: ["PANIC: double fault"],
    header: /^PANIC: (double fault)/,
    title: "PANIC: $1 in {fn}",
    legoTitle: "$1 in {fn}",
    fallback: "PANIC: $1",
    stack: { from: ["rip"] },
  },
  {
    kind: "exception",
    type: "crash",
    role: "start",
    literals: ["PANIC: machine check", "PANIC: virtualization", "PANIC: reserved"],
    header: /^PANIC: (machine check|virtualization exception|reserved exception)/,
    title: "$1 in {fn}",
    fallback: "PANIC: $1",
    lego: true,
  },
  {
    kind: "die",
    type: "crash",
    role: "die",
    literals: ["stack segment: 0000"],
    header: /^stack segment: [0-9a-f]{4} \[#(\d+)\]/,
    title: "stack segment fault in {fn}",
    legoTitle: "stack segment in {fn}",
    dieGroup: 1,
    stack: FAULT,
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
    stack: FAULT,
  },
  {
    // Linux 5.8 to 5.10 spelled the trap's name with an underscore (x86 `DEFINE_IDTENTRY(exc_divide_error)`).
    kind: "die",
    type: "crash",
    role: "die",
    literals: ["divide_error"],
    header: /^divide_error: [0-9a-f]{4} \[#(\d+)\]/,
    title: "divide error in {fn}",
    dieGroup: 1,
    stack: FAULT,
  },
  {
    // arm64 and arm (arch/arm64/kernel/traps.c `__die`): `Internal error: Oops: 96000006 [#1] PREEMPT SMP`,
    // or `Oops - BUG` after a `kernel BUG at`.
    kind: "die",
    type: "crash",
    role: "die",
    literals: ["Internal error: "],
    header: /^Internal error: (.*?): ?[0-9a-f]+ \[#(\d+)\]/,
    title: "Internal error in {fn}",
    dieGroup: 2,
    stack: FAULT,
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
    stack: FAULT,
  },
  {
    kind: "panic",
    type: "crash",
    role: "panic",
    literals: ["not syncing"],
    header: /^Kernel [Pp]anic - not syncing: ?(Attempted to kill init!.*?)\s*$/,
    title: "kernel panic: Attempted to kill init!",
    reasonGroup: 1,
  },
  {
    // CONFIG_STACKPROTECTOR names the function whose canary died.
    kind: "panic",
    type: "crash",
    role: "panic",
    literals: ["not syncing"],
    header:
      /^Kernel [Pp]anic - not syncing: ?(stack-protector: Kernel stack is corrupted in: ([A-Za-z0-9_]+)[.+].*?)\s*$/,
    title: "kernel panic: stack is corrupted in $2",
    reasonGroup: 1,
    fnGroup: 2,
    noStack: true,
  },
  {
    // The same without a symbol for the address: the call trace names the function.
    kind: "panic",
    type: "crash",
    role: "panic",
    literals: ["not syncing"],
    header:
      /^Kernel [Pp]anic - not syncing: ?(stack-protector: Kernel stack is corrupted in: [0-9a-f].*?)\s*$/,
    title: "kernel panic: stack is corrupted in {fn}",
    reasonGroup: 1,
    stack: { from: [TRACE], skip: /stack_chk/ },
  },
  {
    // kernel/sched/core.c: the scheduler found the task's stack end magic overwritten.
    kind: "panic",
    type: "crash",
    role: "panic",
    literals: ["not syncing"],
    header: /^Kernel [Pp]anic - not syncing: ?(corrupted stack end detected inside scheduler.*?)\s*$/,
    title: "kernel panic: corrupted stack end in {fn}",
    reasonGroup: 1,
    stack: { from: [TRACE], skip: /schedule|retint_kernel/, pick: "stall" },
  },
  {
    // arm64 `panic_bad_stack`: named, as a stall is, after where the runaway recursion was entered.
    kind: "panic",
    type: "crash",
    role: "panic",
    literals: ["not syncing"],
    header: /^Kernel [Pp]anic - not syncing: ?(kernel stack overflow.*?)\s*$/,
    title: "kernel stack overflow in {fn}",
    reasonGroup: 1,
    stack: { from: [TRACE], skip: /bad_stack/, pick: "stall" },
  },
  {
    // The tty and device names vary from one boot to the next.
    kind: "panic",
    type: "crash",
    role: "panic",
    literals: ["not syncing"],
    header: /^Kernel [Pp]anic - not syncing: ?(Couldn't open N_TTY ldisc for \S+ --- error -\d+.*?)\s*$/,
    title: "kernel panic: Couldn't open N_TTY ldisc",
    reasonGroup: 1,
  },
  {
    // The last words of a report: alone, the report they end is missing.
    kind: "panic",
    type: "crash",
    role: "panic",
    literals: ["not syncing"],
    header:
      /^Kernel [Pp]anic - not syncing: ?((Fatal exception|panic_on_warn set|hung_task: blocked tasks).*?)\s*$/,
    title: "kernel panic: $2",
    reasonGroup: 1,
    corrupted: "a panic without the report that caused it",
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
    header: /^---\[ end (?:trace(?: [0-9a-f]+)? \]|Kernel [Pp]anic - not syncing)/,
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

/** The table, most specific rows first. */
/**
 * Any other `BUG: ` the kernel prints: a report all the same, titled by its own words (syzkaller
 * knows the family by the prefix too). Last, so that every row above is tried first.
 */
const ANY_BUG: CrashFormat = {
  kind: "bug-other",
  type: "crash",
  role: "start",
  literals: ["BUG: "],
  header: /^BUG: (\S.*?)\s*$/,
  title: "BUG: $1",
  noStack: true,
};

export const CRASH_FORMATS: readonly CrashFormat[] = [
  ...FAULTS,
  ...BUGS_AND_WARNINGS,
  ...LOCKDEP_REPORTS,
  ...SANITIZERS,
  ...STALLS,
  ...OTHERS,
  ...DIE_AND_PANIC,
  ANY_BUG,
];

/** Literals of every header: a line without any of them cannot open or shape a report. */
export const CRASH_LITERALS: readonly string[] = [...new Set(CRASH_FORMATS.flatMap((f) => f.literals))];

/** One search for all the literals, so that most lines skip the row-by-row tests. */
const ANY_LITERAL = new KeyFinder(CRASH_LITERALS);

/**
 * Linux 6.19 prints a WARNING's place first and its task last: `WARNING: kernel/x.c:12 at f+0x1/0x2,
 * CPU#1: comm/123` (or without the place). The rows read it in the older form every kernel before
 * printed, `WARNING: CPU: 1 PID: 123 at kernel/x.c:12 f+0x1/0x2`; the report keeps the line as it came.
 */
const NEW_WARNING = /^WARNING: (?:(\S+:\d+) )?at (\S+?), CPU#(\d+): .*\/(\d+)\s*$/;

/**
 * Recent x86 kernels start every die line with `Oops: ` (`__die_header`): `Oops: general protection
 * fault, ...: 0000 [#1]`, `Oops: divide error: 0000 [#1]`, a page fault's `Oops: Oops: 0002 [#1]`. What
 * follows is the line older kernels printed.
 */
const OOPS_PREFIX = /^Oops: (?![0-9a-f]{4} \[#)(?=\S)/;

/** A header line in the form the rows know: newer kernels' WARNING and die lines read as the older ones. */
function olderForm(msg: string): string {
  if (msg.startsWith("Oops: ")) return msg.replace(OOPS_PREFIX, "");
  const m = msg.startsWith("WARNING: ") ? NEW_WARNING.exec(msg) : null;
  if (!m) return msg;
  return `WARNING: CPU: ${m[3]} PID: ${m[4]} at ${m[1] ? `${m[1]} ` : ""}${m[2]}`;
}

/** Finds the format row a line's message is a header of. */
export function matchHeader(line: string): { format: CrashFormat; m: RegExpExecArray } | null {
  if (ANY_LITERAL.find(line) === null) return null;
  const msg = olderForm(line);
  for (const format of CRASH_FORMATS) {
    if (!format.literals.some((l) => msg.includes(l))) continue;
    const m = format.header.exec(msg);
    if (m) return { format, m };
  }
  return null;
}

/**
 * Frames that report the crash rather than cause it on LegoOS: the guilty function is the first
 * frame not on this list (syzkaller's "frames to skip"). Linux reports use crash-guilty.ts.
 */
export const SKIP_FRAMES =
  /^(?:panic|__warn|warn_slowpath\w*|warn_on\w*|report_bug|dump_stack\w*|show_stack|show_regs|__die|die|oops_end|do_trap|do_error_trap|do_\w+_trap|do_general_protection|do_divide_error|do_invalid_op|exc_\w+|asm_exc_\w+|handle_bug|no_context|__bad_area\w*|bad_area\w*|page_fault|do_page_fault|__do_page_fault|async_page_fault|spin_dump|do_raw_spin_lock|_raw_spin_\w+|spin_lock\w*|__spin_lock\w*|lock_acquire|debug_spin_lock\w*|cpu_dumpstack|smp_call_function\w*|print_hex_dump|kthread|ret_from_fork\w*)$/;

/** `fn+0x1c/0x40` in a title is `fn`: offsets differ from build to build. */
const OFFSET = /([A-Za-z_][\w.]*)\+0x[0-9a-f]+\/0x[0-9a-f]+/g;
/** A `{slot}` other than `{fn}`. */
const SLOT = /\{(?!fn\})(\w+)\}/g;

/**
 * Fills a title template: `$N` from the header, `{fn}` the guilty function, `{slot}` body captures.
 * `lego` picks the row's LegoOS title. A template whose capture is missing gives the fallback.
 */
export function renderTitle(
  format: CrashFormat,
  m: RegExpExecArray,
  fn: string | undefined,
  slots: ReadonlyMap<string, string> = new Map(),
  lego = false,
): string {
  const fill = (t: string) =>
    t
      .replace(/\$(\d)/g, (_, i: string) => m[Number(i)] ?? "")
      .replace(SLOT, (_, name: string) => slots.get(name) ?? "")
      .replace(OFFSET, "$1")
      .trim();
  const template = (lego && format.legoTitle) || format.title;
  const needed = [
    ...[...template.matchAll(SLOT)].map((s) => s[1]!),
    ...(format.captures ?? []).map((c) => c.slot),
  ];
  const missing = needed.some((slot) => !slots.has(slot));
  if (missing) return fill(format.fallback ?? template.replace(SLOT, "?"));
  if (fn) return fill(template.replace("{fn}", fn));
  if (format.fallback) return fill(format.fallback);
  return fill(template.replace(/ in \{fn\}$/, "").replace("{fn}", "?"));
}

/**
 * What varies between two sightings of one Linux bug, made constant as syzkaller makes it so that
 * titles group: addresses, IP addresses, line numbers, offsets, CPU and other numbers. Each rule is
 * applied until it changes nothing (matches can overlap: `0,1,2`).
 */
const VARYING: readonly [RegExp, string][] = [
  [/([^a-zA-Z0])(?:0x)?[0-9a-f]{6,}/g, "$1ADDR"],
  [/[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}/g, "IP"],
  [/(\.\w+)(?::[0-9]+)+/g, "$1:LINE"],
  [/([a-zA-Z][\w.]+)\+0x[0-9a-z]+\/0x[0-9a-z]+/g, "$1"],
  [/CPU#[0-9]+/g, "CPU"],
  [/(\W)\d+(\W|$)/g, "$1NUM$2"],
];

/** syzkaller's longest title: interleaved lines can make a header very long. */
const MAX_TITLE = 120;

/** A Linux title as syzkaller files it: varying parts made constant, printable, one space apart. */
export function normalizeTitle(title: string): string {
  let t = title;
  for (const [re, to] of VARYING) {
    for (let prev = ""; prev !== t; ) {
      prev = t;
      t = t.replace(re, to);
    }
  }
  const printable = t
    .replace(/\t/g, " ")
    .replace(/[^\x20-\x7e]/g, "")
    .slice(0, MAX_TITLE)
    .replace(/ {2,}/g, " ");
  return printable.trim();
}
