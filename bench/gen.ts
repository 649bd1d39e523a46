/**
 * Deterministic synthetic LegoOS consoles, for the benchmark and the demo logs.
 *
 * Every message is rendered from a LegoOS printk format string (see the format catalogue); the
 * values are made up. The same seed always gives the same bytes, so benchmark runs compare and
 * demo logs can be regenerated without churn.
 */

/** mulberry32: a tiny 32-bit PRNG. Deterministic across platforms, which `Math.random` is not. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Convenience draws over {@link mulberry32}. */
export class Rng {
  private readonly f: () => number;

  constructor(seed: number) {
    this.f = mulberry32(seed);
  }

  /** A float in [0, 1). */
  next(): number {
    return this.f();
  }

  /** An integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.f() * (hi - lo + 1));
  }

  /** One element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.f() * xs.length)]!;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.f() < p;
  }

  /** `digits` random lower-case hex digits. */
  hex(digits: number): string {
    let s = "";
    for (let i = 0; i < digits; i++) s += HEX[Math.floor(this.f() * 16)];
    return s;
  }
}

const HEX = "0123456789abcdef";

/** The printk stamp `[%5lu.%06lu]` (without the blank after it) of a time in microseconds. */
export function stamp(us: number): string {
  const secs = Math.floor(us / 1e6);
  const micros = us - secs * 1e6;
  return `[${String(secs).padStart(5)}.${String(micros).padStart(6, "0")}]`;
}

/** Lower-case hex of a non-negative safe integer, zero-padded to `width`. */
export function hexOf(n: number, width = 0): string {
  return n.toString(16).padStart(width, "0");
}

// 115200 baud with 8N1 framing moves 11520 bytes/s, so a printk costs about 87 µs per byte. Lines of
// one block are spaced by that cost on a real console, which is what makes their stamps look real.
const SERIAL_US_PER_BYTE = 87;

/** One node's console: stamps messages with a kernel clock that only moves forward. */
export class Console {
  /** Kernel time of the last line, in microseconds. */
  us: number;
  /** Lines printed and not yet taken. */
  out: string[] = [];
  private serialUs = 0;

  constructor(startUs: number) {
    this.us = startUs;
  }

  /** Prints one printk message `gapUs` after the previous line; by default after its serial cost. */
  print(msg: string, gapUs?: number): void {
    this.us += Math.max(1, Math.round(gapUs ?? this.serialUs + 40));
    this.serialUs = (msg.length + 16) * SERIAL_US_PER_BYTE;
    // pr_info("\n") prints a stamp alone; captures trim the blank after it.
    this.out.push(msg === "" ? stamp(this.us) : `${stamp(this.us)} ${msg}`);
  }

  /** Prints a message at a fixed time, such as the `[    0.000000]` lines before TSC calibration. */
  printAt(us: number, msg: string): void {
    this.us = Math.max(this.us, us);
    this.serialUs = (msg.length + 16) * SERIAL_US_PER_BYTE;
    this.out.push(`${stamp(this.us)} ${msg}`);
  }

  /** Prints an unstamped line: the rest of a printk whose format had embedded newlines. */
  cont(text: string): void {
    this.serialUs += (text.length + 1) * SERIAL_US_PER_BYTE;
    this.out.push(text);
  }

  /** Lets the clock run without output. */
  idle(us: number): void {
    this.us += Math.round(us);
    this.serialUs = 0;
  }

  /** Hands over the lines printed so far. */
  take(): string[] {
    const o = this.out;
    this.out = [];
    return o;
  }
}

// ---------------------------------------------------------------------------------------------
// Kernel symbols, registers and stacks

// Start addresses of the functions that appear in frames. The ones from the seed log give the same
// `func+off` addresses as the real console; the rest are spread over the same text range.
const SYMBOL_BASE: Record<string, number> = {
  fit_poll_cq: 0x062fc0,
  fit_poll_cq_pass: 0x0634d0,
  native_smp_send_reschedule: 0x003260,
  try_to_wake_up: 0x019770,
  __schedule: 0x065610,
  kthread: 0x020540,
  __kthread_parkme: 0x0204d0,
  ret_from_fork: 0x00e550,
  task_tick_rt: 0x01bbe0,
  ib_mad_completion_handler: 0x0581c0,
  handle_p2m_pcache_miss: 0x0327c0,
};

function symbolBase(name: string): number {
  const known = SYMBOL_BASE[name];
  if (known !== undefined) return known;
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return 0x010000 + (((h >>> 0) % 0x1b0000) & ~0xf);
}

/** A kernel text address and its `%pS` rendering, e.g. `fit_poll_cq+0x4ad/0x510`. */
export interface Sym {
  addr: string;
  text: string;
}

/** The address and `%pS` text of `name+off/size`. */
export function sym(name: string, off: number, size: number): Sym {
  return {
    addr: `ffffffff81${hexOf(symbolBase(name) + off, 6)}`,
    text: `${name}+0x${hexOf(off)}/0x${hexOf(size)}`,
  };
}

/** One call-trace frame: symbol, offset, size, and whether it is printed as unreliable (`? `). */
export type FrameSpec = readonly [name: string, off: number, size: number, unreliable?: boolean];

function frameLine(f: FrameSpec): string {
  const s = sym(f[0], f[1], f[2]);
  return `[<${s.addr}>] ${f[3] ? "? " : ""}${s.text}`;
}

function kernelWord(rng: Rng): string {
  const r = rng.next();
  if (r < 0.3) return `ffffffff81${rng.hex(6)}`;
  if (r < 0.6) return `ffff8810${rng.hex(8)}`;
  if (r < 0.8) return `00000000000${rng.hex(5)}`;
  return `0000${rng.hex(12)}`;
}

/** What a register dump needs to know about the task and the faulting point. */
export interface TaskInfo {
  cpu: number;
  pid: number;
  comm: string;
  release: string;
  build: number;
}

