/**
 * A deterministic synthetic console of a busy Linux machine (a storage node, a lab server): the usual
 * driver, filesystem and network chatter, with kernel reports sprinkled in (soft lockups, hung tasks,
 * RCU stalls, KASAN, WARNINGs, general protection faults, NULL dereferences, BUG()s). Every line is
 * rendered from a printk format string of the Linux kernel; the values are made up.
 */
import { Rng, stamp } from "./gen.js";

/** One ordinary line, from a format the kernel prints in normal operation. */
const CHATTER: readonly ((r: Rng) => string)[] = [
  (r) => `EXT4-fs (vda${r.int(1, 3)}): mounted filesystem with ordered data mode. Opts: (null)`,
  (r) =>
    `audit: type=1400 audit(17000${r.int(10000, 99999)}.${r.int(100, 999)}:${r.int(10, 999)}): apparmor="STATUS" operation="profile_load" profile="unconfined" name="/usr/sbin/ntpd" pid=${r.int(100, 9999)} comm="apparmor_parser"`,
  (r) => `IPv6: ADDRCONF(NETDEV_CHANGE): eth${r.int(0, 3)}: link becomes ready`,
  (r) =>
    `e1000e 0000:00:${r.int(10, 31)}.0 eth${r.int(0, 3)}: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx`,
  (r) => `usb 1-${r.int(1, 8)}: new high-speed USB device number ${r.int(2, 30)} using xhci_hcd`,
  (r) => `nfs: server fs${r.int(1, 4)} not responding, still trying`,
  (r) => `nfs: server fs${r.int(1, 4)} OK`,
  (r) =>
    `perf: interrupt took too long (${r.int(2501, 9000)} > 2500), lowering kernel.perf_event_max_sample_rate to ${r.int(20000, 79000)}`,
  (r) => `kauditd_printk_skb: ${r.int(1, 40)} callbacks suppressed`,
  (r) => `device veth${r.int(1000, 9999)}ab entered promiscuous mode`,
  (r) => `docker0: port ${r.int(1, 9)}(veth${r.int(1000, 9999)}ab) entered forwarding state`,
  (r) => `sd ${r.int(0, 3)}:0:0:0: [sd${"abcd"[r.int(0, 3)]}] Attached SCSI disk`,
  (r) =>
    `xfs filesystem being mounted at /srv/data${r.int(1, 9)} supports timestamps until 2038 (0x7fffffff)`,
  (r) => `TCP: request_sock_TCP: Possible SYN flooding on port ${r.int(1, 60000)}. Sending cookies.`,
  (r) =>
    `mlx5_core 0000:${r.int(10, 99)}:00.0: mlx5_cmd_check:756:(pid ${r.int(100, 9999)}): QUERY_VPORT_COUNTER(0x770) op_mod(0x0) failed, status bad parameter(0x3)`,
  (r) => `rbd: rbd${r.int(0, 9)}: capacity ${r.int(1, 999) * 1073741824} features 0x3d`,
  (r) => `systemd-journald[${r.int(100, 999)}]: Received client request to flush runtime journal.`,
  (r) => `loop${r.int(0, 9)}: detected capacity change from 0 to ${r.int(1000, 999999)}`,
];

const FUNCS = [
  "ext4_writepages",
  "jbd2_journal_commit_transaction",
  "xfs_log_force_lsn",
  "nfs_file_write",
  "tcp_sendmsg_locked",
  "mlx5e_napi_poll",
  "blk_mq_run_hw_queue",
  "io_schedule",
  "rbd_queue_workfn",
  "__alloc_pages_slowpath",
];
const COMMS = ["kworker/3:1", "jbd2/vda1-8", "nfsd", "fio", "postgres", "ksoftirqd/2", "rbd", "java"];

function trace(r: Rng, lead: string): string[] {
  const frames = [lead, ...Array.from({ length: r.int(5, 12) }, () => r.pick(FUNCS))];
  return [
    "Call Trace:",
    " <TASK>",
    ...frames.map((f) => ` ${f}+0x${r.int(16, 2000).toString(16)}/0x${r.int(2001, 4000).toString(16)}`),
    ` do_syscall_64+0x${r.int(16, 200).toString(16)}/0x${r.int(201, 400).toString(16)}`,
    " entry_SYSCALL_64_after_hwframe+0x63/0xcd",
    " </TASK>",
  ];
}

function registers(r: Rng, fn: string): string[] {
  const h = () => r.int(0, 0xffffff).toString(16).padStart(16, "0");
  return [
    `RIP: 0010:${fn}+0x${r.int(16, 900).toString(16)}/0x${r.int(901, 2000).toString(16)}`,
    `RSP: 0018:ffffb1${r.int(0x100000, 0xffffff).toString(16)}e8 EFLAGS: 00010246`,
    `RAX: ${h()} RBX: ${h()} RCX: ${h()}`,
    `RDX: ${h()} RSI: ${h()} RDI: ${h()}`,
  ];
}

function header(r: Rng, comm: string, pid: number, cpu: number): string {
  return `CPU: ${cpu} PID: ${pid} Comm: ${comm} Tainted: G        W          6.1.0-${r.int(10, 27)}-amd64 #1 Debian 6.1.${r.int(50, 120)}-1`;
}

/** What an Oops-like report prints after its header lines: the task, the registers, the call trace. */
function dump(r: Rng, fn: string): string[] {
  return [header(r, r.pick(COMMS), r.int(100, 9999), r.int(0, 7)), ...registers(r, fn), ...trace(r, fn)];
}

