/**
 * Writes demo/P.log and demo/M.log: two synthetic consoles (processor P, memory M) of one LegoOS
 * cluster telling the classic story. Both boot; P runs word_count while M's watchdog ticks every 5 s;
 * M's worker 2 hangs in a pcache-miss handler, M reports it stuck on every tick, P's RPC times out 30 s
 * after the request, P warns and the app segfaults; later the P-M link fails and P's FIT poller Oopses.
 *
 * Deterministic: `node --import tsx scripts/make-demo.ts` always writes the same bytes. Every line is
 * rendered from a LegoOS format string; the values are invented.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Console, hexOf, Kernel, Rng, straceLine, sym, type TaskInfo, WARN_FRAMES } from "../bench/gen.js";

const RELEASE = "4.0.0-lego+";
const BUILD = 93;
const banner = (host: string) =>
  `LegoOS version ${RELEASE} (root@${host}) (gcc version 4.8.5 20150623 (Red Hat 4.8.5-11) (GCC) ) #${BUILD} SMP Wed Oct 24 20:57:09 EDT 2018`;

// One wall clock drives both consoles so cause and effect line up; each kernel clock is that wall time
// plus its own offset (the TSC uptime it jumped to at calibration), so P and M stamps are unrelated.
const P_ZERO_US = 349_176_214;
/** M was powered on 3 s before P; its first calibrated stamp is the VM-style 4.294967. */
const M_POWER_ON = -3;
const M_ZERO_US = 4_294_967 - M_POWER_ON * 1_000_000;

/** A console whose clock can be moved forward to a point of the shared wall clock (seconds). */
class Node {
  readonly c: Console;
  readonly k: Kernel;

  constructor(
    private readonly zeroUs: number,
    readonly rng: Rng,
    role: "PROCESSOR" | "MEMORY",
  ) {
    this.c = new Console(zeroUs - 10_000_000);
    this.k = new Kernel(this.c, rng, { release: RELEASE, build: BUILD, role });
  }

  /** The wall time the console's clock has reached. */
  now(): number {
    return (this.c.us - this.zeroUs) / 1e6;
  }

  /** Lets the kernel clock run until wall time `w`; a console already past it just continues. */
  at(w: number): this {
    const target = this.zeroUs + Math.round(w * 1e6);
    if (target > this.c.us) this.c.idle(target - this.c.us);
    return this;
  }

  print(...msgs: string[]): this {
    for (const m of msgs) this.c.print(m);
    return this;
  }
}

function task(cpu: number, pid: number, comm: string): TaskInfo {
  return { cpu, pid, comm, release: RELEASE, build: BUILD };
}

/** The common early boot, up to the FIT configuration table; `t0` is the wall time of power-on. */
function bootStart(n: Node, t0: number, host: string, cmdline: string): void {
  n.at(t0).print(
    banner(host),
    `Command line: ${cmdline}`,
    "TSC: Detected 2400.055 MHz processor",
    "Calibrating delay loop (skipped), value calculated using timer frequency.. ",
    "4800.11 BogoMIPS (lpj=24000550)",
    "Scheduler is up and running",
    "x86: Booting SMP configuration:",
    ".... node  #0, CPUs:      #1 #2 #3 #4 #5 #6 #7",
    "x86: Booted up 1 node, 8 CPUs",
    "kthreadd(pid:2/cpu:0) is running as daemon",
    "PCI: Probing PCI hardware",
  );
  n.at(t0 + 0.9).print(
    "mlx4_core: Initializing 0000:00:08.0",
    "mlx4_core: FW version 2.35.5100 (cmd intf rev 3), max commands 16",
  );
  n.at(t0 + 6.2).print(
    "mlx4_core: NOP command IRQ test passed",
    "<mlx4_ib> mlx4_ib_add: mlx4_ib: Mellanox ConnectX InfiniBand driver v1.0 (April 4, 2008)",
    "ib_mad: ib_mad_port_open(): ib_device 0000:00:08.0 port 1",
  );
}