function taskLine(t: TaskInfo): string {
  return `CPU: ${t.cpu} PID: ${t.pid} Comm: ${t.comm} ${t.release} #${t.build}`;
}

/** `show_regs()` of a kernel-mode context: RIP, RSP, the register rows and the control registers. */
function printRegisters(c: Console, rng: Rng, rip: Sym, rsp: string, cr2: string): void {
  c.print(`RIP: 0010:[<${rip.addr}>]  [<${rip.addr}>] ${rip.text}`);
  c.print(`RSP: 0000:${rsp}  EFLAGS: 00010${rng.pick(["246", "282", "206", "097"])}`);
  const names = [
    "RAX",
    "RBX",
    "RCX",
    "RDX",
    "RSI",
    "RDI",
    "RBP",
    "R08",
    "R09",
    "R10",
    "R11",
    "R12",
    "R13",
    "R14",
    "R15",
  ];
  for (let i = 0; i < names.length; i += 3) {
    const row = names
      .slice(i, i + 3)
      .map((n) => `${n}: ${rng.chance(0.3) ? "0000000000000000" : kernelWord(rng)}`);
    c.print(row.join(" "));
  }
  c.print(`FS:  0000000000000000(0000) GS:ffff88107fc${rng.hex(2)}000(0000) knlGS:0000000000000000`);
  c.print("CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033");
  c.print(`CR2: ${cr2} CR3: 000000000113d000 CR4: 00000000000406a0`);
}

/** `Stack:` and its rows of four words (`stack_lines` defaults to 5). */
function printStack(c: Console, rng: Rng, rows = 5): void {
  c.print("Stack:");
  for (let r = 0; r < rows; r++) {
    c.print([kernelWord(rng), kernelWord(rng), kernelWord(rng), kernelWord(rng)].join(" "));
  }
}

function printTrace(c: Console, frames: readonly FrameSpec[]): void {
  c.print("Call Trace:");
  c.print("<TSK>");
  for (const f of frames) c.print(frameLine(f));
  c.print("<EOT>");
}

function printCode(c: Console, rng: Rng): void {
  const before: string[] = [];
  for (let i = 0; i < 43; i++) before.push(rng.hex(2));
  const after: string[] = [];
  for (let i = 0; i < 20; i++) after.push(rng.hex(2));
  c.print(`Code: ${before.join(" ")} <${rng.hex(2)}> ${after.join(" ")} `);
}

// ---------------------------------------------------------------------------------------------
// Message families

/** Kinds of Oops the generator knows; each is a signature seen in the seed or devlog. */
export type OopsKind = "fit_poll_cq" | "ib_mad" | "task_tick_rt";

const KTHREAD_TAIL: readonly FrameSpec[] = [
  ["kthread", 0xf6, 0x120],
  ["__kthread_parkme", 0x70, 0x70, true],
  ["ret_from_fork", 0x22, 0x30],
];

const OOPS_FRAMES: Record<OopsKind, readonly FrameSpec[]> = {
  fit_poll_cq: [
    ["native_smp_send_reschedule", 0x39, 0x50, true],
    ["try_to_wake_up", 0xe4, 0x1f0, true],
    ["__schedule", 0xf8, 0x1e0, true],
    ["fit_poll_cq", 0x510, 0x510, true],
    ["fit_poll_cq_pass", 0x14, 0x30],
    ...KTHREAD_TAIL,
  ],
  ib_mad: [
    ["__schedule", 0xf8, 0x1e0, true],
    ["ib_mad_completion_handler", 0x810, 0x810, true],
    ...KTHREAD_TAIL,
  ],
  task_tick_rt: [
    ["scheduler_tick", 0x57, 0x90],
    ["update_process_times", 0x40, 0x50],
    ["tick_handle_periodic", 0x24, 0x70],
    ["apic_timer_interrupt", 0x8c, 0x90],
    ["kevict_sweepd", 0x5b, 0x120, true],
    ...KTHREAD_TAIL,
  ],
};

const PANIC_FRAMES: readonly FrameSpec[] = [
  ["panic", 0xc2, 0x105],
  ["oops_end", 0xa6, 0xc0],
  ["no_context", 0x177, 0x200],
  ["__bad_area_nosemaphore", 0x1b0, 0x1d0],
  ["bad_area_nosemaphore", 0x13, 0x20],
  ["do_page_fault", 0x9c, 0x3c0],
  ["page_fault", 0x28, 0x30],
];

/** A node's kernel: the state behind its counters, and one method per message family. */
export class Kernel {
  /** Per-boot WARN counter: `---[ end trace %016llx ]---` counts from 0. */
  private traceId = 0;
  private dieCount = 0;
  private madGotOne: number;
  private readonly madLines: readonly [number, number];
  private readonly wrIds = new Map<number, number>();
  private readonly profile = [
    { name: "flush_tlb_others", ns: 130715, nr: 53 },
    { name: "__do_kmalloc_node", ns: 97344056, nr: 265647 },
    { name: "pcache_miss", ns: 4504660891, nr: 258211 },
    { name: "pcache_flush", ns: 0, nr: 0 },
  ];
  /** Thread-pool workers (M); the demo steers them directly. */
  readonly workers: Worker[] = [];
  /** Global count of requests this M received (`nr_thpool_reqs`). */
  thpoolReqs = 0;

  constructor(
    readonly c: Console,
    readonly rng: Rng,
    readonly task: { release: string; build: number; role: "PROCESSOR" | "MEMORY" },
  ) {
    this.madGotOne = rng.int(13, 21);
    this.madLines = rng.pick([
      [2344, 2338],
      [2337, 2331],
    ] as const);
    for (let i = 0; i < 4; i++) {
      this.workers.push({
        maxQueued: 0,
        queued: 0,
        inHandler: false,
        handled: 0,
        totalNs: 0,
        maxNs: 0,
        minNs: null,
        buckets: new Array<number>(40).fill(0),
      });
    }
  }

