/**
 * Typed events the parsers produce. Every event carries where it came from (`node`, `line`, `ts`,
 * `arrival`) so that alerts can cite it. Counters and addresses that can pass 2^53 are BigInt.
 */

/** Fields every event has. */
export interface EventBase {
  /** The node whose console printed it. */
  node: string;
  /** Kernel time (seconds) of the event's first line, or null when that line had no stamp. */
  ts: number | null;
  /** 1-based line number of the event's first line in its source. */
  line: number;
  /** When the first line was received (ms since the epoch), or null for files read after the fact. */
  arrival: number | null;
  /** The event's first line as displayed. */
  text: string;
}

/** A thread-pool worker sample (F3), in any of its five generations. */
export interface ThpoolEvent extends EventBase {
  type: "thpool";
  /** `v0` ad-hoc `nr_queued: Q H`, `v1` one-line `hb: worker[...]`, `v2`/`v3` the `Watchdog:` blocks. */
  gen: "v0" | "v1" | "v2" | "v3";
  worker: number;
  /** Requests waiting (not counting the one in the handler). */
  queued: number;
  inHandler: boolean;
  /** High-water mark of `queued`. */
  maxQueued?: number;
  /** Requests this worker finished (V2/V3). */
  handled?: bigint;
  /** All requests this M received, every worker (V1b `nr_reqs`, V1c+ `nr_thpool_reqs`). */
  requests?: bigint;
  totalQueuingNs?: bigint;
  avgQueuingNs?: bigint;
  maxQueuingNs?: bigint;
  /** `ULONG_MAX` until the first request. */
  minQueuingNs?: bigint;
  /** 5 µs queuing-delay buckets, as printed (the percent text is not a real fraction). */
  histogram?: { lo: number; hi: number; pct: string }[];
  /** A V2/V3 block that stopped before its last line (or with fewer than its 40 histogram rows). */
  truncated?: true;
}

/** The memory manager's own stuck-worker report (F4). */
export interface StuckWorkerEvent extends EventBase {
  type: "stuck_worker";
  worker: number;
  cpu?: number;
  op?: number;
  /** Decoded opcode, e.g. `PCACHE_MISS`, `mmap`. */
  opName?: string;
  srcNid?: number;
  pid?: number;
  tgid?: number;
  flags?: number;
  vaddr?: bigint;
  /** The stuck CPU's instruction pointer symbol from the remote dump (`mlx4_ib_poll_cq+0x378/0x6a0`). */
  rip?: string;
  /** The remote dump's call trace, when the stuck CPU was in the kernel. */
  frames?: Frame[];
  /** How many times this same report (worker, op, source, address) was printed in a row, this one included. */
  repeat: number;
  /**
   * The report closed (the log ended, the node went quiet or another message came) before a part it
   * must have: the `common_header`, the remote dump, or a pcache miss's `msg`. A report without its
   * dump, followed by silence, means the stuck CPU did not answer the dump IPI: interrupts are off.
   */
  truncated?: true;
}

/** An RPC that got no reply in time (F6). */
export interface TimeoutEvent extends EventBase {
  type: "timeout";
  /** `ibapi_send_reply`, or the multicast function name. */
  fn: string;
  cpu?: number;
  pid?: number;
  ms: number;
  /** `clflush_one+0x1c9/0x370` */
  caller: string;
  /** `clflush_one` */
  callerFn: string;
  /** The real caller from the `net_send_reply_timeout()` follow-up line, when one came. */
  via?: string;
}

/** A FIT or mlx4 error (F7, F8) or a MAD guard (F5). */
export interface IbErrorEvent extends EventBase {
  type: "ib_error";
  kind:
    | "syndrome"
    | "send-failed"
    | "failed-status"
    | "weird-event"
    | "wc-status"
    | "poll-failed"
    | "lost-cqe"
    | "fit-error"
    | "cq-error"
    | "eq-overrun"
    | "port-down"
    | "mad-guard"
    | "mad-warning";
  /** The function that printed it (`fit_poll_cq`, `mlx4_ib_handle_error_cqe`...). */
  fn?: string;
  connection?: number;
  /** IB work-completion status, a number (April) or the status text (later FIT). */
  status?: number | string;
  syndrome?: number;
  wrId?: number;
  destNode?: number;
  cpu?: number;
  /** The opcode of a weird or unknown completion (garbage on error completions: -1, -30704). */
  opcode?: number;
  /** A return value printed by the failing call (`poll CQ failed -22`, `nr_got: 2`). */
  code?: number;
  /** The queue pair number, for `cannot find qp number` and mlx4's local QP operation error. */
  qpn?: number;
  /** What else the line said, as printed (`CQ overrun on CQN 0000c5`, `Wrong index: 7`). */
  detail?: string;
}