/** The FIT node table (HEAD form, `fit: ` prefixed), with `<---` on this node's row. */
function fitTable(n: Node, t0: number, self: number): void {
  n.at(t0 + 8.1).print(
    "fit: ***",
    "fit: ***  FIT_initial_timeout_s:   10",
    `fit: ***  FIT_LOCAL_ID:            ${self}`,
    "fit: ***  FIT_FIRST_QPN:           80",
    "fit: ***  FIT_NR_QPS_PER_PAIR:     12",
    "fit: ***  FIT_MAX_SEND_WR:         1",
    "fit: ***",
    "fit: ***    NodeID    Hostname    LID    QPN",
    "fit: ***    -------------------------------------",
    `fit: ***         0    wuklab14     29     80${self === 0 ? " <---" : ""}`,
    `fit: ***         1    wuklab16     17     80${self === 1 ? " <---" : ""}`,
    "fit: ***",
    "fit: Please wait for enough IB MAD (number: 7) ...",
  );
}

/** Link up, QP to the peer, the fixed 10 s wait, join and FIT ready: cluster events, at fixed wall times. */
function fitJoin(n: Node, lid: number, peer: number, peerLid: number): void {
  n.at(18.4).print(
    `mlx4_msi_x_interrupt(): IRQ: 27 CPU: 1`,
    "event PORT_MNG_CHG arrived",
    "event PORT_CHANGE_UP arrived",
    "fit: fit_establish_conn() CPU1 port: 1 LID: 0 state: 2",
    `fit: Query returned LID: ${lid}`,
    `fit: ***  Successfully built QP for node ${String(peer).padStart(2)} [LID: ${peerLid} QPN: 80]`,
  );
  n.at(28.4).print("fit: Please wait other nodes to join ...");
  n.at(30.2).print(
    `fit:  ... Node [${String(peer).padStart(2)}] Joined. addr 00000007df800000 rkey 69120 nr_joined_nodes 1`,
    "fit: FIT layer ready to go!",
  );
}

// ---------------------------------------------------------------------------------------------
// The story's fixed points, in wall seconds

const APP_START = 34;
/** PID 27 on P CPU 3 sends the pcache miss that hangs M's worker 2. */
const STUCK_AT = 44.2;
/** FIT's 30 s default RPC timeout, plus one 10 ms jiffy (`30010 ms`). */
const TIMEOUT_AT = STUCK_AT + 30.01;
const LINK_DOWN_AT = 80.3;
const M_TICKS_FROM = 33;
const M_END = 90;
const M_MAD_AT = 60.7;
const FAULT_VADDR = "0x7fff7b7fdfb8";
const APP = "word_count-pthr";