  /** F5 (April): a subnet-manager burst, recv/send pairs for two MADs. */
  madBurst(): void {
    const [recvLine, sendLine] = this.madLines;
    for (let k = 0; k < 2; k++) {
      const n = this.madGotOne++;
      this.c.print(`ib_mad_completion_handler ${recvLine} got successful recv cq op 128 mad_got_one ${n}`);
      this.c.print(`ib_mad_completion_handler ${sendLine} got successful send cq op 0 mad_got_one ${n}`);
    }
  }

  /** F6: an RPC that got no reply in time, optionally with the `net_send_reply_timeout()` follow-up. */
  rpcTimeout(cpu: number, pid: number, caller: string, via?: string): void {
    this.c.print(`ibapi_send_reply() CPU:${cpu} PID:${pid} timeout (30010 ms), caller: ${caller}`);
    if (via) this.c.print(`  net_send_reply_timeout() CPU:${cpu} PID:${pid} caller: ${via}`);
  }

  private nextWr(conn: number): number {
    const wr = this.wrIds.get(conn) ?? this.rng.int(300, 1800);
    this.wrIds.set(conn, wr + 1);
    return wr;
  }

  /**
   * F7/F8 (April): a QP dying. Retry-exceeded first (syndrome 21, `as 12`), then groups of flushed
   * completions (syndrome 5, `failed status (5)`, garbage opcodes), as in the seed's 04/01 excerpt.
   */
  ibBurst(conn: number, groups: number): void {
    const c = this.c;
    c.print("mlx4_ib_handle_error_cqe syndrome 21");
    c.print("mlx4_ib_handle_error_cqe syndrome 5");
    c.print(`send request failed at connection ${conn} as 12`);
    for (let i = 0; i < 3; i++) c.print("mlx4_ib_handle_error_cqe syndrome 5");
    for (let g = 0; g < groups; g++) {
      c.print(`fit_poll_cq: failed status (5) for wr_id ${this.nextWr(conn)}`);
      c.print(`fit_poll_cq: failed status (5) for wr_id ${this.nextWr(conn)}`);
      c.print(`fit_poll_cq: connection ${conn} Recv weird event as -1`);
      c.print(`fit_poll_cq: failed status (5) for wr_id ${this.nextWr(conn)}`);
      c.print(`fit_poll_cq: connection ${conn} Recv weird event as -30704`);
      c.print(`fit_poll_cq: failed status (5) for wr_id ${this.nextWr(conn)}`);
      c.print(`fit_poll_cq: connection ${conn} Recv weird event as -30704`);
      for (let i = 0; i < 4; i++) c.print("mlx4_ib_handle_error_cqe syndrome 5");
    }
    c.print(`fit_poll_cq: failed status (5) for wr_id ${this.nextWr(conn)}`);
  }

  /** F19 (April, 20-column names): the cumulative profile-point table, framed by blank stamps. */
  profileTable(): void {
    const c = this.c;
    for (const p of this.profile) {
      const more = p.name === "flush_tlb_others" ? this.rng.int(0, 2) : this.rng.int(1000, 300000);
      p.nr += more;
      p.ns += more * this.rng.int(300, 18000);
    }
    c.print("");
    c.print("Kernel Profile Points");
    c.print(" status                  name             total                nr            avg.ns");
    const sep = "-------  --------------------  ----------------  ----------------  ----------------";
    c.print(sep);
    for (const p of this.profile) {
      const secs = Math.floor(p.ns / 1e9);
      const frac = String(p.ns - secs * 1e9).padStart(9, "0");
      const avg = p.nr === 0 ? 0 : Math.ceil(p.ns / p.nr);
      c.print(
        `    off  ${p.name.padStart(20)}  ${String(secs).padStart(6)}.${frac}  ${String(p.nr).padStart(16)}  ${String(avg).padStart(16)}`,
      );
    }
    c.print(sep);
    c.print("");
  }

  /** F20 (April): the pcache event counters, which April reset after every print. */
  pcacheCounters(): void {
    const faults = this.rng.int(1000, 800000);
    const flushes = Math.floor(faults / this.rng.int(2, 4));
    for (const name of PCACHE_EVENTS) {
      let v = 0;
      if (name === "nr_pgfault" || name === "nr_pcache_fill_from_memory")
        v = faults - (name === "nr_pgfault" ? 0 : 2);
      else if (name === "nr_clflush") v = flushes;
      else if (name.startsWith("nr_pcache_eviction") || name.startsWith("nr_victim")) {
        v =
          name.includes("fail") || name.includes("eagain")
            ? this.rng.int(0, 3)
            : flushes + this.rng.int(0, 50);
      } else if (name === "nr_pcache_fill_from_victim") v = this.rng.int(0, 40);
      this.c.print(`${name}: ${v}`);
    }
  }

  /** One worker's V3 `Watchdog:` block: a stamped header and four unstamped lines, then the histogram. */
  thpoolBlock(i: number, histogram: boolean): void {
    const w = this.workers[i]!;
    const c = this.c;
    const avg = w.handled === 0 ? 0 : Math.floor(w.totalNs / w.handled);
    c.print("Watchdog:");
    c.cont(`    worker[${i}]`);
    c.cont(
      `        max_nr_queued=${w.maxQueued} current_nr_queued=${w.queued} in_handler=${w.inHandler ? "YES" : "NO"}`,
    );
    c.cont(`        nr_handled=${w.handled} nr_thpool_reqs=${this.thpoolReqs}`);
    c.cont(
      `        total_queuing_ns: ${w.totalNs} avg_queuing_ns:${avg} max_queuing_ns: ${w.maxNs} min_queuing_ns: ${w.minNs ?? "18446744073709551615"}`,
    );
    if (!histogram) return;
    const total = w.buckets.reduce((a, b) => a + b, 0);
    for (let j = 0; j < 40; j++) {
      const n = w.buckets[j]!;
      // `%Lu.%s%%` with the remainder printed as if it were the fraction (a LegoOS quirk).
      const pct = total === 0 ? "0.0" : `${Math.floor((n * 100) / total)}.${(n * 100) % total}`;
      c.print(`        [${String(j * 5).padStart(3)}, ${String(j * 5 + 5).padStart(3)})    ${pct}%`);
    }
  }