/** An IB management datagram completion (F5); not a heartbeat. */
export interface IbMadEvent extends EventBase {
  type: "ib_mad";
  dir: "send" | "recv";
  op?: number;
  got: number;
}

/** A user program fault (F14). */
export interface SegfaultEvent extends EventBase {
  type: "segfault";
  kind: "segfault" | "trap" | "general-protection" | "fatal-signal";
  comm?: string;
  pid?: number;
  addr?: bigint;
  ip?: bigint;
  sp?: bigint;
  error?: number;
  trap?: string;
  signal?: number;
}

/** The kernel's OOM killer killed a process (Linux; a memory cgroup's limit, or the whole machine's). */
export interface OomEvent extends EventBase {
  type: "oom";
  pid: number;
  comm: string;
  /** A memory cgroup ran out, not the machine. */
  cgroup?: true;
  /** The victim's badness score (kernels before 5.x print it). */
  score?: number;
  /** Its virtual and resident anonymous memory, kB (kernels since 5.x print them on the same line). */
  totalVmKb?: number;
  anonRssKb?: number;
}

/** A processor pcache or victim allocation that gave up (F14); the faulting thread gets SIGSEGV. */
export interface AllocAbortEvent extends EventBase {
  type: "alloc_abort";
  what: "pcache" | "victim" | "pcache-or-victim";
  cpu: number;
  pid: number;
  ms?: number;
  addr?: bigint;
}

/** One strace line (F18). */
export interface StraceEvent extends EventBase {
  type: "strace";
  cpu: number;
  pid: number;
  comm?: string;
  syscall: string;
  args?: string;
  /** Absent on an enter line. */
  ret?: { int: number; hex: bigint };
}

/** A Kernel Profile Points table (F19). */
export interface ProfileEvent extends EventBase {
  type: "profile";
  /** Width of the name column: 20 (April), 30 or 35. */
  nameWidth: number;
  rows: { name: string; on: boolean; totalNs: bigint; count: bigint; avgNs: bigint }[];
  /** The table ended without its closing separator. */
  truncated?: true;
}

/** A counter dump (F20) or a one-line gauge (`Freeram`, `Cache Utilization`). */
export interface CountersEvent extends EventBase {
  type: "counters";
  set: "pcache" | "memory" | "ib" | "freeram" | "cache";
  values: Record<string, bigint>;
}

/** Boot progress, role and node-ID lines (F1). */
export interface BootEvent extends EventBase {
  type: "boot";
  what:
    | "banner"
    | "cmdline"
    | "cpus"
    | "fit-id"
    | "fit-node"
    | "mad-wait"
    | "ib-port"
    | "qp-built"
    | "node-joined"
    | "fit-ready"
    | "worker-up"
    | "pinned"
    | "cpu-mask"
    | "manager-up"
    | "scheduler-up"
    | "network-config"
    | "llc-config";
  /** The role this line proves, when it proves one. */
  role?: "P" | "M";
  /** This node's FIT node ID (`FIT_LOCAL_ID`, the table row tagged `<---`). */
  nid?: number;
  /** The other node of a `qp-built` or `node-joined` line. */
  peer?: number;
  /** The CPU of a `pinned` thread, a `worker-up` thpool worker or an `ib-port` query. */
  cpu?: number;
  /** The thread of a `pinned` or `worker-up` line (`thpool-worker0`, `recvpollcq`). */
  thread?: string;
  /** The pid of a `pinned` thread. */
  pid?: number;
  /** The thpool `worker_id` of a `worker-up` line. */
  worker?: number;
  cpus?: number;
  version?: string;
  /** An `ib-port` line: the IB port queried, its LID and its state (`enum ib_port_state`, 4 is ACTIVE). */
  port?: number;
  lid?: number;
  portState?: number;
  detail?: string;
}