function makeP(): string[] {
  const n = new Node(P_ZERO_US, new Rng(0x1e60), "PROCESSOR");
  const { c, k, rng } = n;
  bootStart(n, 0, "wuklab14", "earlyprintk=serial,ttyS0,115200 console=ttyS0,115200 memmap=4G$4G");
  fitTable(n, 0, 0);
  fitJoin(n, 29, 1, 17);
  n.at(31.1).print(
    "init_pcache_clflush_buffer(): clflush array at ffff8808183b0000, nr_entries: 8",
    "Processor LLC Configurations:",
    "    PhysStart:         0x100000000",
    "    VirtStart:         0xffff880100000000",
    "    Registered Size:   0x100000000",
    "    Actual Used Size:  0x84000000",
    "    NR cachelines:     524288",
    "    Associativity:     64",
    "    NR Sets:           8192",
    "    Cacheline size:    4096 B",
    "    Metadata size:     128 B",
    "    NR cacheline bits: 12 [ 0 - 11] 0x0000000000000fff",
    "    NR set-index bits: 13 [12 - 24] 0x0000000001fff000",
    "    NR tag bits:       39 [25 - 63] 0xfffffffffe000000",
    "    NR pages for data: 524288",
    "    NR pages for meta: 16384",
    "    Way cache stride:  0x2000000",
    "  [0] Thread[recvpollcq:17] pinned at CPU 4",
    "  [1] Thread[kvictim_flushd:19] pinned at CPU 6",
    "  [2] Thread[ib_mad1:11] pinned at CPU 0",
    "Online CPU: 0-7",
    "Active CPU: 1-3,5,7",
    "Manager is up and running.",
  );

  // The app: exe.o (pid 20) forks 21, which execs word_count and clones eight workers (22-29) over the
  // active CPUs; pid 27 runs on CPU 3.
  const threadCpu: [number, number][] = [
    [22, 1],
    [23, 2],
    [24, 5],
    [25, 7],
    [26, 2],
    [27, 3],
    [28, 5],
    [29, 7],
  ];
  const threads = threadCpu.map(([pid, cpu]) => ({ pid, cpu }));
  n.at(APP_START - 0.6).print(
    "p2m_fork(cpu1): I cur:20-exe.o new:21",
    "p2m_fork(cpu1): O succeed cur:20-exe.o new:21",
  );
  n.at(APP_START).print(
    "CPU1 PID21-exe.o sys_execve",
    `CPU1 PID21-${APP} sys_execve = 0, 0x0`,
    "stat: /root/ys/phoenix/phoenix-2.0/tests/word_count/word_count_datafiles/word_1GB.txt",
    "SYSC_close() CPU1 PID:21 [fd: 4] -> [/sys/devices/system/cpu/online]",
  );
  c.print(straceLine(rng, 1, 21, APP, true));
  for (const t of threads)
    c.print(`CPU1 PID21-${APP} sys_clone = ${t.pid}, 0x${hexOf(t.pid)}`, rng.int(2000, 9000));

  // Worker threads map and trim their malloc arenas while the app runs; the P watchdog prints cache
  // utilisation every 10 s; the subnet manager sends a MAD burst now and then.
  let util = 0;
  const tick = () => {
    util = Math.min(99, util + rng.int(6, 14));
    n.print(`Processor: Cache Utilization ${util}.${rng.int(10000, 99999)}%`);
  };
  const events: [number, () => void][] = [];
  // P's watchdog period is 10 s plus its (short) printing time.
  for (let w = APP_START + 2; w < TIMEOUT_AT; w += 10.0031) events.push([w, tick]);
  for (let w = APP_START + 1.3; w < TIMEOUT_AT; w += rng.int(300, 900) / 1000) {
    // From STUCK_AT on, pid 27 sits in a page fault waiting for M and makes no more syscalls.
    const t = rng.pick(w < STUCK_AT ? threads : threads.filter((x) => x.pid !== 27));
    events.push([w, () => n.print(straceLine(rng, t.cpu, t.pid, APP, true))]);
  }
  events.push([49.2, () => k.madBurst()]);
  events.push([71.8, () => k.madBurst()]);
  for (const [w, run] of events.sort((a, b) => a[0] - b[0])) {
    n.at(w);
    run();
  }

  // M never answers pid 27's miss: the RPC times out, the first failed fill warns once, the app dies,
  // and (April behaviour) the exiting process group prints the profile and pcache counter tables.
  n.at(TIMEOUT_AT).print(
    "ibapi_send_reply() CPU:3 PID:27 timeout (30010 ms), caller: __pcache_do_fill_page+0x7e/0x130",
  );
  k.warning(
    task(3, 27, APP),
    "managers/processor/pcache/fault.c:294",
    sym("__pcache_do_fill_page", 0x10c, 0x130),
    WARN_FRAMES.P,
  );
  n.at(TIMEOUT_AT + 0.12).print(
    `${APP}[27]: segfault at ${FAULT_VADDR} ip 0000000000420354 sp 00007fff7b7fdf40 error 4`,
  );
  n.at(TIMEOUT_AT + 0.3);
  k.profileTable();
  k.pcacheCounters();
  n.at(APP_START + 2 + 4 * 10.0031);
  tick();

  // The P-M link dies (retry exceeded, then flushes), and the recv-CQ poller dereferences a NULL
  // reply indicator: the classic fit_poll_cq Oops of April 2018.
  n.at(LINK_DOWN_AT);
  k.ibBurst(7, 3);
  n.at(LINK_DOWN_AT + 1.9);
  k.oops("fit_poll_cq", task(4, 17, "recvpollcq"));
  return c.take();
}