  /**
   * Accounts about `n` new requests, dealt round-robin with some jitter to the workers that are not in
   * a handler, served with plausible queuing delays (bulk arithmetic: this runs on every tick). A
   * worker in a handler is left alone: what piles up behind it is the caller's story to tell.
   */
  serve(n: number): void {
    const rng = this.rng;
    const count = this.workers.length;
    for (const w of this.workers) {
      if (w.inHandler) continue;
      const m = Math.round((n / count) * (0.92 + 0.16 * rng.next()));
      if (m === 0) continue;
      this.thpoolReqs += m;
      const slow = Math.floor(m * rng.next() * 0.06);
      const fastAvg = rng.int(150, 900);
      w.handled += m;
      w.totalNs += (m - slow) * fastAvg + slow * rng.int(5000, 20000);
      w.maxNs = Math.max(w.maxNs, slow > 0 ? rng.int(5000, 60000) : rng.int(fastAvg, 4999));
      w.minNs = Math.min(w.minNs ?? Number.MAX_SAFE_INTEGER, rng.int(110, fastAvg));
      w.buckets[0]! += m - slow;
      for (let left = slow; left > 0; ) {
        const part = Math.min(left, rng.int(1, 1 + Math.floor(slow / 2)));
        w.buckets[rng.int(1, 11)]! += part;
        left -= part;
      }
      w.maxQueued = Math.max(w.maxQueued, rng.int(1, 3));
    }
  }

  /** F3 V1c: one `hb:` line per worker. */
  thpoolV1(): void {
    for (let i = 0; i < this.workers.length; i++) {
      const w = this.workers[i]!;
      this.c.print(
        `hb: worker[${i}] max_nr_queued=${w.maxQueued} nr_queued=${w.queued} in_handler=${w.inHandler ? "yes" : "no"} nr_thpool_reqs=${this.thpoolReqs}`,
      );
    }
  }

  /** F4 (HEAD): the stuck-worker report, the remote stack dump of its CPU, and the pcache-miss message. */
  stuckReport(
    worker: number,
    t: TaskInfo,
    op: number,
    srcNid: number,
    msg?: { pid: number; tgid: number; vaddr: string },
  ): void {
    const c = this.c;
    c.print(`watchdog: worker[${worker}] CPU${String(t.cpu).padStart(2)} stucked`);
    c.print(`watchdog:  common_header [op=0x${hexOf(op)} src_nid:${srcNid}]`);
    c.print(taskLine(t));
    printRegisters(
      this.c,
      this.rng,
      sym("_raw_spin_lock", 0x2a, 0x40),
      `ffff88103e8${this.rng.hex(2)}d48`,
      "00007fff7b7fdfb8",
    );
    printStack(c, this.rng);
    printTrace(c, [
      ["_raw_spin_lock", 0x2a, 0x40],
      ["handle_lego_mm_fault", 0x14b, 0x3a0],
      ["handle_p2m_pcache_miss", 0xc4, 0x1d0],
      ["thpool_worker_handler", 0x1a2, 0x4b0],
      ["thpool_worker_func", 0x11b, 0x1f0],
      ...KTHREAD_TAIL,
    ]);
    printCode(c, this.rng);
    if (msg) c.print(`watchdog:  msg [pid=${msg.pid},tgid=${msg.tgid},flags=0x51,vaddr=${msg.vaddr}]`);
  }

  /** F11: a WARN block; `text` is the optional WARN() message printed after the header. */
  warning(t: TaskInfo, site: string, fn: Sym, frames: readonly FrameSpec[], text?: string): void {
    const c = this.c;
    c.print("------------[ cut here ]------------");
    c.print(`WARNING: CPU: ${t.cpu} PID: ${t.pid} at ${site} ${fn.text}`);
    if (text) c.print(text);
    c.print(taskLine(t));
    printStack(c, this.rng);
    printTrace(c, frames);
    c.print(`---[ end trace ${hexOf(this.traceId++, 16)} ]---`);
  }

  /** F9 + F13: an Oops in a kernel thread, the register dump, and the panic that follows. */
  oops(kind: OopsKind, t: TaskInfo): void {
    const c = this.c;
    const rng = this.rng;
    let ip: Sym;
    let cr2: string;
    if (kind === "fit_poll_cq") {
      c.print("BUG: unable to handle kernel NULL pointer dereference at           (null)");
      ip = sym("fit_poll_cq", 0x4ad, 0x510);
      cr2 = "0000000000000000";
    } else if (kind === "ib_mad") {
      c.print("BUG: unable to handle kernel NULL pointer dereference at 0000000000000020");
      ip = sym("ib_mad_completion_handler", 0xc7, 0x810);
      cr2 = "0000000000000020";
    } else {
      cr2 = `00000002${rng.hex(8)}`;
      c.print(`BUG: unable to handle kernel paging request at ${cr2}`);
      ip = sym("task_tick_rt", 0x1f, 0xd0);
    }
    c.print(`IP: [<${ip.addr}>] ${ip.text}`);
    c.print("PGD 0");
    if (kind === "task_tick_rt") c.print("Thread overran stack, or stack corrupted");
    const err = kind === "fit_poll_cq" ? "0002" : "0000";
    c.print(`Oops: ${err} [#${++this.dieCount}] SMP ${this.task.role}`);
    c.print(taskLine(t));
    const rsp = `ffff88103e8${rng.hex(2)}d88`;
    printRegisters(c, rng, ip, rsp, cr2);
    printStack(c, rng);
    printTrace(c, OOPS_FRAMES[kind]);
    printCode(c, rng);
    c.print(`RIP  [<${ip.addr}>] ${ip.text}`);
    c.print(` RSP <${rsp}>`);
    c.print(`CR2: ${cr2}`);
    c.print("Kernel Panic - not syncing: Fatal exception");
    c.print(taskLine(t));
    printStack(c, rng);
    printTrace(c, [...PANIC_FRAMES, ...OOPS_FRAMES[kind].slice(-4)]);
    c.print("---[ end Kernel panic - not syncing: Fatal exception");
  }
}