/** The node started over: a banner or a zero stamp after it had printed (F1). */
export interface RebootEvent extends EventBase {
  type: "reboot";
  /** What gave it away. */
  reason: "banner" | "zero-stamp";
}

/** Process lifecycle lines (F22). */
export interface ProcessEvent extends EventBase {
  type: "process";
  what: "newpid" | "fork-start" | "fork-done" | "fork-error" | "exit-note";
  pid?: number;
  comm?: string;
  child?: number;
  home?: number;
  replica?: number;
  /** The CPU of a `p2m_fork(cpuN)` line. */
  cpu?: number;
  /** The error of a `fork-error` (`-110:ETIMEDOUT`) or the preempt count of an `exit-note`. */
  detail?: string;
}

/** A memory-manager handler error (F16): unknown opcode, failed pcache miss, task dump. */
export interface HandlerErrorEvent extends EventBase {
  type: "handler_error";
  what: "unknown-opcode" | "bad-address" | "no-vma" | "not-stack" | "stack-expand";
  srcNid?: number;
  pid?: number;
  vaddr?: bigint;
  op?: number;
}

/** A memory-corruption diagnostic (F23). */
export interface CorruptionEvent extends EventBase {
  type: "corruption";
  /**
   * `bad-pte`, `bad-pmd`, `bad-pud` or `bad-pgd`, or `<object>-dumped` for a `pte`, `page`, `pcache`,
   * `pcache_rmap` or `victim` dump.
   */
  what: string;
  /** `file:line` of a bad page-table entry. */
  where?: string;
  /** The address of the bad entry. */
  addr?: bigint;
  /** The bad entry's value. */
  value?: bigint;
  /** Why the object was dumped (`corrupted`). */
  reason?: string;
}

/** One frame of a call trace. */
export interface Frame {
  addr?: string;
  /** `fit_poll_cq+0x4ad/0x510` */
  sym: string;
  /** Function name without offset. */
  fn: string;
  /** False for `? ` frames the unwinder was unsure of. */
  reliable: boolean;
}

/** A kernel crash or warning report (F9-F13, F15), assembled from its lines. */
export interface CrashEvent extends EventBase {
  type: "crash" | "warning";
  /** One line in the style of syzkaller: `BUG: unable to handle kernel paging request in task_tick_rt`. */
  title: string;
  /** Which format of the table matched (`oops`, `gpf`, `bug`, `warning`, `panic`...). */
  kind: string;
  /** The guilty function, when one could be found. */
  function?: string;
  /** Faulting address (Oops) or instruction pointer text. */
  address?: string;
  ip?: string;
  cpu?: number;
  pid?: number;
  comm?: string;
  kernel?: string;
  /** `file:line` of a WARNING or BUG. */
  where?: string;
  /** `Fatal exception`, `BUG!`... */
  panic?: string;
  /** The Oops die counter `[#N]`. */
  die?: number;
  registers: Record<string, string>;
  frames: Frame[];
  /** Every line of the report, foreign lines excluded. */
  report: string[];
  /** The line number of each line of `report`. */
  reportLines: number[];
  /** The log ended, went quiet, or another report began before this one was complete. */
  truncated: boolean;
  /**
   * The report lacks what its title needs (no call trace, no guilty frame, a header cut short, a body
   * line its format must have): its title is the best that could be made of it.
   */
  corrupted?: true;
  /** Why it is corrupted, e.g. `no call trace; cut short by another report`. */
  corruptedReason?: string;
}

/** Every event the parsers produce. */
export type ParsedEvent =
  | ThpoolEvent
  | StuckWorkerEvent
  | TimeoutEvent
  | IbErrorEvent
  | IbMadEvent
  | SegfaultEvent
  | OomEvent
  | AllocAbortEvent
  | StraceEvent
  | ProfileEvent
  | CountersEvent
  | BootEvent
  | RebootEvent
  | ProcessEvent
  | HandlerErrorEvent
  | CorruptionEvent
  | CrashEvent;

export type EventType = ParsedEvent["type"];

/** Where a parser puts events. */
export type Emit = (e: ParsedEvent) => void;