function makeM(): string[] {
  const n = new Node(M_ZERO_US, new Rng(0x3e61), "MEMORY");
  const { c, k, rng } = n;
  bootStart(n, M_POWER_ON, "wuklab16", "earlyprintk=serial,ttyS0,115200 console=ttyS0,115200 memmap=16G$4G");
  fitTable(n, M_POWER_ON, 1);
  fitJoin(n, 17, 0, 29);
  n.at(30.4).print(
    "thpool: CPU 3 thpool-worker0 worker_id: 0 UP",
    "thpool: CPU 4 thpool-worker1 worker_id: 1 UP",
    "thpool: CPU 5 thpool-worker2 worker_id: 2 UP",
    "thpool: CPU 6 thpool-worker3 worker_id: 3 UP",
    "  [0] Thread[thpool-worker0:16] pinned at CPU 3",
    "  [1] Thread[thpool-worker1:17] pinned at CPU 4",
    "  [2] Thread[thpool-worker2:18] pinned at CPU 5",
    "  [3] Thread[thpool-worker3:19] pinned at CPU 6",
    "  [4] Thread[FIT_RecvCQ-0:13] pinned at CPU 2",
    "Online CPU: 0-7",
    "Active CPU: 0-1,7",
    "Manager is up and running.",
  );

  const stuck = k.workers[2]!;
  // current_nr_queued of the stuck worker, tick by tick: round-robin keeps handing it requests until
  // P's app dies, then the queue stays where it is.
  const piling = [1, 2, 4, 6, 8, 9];
  let freeram = 0x3fe8a0;
  let stuckTicks = 0;
  let histogramShown = false;
  // The watchdog thread prints, then sleeps 5 s: the period is 5 s plus the time the printing took.
  for (let w = M_TICKS_FROM; w < M_END; ) {
    n.at(w);
    const appRunning = w > APP_START && w < TIMEOUT_AT;
    if (w > STUCK_AT) stuck.inHandler = true;
    if (appRunning) {
      k.serve(rng.int(20000, 60000));
      freeram -= rng.int(0x800, 0x4000);
    }
    if (stuck.inHandler) {
      const queued = piling[Math.min(stuckTicks++, piling.length - 1)]!;
      // Requests queued behind the stuck one (and that one itself) were received all the same.
      k.thpoolReqs += queued - stuck.queued + (stuckTicks === 1 ? 1 : 0);
      stuck.queued = queued;
      stuck.maxQueued = Math.max(stuck.maxQueued, stuck.queued);
    }
    c.print(`Freeram: 0x${hexOf(freeram)}`);
    // The V3 histogram prints all 40 rows whenever a worker has any sample (a row-filter bug), which
    // would bury the story; the demo shows it once, on the first busy tick, the way it looks.
    const histogram = !histogramShown && k.workers[0]!.handled > 0;
    if (histogram) histogramShown = true;
    for (let i = 0; i < k.workers.length; i++) k.thpoolBlock(i, histogram && i === 0);
    if (stuck.inHandler && w - STUCK_AT >= 20) {
      k.stuckReport(2, task(5, 18, "thpool-worker2"), 0x20000000, 0, {
        pid: 27,
        tgid: 21,
        vaddr: FAULT_VADDR,
      });
    }
    const next = n.now() + 5;
    if (w < M_MAD_AT && next > M_MAD_AT) n.at(M_MAD_AT).k.madBurst();
    if (w < LINK_DOWN_AT + 0.4 && next > LINK_DOWN_AT + 0.4) {
      // The same link failure as on P, seen from M: its connection to node 0 fails too.
      n.at(LINK_DOWN_AT + 0.4).k.ibBurst(1, 1);
    }
    w = next;
  }
  return c.take();
}

function write(name: string, lines: string[]): void {
  const url = new URL(`../demo/${name}`, import.meta.url);
  writeFileSync(url, `${lines.join("\n")}\n`);
  console.log(`${fileURLToPath(url).split("/").slice(-2).join("/")}: ${lines.length} lines`);
}

mkdirSync(new URL("../demo/", import.meta.url), { recursive: true });
write("P.log", makeP());
write("M.log", makeM());