/** A thread-pool worker of M, as the V3 statistics show it. */
export interface Worker {
  maxQueued: number;
  queued: number;
  inHandler: boolean;
  handled: number;
  totalNs: number;
  maxNs: number;
  /** Null until the first request: printed as ULONG_MAX. */
  minNs: number | null;
  /** Queuing-delay histogram, 40 buckets of 5 µs. */
  buckets: number[];
}

// The April pcache event table (28 names, ending nr_mremap_pset_diff), in print order.
const PCACHE_EVENTS = [
  "nr_pgfault",
  "nr_clflush",
  "nr_pgfault_wp",
  "nr_pgfault_wp_cow",
  "nr_pgfault_wp_reuse",
  "nr_pgfault_due_to_concurrent_eviction",
  "nr_pcache_fill_from_memory",
  "nr_pcache_fill_from_victim",
  "nr_pcache_eviction_triggered",
  "nr_pcache_eviction_eagain",
  "nr_pcache_eviction_failure_find",
  "nr_pcache_eviction_failure_evict",
  "nr_pcache_eviction_succeed",
  "nr_pset_list_lookup",
  "nr_pset_list_hit",
  "nr_victim_eviction_triggered",
  "nr_victim_eviction_eagain",
  "nr_victim_eviction_succeed",
  "nr_victim_prepare_insert",
  "nr_victim_finish_insert",
  "nr_victim_flush_submitted_clean",
  "nr_victim_flush_submitted_dirty",
  "nr_victim_flush_finished_dirty",
  "nr_victim_flush_async_run",
  "nr_victim_flush_sync",
  "nr_sweep_run",
  "nr_mremap_pset_same",
  "nr_mremap_pset_diff",
] as const;

// ---------------------------------------------------------------------------------------------
// strace (F18)

const COMMS = ["word_count-pthr", "exe.o", "python", "kmeans-pthread", "pca-pthread", "matrix_multipl"];

/** `(int)` of a return value, as strace prints its decimal field. */
function int32(n: number): number {
  const low = n % 4294967296;
  return low >= 2147483648 ? low - 4294967296 : low;
}

/**
 * F18: one strace line, in the April `CPU%d PID%d` form (`comm` null) or the later `CPU%d PID%d-%s`
 * form. `mmOnly` restricts it to mmap/munmap with sane results, the calls a running pthread app makes.
 */
export function straceLine(rng: Rng, cpu: number, pid: number, comm: string | null, mmOnly = false): string {
  const who = comm === null ? `CPU${cpu} PID${pid}` : `CPU${cpu} PID${pid}-${comm}`;
  const r = rng.next();
  if (r < 0.55) {
    const len = rng.int(1, 0x4000) * 0x1000;
    // Now and then the April bug: a bogus low address from a reply buffer shared between M workers.
    const ret =
      mmOnly || rng.chance(0.95)
        ? 0x7fff00000000 + rng.int(0, 0xffff) * 0x10000
        : 0x4e800000 + rng.int(0, 0xffff) * 8;
    const prot = rng.chance(0.8) ? "prot(0x3)=PROT_READ|PROT_WRITE" : "prot(0x1)=PROT_READ";
    return `${who} strace__mmap(addr=0x0, len=0x${hexOf(len)}, ${prot}, flags(0x22)=MAP_PRIVATE|MAP_ANONYMOUS, fd=18446744073709551615( ), off=0x0) = ${int32(ret)}, 0x${hexOf(ret)}`;
  }
  if (r < 0.9 || mmOnly) {
    const start = 0x7fff00000000 + rng.int(0, 0xfff) * 0x100000;
    const len = rng.int(1, 0x4000) * 0x1000;
    return `${who} strace__munmap([0x${hexOf(start)} - 0x${hexOf(start + len)}], ${len}) = 0, 0x0`;
  }
  const call = rng.pick(["sys_execve", "sys_brk", "sys_clone", "sys_wait4"]);
  if (rng.chance(0.4)) return `${who} ${call}`;
  const ret =
    call === "sys_clone"
      ? pid + rng.int(1, 12)
      : call === "sys_brk"
        ? 0x6dc000 + rng.int(0, 0x7f) * 0x1000
        : 0;
  // strace prints a zero result as `0, 0x0` (seed: `sys_execve = 0, 0x0`).
  return `${who} ${call} = ${ret}, 0x${hexOf(ret)}`;
}

// ---------------------------------------------------------------------------------------------
// Ordinary chatter: lines no monitored family matches

const PATHS = [
  "/root/ys/phoenix/phoenix-2.0/tests/word_count/word_count_datafiles/word_1GB.txt",
  "/root/ys/phoenix/phoenix-2.0/tests/word_count/word_count-pthread",
  "/root/ys/phoenix/phoenix-2.0/tests/kmeans/kmeans-pthread",
  "/root/ys/phoenix/phoenix-2.0/tests/pca/pca-pthread",
  "/sys/devices/system/cpu/online",
  "/proc/meminfo",
  "/etc/ld.so.cache",
  "/lib64/libpthread.so.0",
  "/lib64/libc.so.6",
  "/root/ys/py/tf/mnist.py",
];

type Chatter = (rng: Rng) => string;

/** An ordered, page-aligned user range `0x... - 0x...` in the mmap area. */
function uvaRange(r: Rng): string {
  const start = 0x7fff00000000 + r.int(0, 0xfffff) * 0x1000;
  return `0x${hexOf(start)} - 0x${hexOf(start + r.int(1, 0x4000) * 0x1000)}`;
}