/** A kernel report: its lines, the first one being the header grep counts. */
const REPORTS: readonly ((r: Rng) => string[])[] = [
  (r) => {
    const fn = r.pick(FUNCS);
    const comm = r.pick(COMMS);
    const pid = r.int(100, 9999);
    const cpu = r.int(0, 7);
    return [
      `watchdog: BUG: soft lockup - CPU#${cpu} stuck for ${r.int(22, 90)}s! [${comm}:${pid}]`,
      "Modules linked in: xfs nfsd auth_rpcgss nfs_acl lockd grace sunrpc mlx5_core",
      header(r, comm, pid, cpu),
      ...registers(r, fn),
      ...trace(r, fn),
    ];
  },
  (r) => {
    const comm = r.pick(COMMS);
    const pid = r.int(100, 9999);
    return [
      `INFO: task ${comm}:${pid} blocked for more than ${r.pick([120, 241, 362])} seconds.`,
      `      Not tainted 6.1.0-${r.int(10, 27)}-amd64 #1 Debian 6.1.${r.int(50, 120)}-1`,
      '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.',
      `task:${comm.padEnd(15)} state:D stack:0     pid:${pid}  ppid:2      flags:0x00004000`,
      ...trace(r, "__schedule").slice(0, 2),
      " __schedule+0x351/0xa20",
      " schedule+0x5d/0xe0",
      ...trace(r, r.pick(FUNCS)).slice(2),
    ];
  },
  (r) => {
    const cpu = r.int(0, 7);
    const fn = r.pick(FUNCS);
    return [
      "rcu: INFO: rcu_preempt self-detected stall on CPU",
      `rcu: \t${cpu}-....: (${r.int(2100, 21000)} ticks this GP) idle=${r.int(100, 999)}c/1/0x4000000000000000 softirq=${r.int(1000, 99999)}/${r.int(1000, 99999)} fqs=${r.int(1000, 9999)}`,
      `\t(t=${r.int(21000, 99000)} jiffies g=${r.int(10000, 999999)} q=${r.int(100, 9999)} ncpus=8)`,
      header(r, r.pick(COMMS), r.int(100, 9999), cpu),
      ...registers(r, fn),
      ...trace(r, fn),
    ];
  },
  (r) => {
    const fn = r.pick(FUNCS);
    return [
      "==================================================================",
      `BUG: KASAN: use-after-free in ${fn}+0x${r.int(16, 900).toString(16)}/0x${r.int(901, 2000).toString(16)}`,
      `Read of size 8 at addr ffff8880${r.int(0x1000000, 0xfffffff).toString(16)} by task ${r.pick(COMMS)}/${r.int(100, 9999)}`,
      "",
      header(r, r.pick(COMMS), r.int(100, 9999), r.int(0, 7)),
      ...trace(r, "dump_stack_lvl").slice(0, 2),
      " dump_stack_lvl+0x48/0x60",
      " print_report+0xc2/0x600",
      " kasan_report+0xb6/0xf0",
      ...trace(r, fn).slice(2),
      "==================================================================",
    ];
  },
  (r) => {
    const fn = r.pick(FUNCS);
    const pid = r.int(100, 9999);
    const cpu = r.int(0, 7);
    return [
      "------------[ cut here ]------------",
      `WARNING: CPU: ${cpu} PID: ${pid} at fs/ext4/inode.c:${r.int(100, 6000)} ${fn}+0x${r.int(16, 900).toString(16)}/0x${r.int(901, 2000).toString(16)}`,
      "Modules linked in: xfs nfsd auth_rpcgss nfs_acl lockd grace sunrpc mlx5_core",
      header(r, r.pick(COMMS), pid, cpu),
      ...registers(r, fn),
      ...trace(r, fn),
      `---[ end trace ${r.int(0x10000000, 0x7fffffff).toString(16).padStart(16, "0")} ]---`,
    ];
  },
  (r) => [
    `general protection fault, probably for non-canonical address 0xdffffc00000000${r.int(10, 99)}: 0000 [#1] PREEMPT SMP KASAN NOPTI`,
    ...dump(r, r.pick(FUNCS)),
  ],
  (r) => [
    `BUG: kernel NULL pointer dereference, address: 00000000000000${r.int(10, 99)}`,
    "#PF: supervisor read access in kernel mode",
    "#PF: error_code(0x0000) - not-present page",
    "Oops: 0000 [#1] PREEMPT SMP NOPTI",
    ...dump(r, r.pick(FUNCS)),
  ],
  (r) => [
    `kernel BUG at mm/slub.c:${r.int(100, 5000)}!`,
    "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI",
    ...dump(r, r.pick(FUNCS)),
  ],
];

/** One report every this many lines, on average. */
const REPORT_EVERY = 2000;

export interface LinuxGenStats {
  /** Report headers emitted: what {@link linuxReportPattern} counts. */
  reports: number;
}

/** `lines` console lines of a Linux machine, each with its printk stamp. */
export function* generateLinuxLog(lines: number, seed: number, stats: LinuxGenStats): Generator<string> {
  const r = new Rng(seed);
  let us = 5_000_000;
  let n = 0;
  while (n < lines) {
    us += r.int(50, 40_000);
    if (r.int(1, REPORT_EVERY) === 1 && lines - n > 60) {
      const report = r.pick(REPORTS)(r);
      stats.reports++;
      for (const l of report) {
        yield `${stamp(us)} ${l}`;
        us += r.int(5, 60);
        n++;
      }
      continue;
    }
    yield `${stamp(us)} ${r.pick(CHATTER)(r)}`;
    n++;
  }
}

/** grep -E for the first line of every report the generator writes (and no chatter line). */
export function linuxReportPattern(): string {
  return [
    "BUG: soft lockup",
    "INFO: task .* blocked for more than",
    "rcu: INFO: .* stall",
    "BUG: KASAN: ",
    "WARNING: CPU: ",
    "general protection fault",
    "BUG: kernel NULL pointer dereference",
    "kernel BUG at ",
  ].join("|");
}