const CHATTER_P: readonly Chatter[] = [
  (r) => `SYSC_close() CPU${r.int(0, 23)} PID:${r.int(17, 60)} [fd: ${r.int(3, 40)}] -> [${r.pick(PATHS)}]`,
  (r) =>
    `SYSC_open() CPU${r.int(0, 23)} PID:${r.int(17, 60)} f_name: ${r.pick(PATHS)}, flags: 0x${hexOf(r.pick([0, 0x80000, 0x241]))} fd: ${r.int(3, 40)}`,
  (r) =>
    `SYSC_read() CPU${r.int(0, 23)} PID:${r.int(17, 60)} fd: ${r.int(3, 40)} count: ${r.pick([4096, 65536, 1048576])} pos: ${r.int(0, 1 << 30)} -> ${r.pick(PATHS)}`,
  (r) =>
    `pcache: CPU${r.int(0, 23)} evict pset ${r.int(0, 8191)} way ${r.int(0, 63)} uva 0x7fff${r.hex(8)} dirty ${r.int(0, 1)}, victim #${r.int(0, 7)}, nr_usable_victims ${r.int(0, 8)}`,
  (r) =>
    `pcache: victim fill pset ${r.int(0, 8191)} uva 0x7fff${r.hex(8)} from victim #${r.int(0, 7)} (hit), pset_idx ${r.int(0, 8191)}, hint ${r.int(0, 7)}`,
  (r) =>
    `Processor: pcache_handle_fault(): CPU${r.int(0, 23)} PID:${r.int(17, 60)} uva 0x7fff${r.hex(8)} flags 0x${r.pick(["54", "55", "56"])} -> pset ${r.int(0, 8191)} way ${r.int(0, 63)}`,
  (r) =>
    `kvictim_flushd: CPU${r.pick([8, 10])} flushed ${r.int(1, 8)} dirty victims, nr_usable ${r.int(0, 8)} nr_free ${r.int(0, 8)}, last 0x7fff${r.hex(8)} in ${r.int(5, 90)} us`,
  (r) =>
    `fit: fit_send_reply_with_rdma_write_with_imm() CPU${r.int(0, 23)} conn ${r.int(0, 11)} len ${r.pick([64, 4096, 8192])} imm 0x${r.hex(4)} dest node ${r.int(1, 2)}`,
  (r) =>
    `fit: fit_internal_poll_sendcq() CPU${r.int(0, 23)} conn ${r.int(0, 11)} polled ${r.int(1, 16)} CQEs, outstanding ${r.int(0, 32)}, next wr_seq ${r.int(1, 99999)}`,
  (r) =>
    `Processor: execve(): pid ${r.int(17, 60)} file ${r.pick(PATHS)} argc ${r.int(1, 4)} envc ${r.int(3, 24)}`,
  (r) =>
    `Processor: zap pcache lines of pid ${r.int(17, 60)} range [${uvaRange(r)}), nr_zapped ${r.int(1, 4096)}`,
  (r) =>
    `fit: ibapi_send_reply_imm() CPU${r.int(0, 23)} PID:${r.int(17, 60)} node ${r.int(1, 2)} opcode 0x${r.pick(["20000000", "30000000", "9", "c"])} size ${r.pick([56, 64, 4160])} reply ${r.pick([8, 4096, 4104])} bytes`,
  (r) =>
    `Processor: clflush_one(): CPU${r.int(0, 23)} PID:${r.int(17, 60)} flush pset ${r.int(0, 8191)} way ${r.int(0, 63)} uva 0x7fff${r.hex(8)} to node ${r.int(1, 2)} (${r.int(4, 40)} us)`,
];

// Short lines, drawn less often so the log averages about 100 bytes a line like a busy debug console.
const SHORT_CHATTER_P: readonly Chatter[] = [
  (r) => `stat: ${r.pick(PATHS)}`,
  (r) => `p2m_fork(cpu${r.int(0, 23)}): I cur:${r.int(17, 40)}-exe.o new:${r.int(41, 60)}`,
  (r) => `newpid: ${r.int(20, 90)} home:${r.int(1, 2)} replica: ${r.int(1, 2)}`,
  () => "do_close_on_exec(): TODO, not implemented.",
  (r) => `mlx4_msi_x_interrupt(): IRQ: ${r.int(24, 40)} CPU: ${r.int(0, 23)}`,
];

const CHATTER_M: readonly Chatter[] = [
  (r) =>
    `handle_p2m_execve(): pid:${r.int(17, 60)},argc:${r.int(1, 4)},envc:${r.int(3, 24)},file:${r.pick(PATHS)}`,
  (r) =>
    `handle_p2m_fork(): nid:${r.int(0, 1)},pid:${r.int(17, 60)},tgid:${r.int(17, 60)},parent_tgid:${r.int(1, 16)}`,
  (r) =>
    `Memory: vm: do_brk() pid ${r.int(17, 60)} [0x${hexOf(0x6dc000 + r.int(0, 0xff) * 0x1000)} - 0x${hexOf(0x6dc000 + r.int(0x100, 0x1ff) * 0x1000)}) nr_pages ${r.int(1, 256)} home node ${r.int(1, 2)}`,
  (r) =>
    `Memory: vm: mmap_region() pid ${r.int(17, 60)} [${uvaRange(r)}] prot 0x3 flags 0x22 (anon) pgoff 0x0`,
  (r) =>
    `Memory: lego_mm_fault() CPU${r.int(0, 7)} pid ${r.int(17, 60)} vaddr 0x7fff${r.hex(8)} flags 0x${r.pick(["51", "50", "55"])} resolved in ${r.int(200, 9000)} ns`,
  (r) =>
    `Memory: handle_p2m_pcache_miss() CPU${r.int(0, 7)} nid:0 pid:${r.int(17, 60)} vaddr 0x7fff${r.hex(8)} -> 4096 bytes in ${r.int(900, 20000)} ns`,
  (r) =>
    `storage: __storage_read() file ${r.pick(PATHS)} off ${r.int(0, 1 << 30)} len ${r.pick([4096, 8192, 65536])}`,
  (r) =>
    `fit: fit_internal_poll_recvcq() CPU${r.int(0, 7)} conn ${r.int(0, 11)} wr ${r.int(1, 99999)} len ${r.pick([64, 128, 4096])} imm 0x${r.hex(8)} from node ${r.int(0, 1)}`,
  (r) =>
    `Memory: replica log flush to M${r.int(1, 2)}: ${r.int(1, 512)} entries, ${r.int(1, 4096)} KB in ${r.int(10, 900)} us, last vaddr 0x7fff${r.hex(8)}`,
  (r) =>
    `Memory: handle_p2m_pcache_flush() CPU${r.int(0, 7)} nid:0 pid:${r.int(17, 60)} vaddr 0x7fff${r.hex(8)} written back, ${r.int(900, 20000)} ns`,
  (r) =>
    `Memory: vm: do_munmap() pid ${r.int(17, 60)} [${uvaRange(r)}] freed ${r.int(1, 16384)} pages, nr_vmas now ${r.int(4, 40)}`,
];

const SHORT_CHATTER_M: readonly Chatter[] = [
  (r) => `handle_p2m_mmap(): ${r.int(20, 60)} 7fff${r.hex(8)}`,
  (r) => `mlx4_msi_x_interrupt(): IRQ: ${r.int(24, 40)} CPU: ${r.int(0, 7)}`,
];

// ---------------------------------------------------------------------------------------------
// The benchmark log

/** Options of {@link generateLog}. */
export interface GenOptions {
  /** Exact number of lines to yield. */
  lines: number;
  /** PRNG seed; the same seed gives the same log. Default 1. */
  seed?: number;
  /** Whose console: P-only families, M-only families, or both interleaved. */
  node: "P" | "M" | "mixed";
  /** When given, counts the yielded lines that belong to a monitored family (for a grep sanity check). */
  stats?: { family: number };
}

// Share of lines that belong to a monitored family: about 1 in 10 on a busy debug console.
const FAMILY_SHARE = 0.1;

type Event = readonly [weight: number, run: () => void];

/**
 * Yields `opts.lines` console lines (no newline) of a LegoOS node with increasing stamps: mostly
 * ordinary chatter, about 10% monitored families (thpool V3 blocks and V1 `hb:` lines, IB MADs,
 * strace, RPC timeouts, IB error bursts, profile tables, pcache counters, WARNINGs, a few Oopses).
 */
export function* generateLog(opts: GenOptions): Generator<string> {
  const rng = new Rng(opts.seed ?? 1);
  const node = opts.node;
  const c = new Console(node === "M" ? 4_294_967 : 349_239_220);
  const k = new Kernel(c, rng, {
    release: "4.0.0-lego-ys+",
    build: rng.int(700, 760),
    role: node === "M" ? "MEMORY" : "PROCESSOR",
  });
  const hasP = node !== "M";
  const hasM = node !== "P";
  const chatter = node === "P" ? CHATTER_P : node === "M" ? CHATTER_M : [...CHATTER_P, ...CHATTER_M];
  const shortChatter =
    node === "P"
      ? SHORT_CHATTER_P
      : node === "M"
        ? SHORT_CHATTER_M
        : [...SHORT_CHATTER_P, ...SHORT_CHATTER_M];
  // Per-log choice of the strace generation: one build prints one form, but a mixed log shows both.
  const straceComm = (): string | null =>
    node === "mixed" ? (rng.chance(0.5) ? rng.pick(COMMS) : null) : rng.pick(COMMS);
  const task = (comm: string): TaskInfo => ({
    cpu: rng.int(0, 23),
    pid: rng.int(13, 60),
    comm,
    release: "4.0.0-lego-ys+",
    build: rng.int(700, 760),
  });
  let tick = 0;

  const events: Event[] = [];
  const add = (weight: number, run: () => void): void => {
    events.push([weight, run]);
  };
  if (hasP) {
    add(40, () => {
      const cpu = rng.int(0, 23);
      const pid = rng.int(20, 40);
      const comm = straceComm();
      for (let n = rng.int(1, 6); n > 0; n--) c.print(straceLine(rng, cpu, pid, comm), rng.int(200, 9000));
    });
    add(0.7, () => k.pcacheCounters());
    add(0.5, () => {
      const comm = rng.pick(COMMS);
      c.print(
        `${comm}[${rng.int(20, 40)}]: segfault at 0x${hexOf(0x4e840000 + rng.int(0, 0xffff))} ip 0000000000${rng.hex(6)} sp 00007fff${rng.hex(8)} error ${rng.pick([4, 6])}`,
      );
    });
  }
  if (hasM) {
    add(10, () => {
      k.serve(rng.int(1000, 60000));
      c.print(`Freeram: 0x${hexOf(0x7d0000 + rng.int(0, 0xffff))}`);
      const hist = tick++ % 5 === 0;
      for (let i = 0; i < k.workers.length; i++) k.thpoolBlock(i, hist && i === 0);
    });
    add(12, () => {
      k.serve(rng.int(1000, 60000));
      k.thpoolV1();
    });
  }
  add(node === "P" ? 6 : 3, () => k.madBurst());
  add(hasP ? 1.5 : 0.3, () => {
    const caller = rng.pick([
      "clflush_one+0x1c9/0x370",
      "__pcache_do_fill_page+0x7e/0x130",
      "net_send_reply_timeout+0x10f/0x1e0",
    ]);
    k.rpcTimeout(
      rng.int(0, 23),
      rng.int(17, 40),
      caller,
      rng.chance(0.2) ? "p2m_mmap+0x1a4/0x2f0" : undefined,
    );
  });
  add(1.2, () => k.profileTable());
  add(0.25, () => k.ibBurst(rng.int(0, 11), rng.int(1, 4)));
  add(0.3, () => {
    if (hasP && (!hasM || rng.chance(0.5))) {
      k.warning(
        task(rng.pick(COMMS)),
        "managers/processor/pcache/fault.c:294",
        sym("__pcache_do_fill_page", 0x10c, 0x130),
        P_WARN_FRAMES,
      );
    } else {
      k.warning(
        task(`thpool-worker${rng.int(0, 3)}`),
        "managers/memory/handle_pcache/fault.c:55",
        sym("handle_p2m_pcache_miss", 0x18e, 0x1d0),
        M_WARN_FRAMES,
        `src_nid:0,pid:${rng.int(20, 40)},vaddr:0x${hexOf(0x4e850000 + rng.int(0, 0xffff))}`,
      );
    }
  });
  const totalWeight = events.reduce((a, e) => a + e[0], 0);

  let emitted = 0;
  let family = 0;
  // A few crash reports per million lines, at seeded positions.
  let nextCrash = rng.int(150_000, 400_000);
  while (emitted < opts.lines) {
    let isFamily = true;
    if (emitted >= nextCrash) {
      nextCrash += rng.int(150_000, 400_000);
      const kind = rng.pick(["fit_poll_cq", "fit_poll_cq", "ib_mad", "task_tick_rt"] as const);
      const comm =
        kind === "fit_poll_cq" ? "recvpollcq" : kind === "ib_mad" ? "ib_mad_completi" : "kevict_sweepd";
      c.idle(rng.int(1000, 500000));
      k.oops(kind, { ...task(comm), cpu: kind === "fit_poll_cq" ? 4 : rng.int(0, 23) });
    } else if (family > emitted * FAMILY_SHARE || rng.chance(0.88)) {
      isFamily = false;
      c.print(rng.pick(rng.chance(0.1) ? shortChatter : chatter)(rng), rng.int(100, 12000));
    } else {
      c.idle(rng.int(100, 12000));
      let x = rng.next() * totalWeight;
      for (const [w, run] of events) {
        x -= w;
        if (x < 0) {
          run();
          break;
        }
      }
    }
    for (const line of c.take()) {
      if (emitted >= opts.lines) break;
      emitted++;
      if (isFamily) family++;
      yield line;
    }
  }
  if (opts.stats) opts.stats.family += family;
}

const P_WARN_FRAMES: readonly FrameSpec[] = [
  ["__warn", 0xef, 0x140],
  ["warn_slowpath_null", 0x1f, 0x30],
  ["__pcache_do_fill_page", 0x10c, 0x130],
  ["common_do_fill_page", 0x9e, 0x1b0],
  ["pcache_handle_fault", 0x1bd, 0x6b0],
  ["do_page_fault", 0x9c, 0x3c0],
  ["page_fault", 0x28, 0x30],
];

const M_WARN_FRAMES: readonly FrameSpec[] = [
  ["__warn", 0xef, 0x140],
  ["warn_slowpath_fmt", 0x4f, 0x60],
  ["handle_p2m_pcache_miss", 0x18e, 0x1d0],
  ["thpool_worker_handler", 0x1a2, 0x4b0],
  ["thpool_worker_func", 0x11b, 0x1f0],
  ...KTHREAD_TAIL,
];

/** The WARN call traces {@link generateLog} uses, for callers that print the same sites. */
export const WARN_FRAMES = { P: P_WARN_FRAMES, M: M_WARN_FRAMES } as const;

// One alternative per monitored family shape, the way a hand-written `grep -E` watch would look.
// Stamps are anchored where a shape (counter rows, blank stamps) would otherwise hit chatter.
const FAMILY_PATTERNS = [
  // F3 thpool: V3 header and continuation lines, histogram rows, V1 `hb:` lines, Freeram
  "Watchdog:",
  "worker\\[",
  "nr_queued=",
  "nr_handled=",
  "queuing_ns",
  "\\[ *[0-9]+, +[0-9]+\\) ",
  "Freeram: ",
  // F4 stuck worker
  "stucked",
  "common_header",
  "watchdog:  msg",
  // F5 IB MAD
  "mad_got_one",
  // F18 strace
  "strace__",
  "PID[0-9]+(-.*)? sys_[a-z]",
  // F6 RPC timeout
  "timeout \\(",
  "caller: ",
  // F7/F8 IB errors
  "syndrome",
  "failed status",
  "weird event",
  "send request failed",
  // F19 profile table
  "Kernel Profile Points",
  "status +name +total",
  "^\\[ *[0-9]+\\.[0-9]+] -------  -",
  "^\\[ *[0-9]+\\.[0-9]+] +(on|off)  ",
  "^\\[ *[0-9]+\\.[0-9]+]$",
  // F20 counters
  "^\\[ *[0-9]+\\.[0-9]+] nr_[a-z_]+: [0-9]+$",
  // F9-F13 crash and warning reports
  "BUG: ",
  "WARNING: ",
  "cut here",
  "end trace",
  "Oops: ",
  "general protection",
  "Kernel Panic",
  "end Kernel panic",
  "IP: \\[<",
  "PGD ",
  "Thread overran stack",
  "CPU: [0-9]+ PID: [0-9]+ Comm: ",
  "(RIP|RSP|RAX|RDX|RBP|R10|R13|FS|CS|CR2): ",
  "RIP  \\[<",
  " RSP <",
  "Stack:",
  "^\\[ *[0-9]+\\.[0-9]+] ([0-9a-f]{16} ){3}[0-9a-f]{16}$",
  "Call Trace:",
  "<(TSK|EOT)>",
  "\\[<[0-9a-f]{16}>] ",
  "Code: ",
  "src_nid:",
  // F14 user faults
  "segfault at",
];

/**
 * An extended regex (for `grep -cE`) matching the lines of the families {@link generateLog} emits:
 * the alternation a person would write to watch for them, as the baseline the scanner is timed against.
 */
export function familyPattern(): string {
  return FAMILY_PATTERNS.join("|");
}
