import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CrashAssembler } from "../../src/parse/crash-assembler.js";
import type { CrashEvent, ParsedEvent } from "../../src/parse/events.js";
import { lines } from "../helpers.js";

function crashes(text: string): CrashEvent[] {
  const out: ParsedEvent[] = [];
  const a = new CrashAssembler((e) => out.push(e));
  for (const l of lines(text)) a.offer(l);
  a.close(true);
  return out.filter((e): e is CrashEvent => e.type === "crash" || e.type === "warning");
}

const seed = (name: string) => readFileSync(new URL(`../fixtures/seed/${name}`, import.meta.url), "utf8");

describe("crash reports from the seed", () => {
  it("titles the fit_poll_cq Oops after an IB failure and keeps its fields (b21)", () => {
    const [c, ...rest] = crashes(seed("b21.log"));
    assert.equal(rest.length, 0);
    assert.equal(c!.title, "BUG: unable to handle kernel NULL pointer dereference in fit_poll_cq");
    assert.equal(c!.function, "fit_poll_cq");
    assert.equal(c!.address, "(null)");
    assert.equal(c!.cpu, 4);
    assert.equal(c!.pid, 17);
    assert.equal(c!.comm, "recvpollcq");
    assert.equal(c!.kernel, "4.0.0-lego-ys+ #744");
    assert.equal(c!.die, 1);
    assert.equal(c!.registers.RAX, "0000000000001008");
    assert.equal(c!.registers.RSP, "0000:ffff88103e813d88");
    assert.equal(c!.frames.length, 8);
    assert.deepEqual(
      c!.frames.slice(3, 5).map((f) => [f.fn, f.reliable]),
      [
        ["fit_poll_cq", false],
        ["fit_poll_cq_pass", true],
      ],
    );
    // No end marker: the kernel died before the panic line reached the console.
    assert.equal(c!.truncated, true);
    assert.equal(c!.line, 41);
    assert.equal(c!.ts, 848.828313);
  });

  it("joins a general protection fault to the Oops head before it (b19)", () => {
    const cs = crashes(seed("b19.log"));
    assert.deepEqual(
      cs.map((c) => c.title),
      ["BUG: unable to handle kernel NULL pointer dereference in __schedule"],
    );
    assert.equal(cs[0]!.comm, "recvpollcq");
  });

  it("titles paging requests and cut-off heads (b05, b20, b04, b14, b18, b22p)", () => {
    assert.equal(
      crashes(seed("b05.log"))[0]!.title,
      "BUG: unable to handle kernel paging request in task_tick_rt",
    );
    assert.equal(crashes(seed("b05.log"))[0]!.address, "00000002f4bfbf58");
    assert.equal(
      crashes(seed("b20.log"))[0]!.title,
      "BUG: unable to handle kernel NULL pointer dereference in task_curr",
    );
    for (const f of ["b04.log", "b14.log", "b18.log"]) {
      const cs = crashes(seed(f));
      assert.equal(cs.length, 1, f);
      assert.equal(
        cs[0]!.title,
        "BUG: unable to handle kernel NULL pointer dereference in ib_mad_completion_handler",
      );
    }
    assert.equal(
      crashes(seed("b22p.log"))[0]!.title,
      "BUG: unable to handle kernel NULL pointer dereference in fit_poll_cq",
    );
  });

  it("titles the April WARN with its message line (b02m)", () => {
    const [w] = crashes(seed("b02m.log"));
    assert.equal(w!.type, "warning");
    assert.equal(w!.title, "WARNING in handle_p2m_pcache_miss");
    assert.equal(w!.where, "managers/memory/handle_pcache/fault.c:55");
    assert.equal(w!.cpu, 4);
    assert.equal(w!.pid, 31);
    assert.equal(w!.comm, "thpool-worker0");
    assert.ok(w!.report.some((l) => l.includes("src_nid:0,pid:21,vaddr:0x4e853010")));
  });
});

describe("crash formats from the format strings", () => {
  it("a hung task is the task its header names (`INFO: task %s:%d blocked for more than %ld seconds.`)", () => {
    const [c] = crashes(
      [
        "[  900.000000] INFO: task java:5512 blocked for more than 120 seconds.",
        "[  900.000001]       Not tainted 2.6.32-431.el6.x86_64 #1",
        '[  900.000002] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.',
        "[  900.000003] java          D 0000000000000003     0  5512      1 0x00000080",
        "[  900.000004] Call Trace:",
        "[  900.000005]  [<ffffffff8152a6d5>] schedule_timeout+0x215/0x2e0",
        "[  900.000006]  [<ffffffffa05c7a1e>] nfs_wait_bit_killable+0x1e/0x40 [nfs]",
        "[  900.000007]  [<ffffffffa05d7d6c>] nfs_file_flush+0x5c/0x90 [nfs]",
        "[  900.000008]  [<ffffffff8118e89c>] filp_close+0x3c/0x90",
      ].join("\n"),
    );
    assert.equal(c!.title, "INFO: task hung in nfs_file_flush");
    assert.equal(c!.comm, "java");
    assert.equal(c!.pid, 5512);
    assert.deepEqual(
      c!.frames.map((f) => f.fn),
      ["schedule_timeout", "nfs_wait_bit_killable", "nfs_file_flush", "filp_close"],
      "frames of modules count",
    );
  });

  it("kernels before 3.10: the task from `Pid: %d, comm: %.20s` and `CPU %d`, a stall named where it was caught", () => {
    const [c, ...rest] = crashes(
      [
        "[ 4170.002114] BUG: soft lockup - CPU#3 stuck for 67s! [migration/3:17]",
        "[ 4170.002130] CPU 3 ",
        "[ 4170.002141] Pid: 17, comm: migration/3 Tainted: G        W  2.6.32-431.el6.x86_64 #1 Dell Inc.",
        "[ 4170.002150] RIP: 0010:[<ffffffff810b9a6e>]  [<ffffffff810b9a6e>] stop_machine_cpu_stop+0x7e/0xe0",
        "[ 4170.002200] Call Trace:",
        // The console lost the rest: no anchor frame to name the stall after.
        "[ 4170.002230]  [<ffffffff810b9890>] cpu_stopper_thread+0xa0/0x1d0",
      ].join("\n"),
    );
    assert.equal(rest.length, 0);
    assert.equal(c!.title, "BUG: soft lockup in stop_machine_cpu_stop");
    assert.equal(c!.cpu, 3);
    assert.equal(c!.pid, 17);
    assert.equal(c!.comm, "migration/3");
    assert.equal(c!.kernel, "2.6.32-431.el6.x86_64 #1");
    assert.equal(c!.report.length, 6, "the task lines belong to the report");
  });

  it("BUG: failure at %s:%d/%s()! continues into the panic (F12, F13)", () => {
    const [c, ...rest] = crashes(
      [
        "[  330.310909] ------------[ cut here ]------------",
        "[  330.315864] BUG: failure at managers/processor/pcache/evict.c:120/pcache_evict_line()!",
        "[  330.324302] Kernel Panic - not syncing: BUG!",
        "[  330.329050] CPU: 0 PID: 36 Comm: python 4.0.0-lego+ #93",
        "[  330.335000] Stack:",
        "[  330.335100] ffffffff81003299 000001b03e813da0 0000000000000004 0000000000000730",
        "[  330.340000] Call Trace:",
        "[  330.340100] <TSK>",
        "[  330.340200] [<ffffffff81003299>] panic+0xc2/0x105",
        "[  330.340300] [<ffffffff81003399>] pcache_evict_line+0x12/0x80",
        "[  330.340400] <EOT>",
        "[  330.490501] ---[ end Kernel panic - not syncing: BUG!",
        "[  330.500000] nr_pgfault: 5",
      ].join("\n"),
    );
    assert.equal(rest.length, 0);
    assert.equal(c!.title, "kernel BUG in pcache_evict_line");
    assert.equal(c!.where, "managers/processor/pcache/evict.c:120");
    assert.equal(c!.panic, "BUG!");
    assert.equal(c!.truncated, false);
    assert.equal(c!.report.length, 12);
  });

  it("a WARNING without a file (%pS only) ends at its end trace (F11)", () => {
    const [w] = crashes(
      [
        "[ 1234.000000] ------------[ cut here ]------------",
        "[ 1234.000100] WARNING: CPU: 3 PID: 18 at fit_internal_poll_sendcq+0x6e/0x130",
        "[ 1234.000200] CPU: 3 PID: 18 Comm: recvpollcq 4.0.0-lego+ #452",
        "[ 1234.000300] <EOT>",
        "[ 1234.002135] ---[ end trace 0000000000000002 ]---",
      ].join("\n"),
    );
    assert.equal(w!.title, "WARNING in fit_internal_poll_sendcq");
    assert.equal(w!.truncated, false);
  });

  it("a panic of its own is titled by its reason (F13, Linux)", () => {
    const [c] = crashes(
      [
        "[    2.046000] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
        "[    2.047000] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0-28-cloud-amd64 #1  Debian 6.1.119-1",
        "[    2.048000] Call Trace:",
        "[    2.048100]  <TASK>",
        "[    2.048200]  dump_stack_lvl+0x44/0x5c",
        "[    2.048300]  panic+0x118/0x2ed",
        "[    2.048400]  mount_block_root+0x1d3/0x1e6",
        "[    2.048500]  </TASK>",
        "[    2.049000] ---[ end Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0) ]---",
      ].join("\n"),
    );
    // syzkaller files Linux titles with their numbers made constant; LegoOS titles keep theirs.
    assert.equal(c!.title, "kernel panic: VFS: Unable to mount root fs on unknown-block(NUM,NUM)");
    assert.equal(c!.panic, "VFS: Unable to mount root fs on unknown-block(0,0)");
    assert.equal(c!.function, "mount_block_root");
    assert.equal(c!.comm, "swapper/0");
    assert.equal(c!.truncated, false);
  });

  it("a lone die line makes its own report (F10)", () => {
    const [c] = crashes(
      [
        "[ 1234.000000] divide error: 0000 [#1] SMP MEMORY",
        "[ 1234.000100] CPU: 2 PID: 9 Comm: watchdog 4.0.0-lego+ #51",
        "[ 1234.000200] RIP: 0010:[<ffffffff81071c3e>]  [<ffffffff81071c3e>] watchdog_print+0x6e/0x130",
      ].join("\n"),
    );
    assert.equal(c!.title, "divide error in watchdog_print");
  });

  it("every die() trap is titled by its name and function (F10 traps.c)", () => {
    const traps = [
      "general protection fault",
      "divide error",
      "invalid opcode",
      "int3",
      "overflow",
      "bounds",
      "invalid TSS",
      "segment not present",
      "stack segment",
      "alignment check",
      "coprocessor segment overrun",
      "fpu exception",
      "simd exception",
      "Bad pagetable",
    ];
    for (const trap of traps) {
      const [c, ...rest] = crashes(
        [
          `[ 1234.000000] ${trap}: 0000 [#1] SMP PROCESSOR`,
          "[ 1234.000100] CPU: 2 PID: 9 Comm: kevict_sweepd 4.0.0-lego+ #51",
          "[ 1234.000200] RIP: 0010:[<ffffffff81071c3e>]  [<ffffffff81071c3e>] victim_flush_func+0x6e/0x130",
        ].join("\n"),
      );
      assert.equal(rest.length, 0, trap);
      assert.equal(c!.title, `${trap} in victim_flush_func`);
      assert.equal(c!.die, 1);
    }
  });

  it("non-returning exceptions: PANIC: double fault and friends (F10)", () => {
    const [c] = crashes(
      [
        "[ 1234.000000] PANIC: double fault, error_code: 0x0",
        "[ 1234.000100] CPU: 2 PID: 9 Comm: python 4.0.0-lego+ #51",
        "[ 1234.000200] RIP: 0010:[<ffffffff81071c3e>]  [<ffffffff81071c3e>] __schedule+0x6e/0x130",
        "[ 1234.000300] Kernel Panic - not syncing: Machine halted.",
      ].join("\n"),
    );
    assert.equal(c!.title, "double fault in __schedule");
    assert.equal(c!.panic, "Machine halted.");
    const [m] = crashes("[ 1234.000000] PANIC: machine check, error_code: 0x0");
    assert.equal(m!.title, "PANIC: machine check");
  });

  it("Linux's newer Oops wording keeps syzkaller's titles", () => {
    const [c] = crashes(
      [
        "[   10.000000] BUG: kernel NULL pointer dereference, address: 0000000000000000",
        "[   10.000100] #PF: supervisor read access in kernel mode",
        "[   10.000200] Oops: 0000 [#1] PREEMPT SMP NOPTI",
        "[   10.000300] CPU: 0 PID: 1 Comm: init Not tainted 6.1.0 #1",
        "[   10.000400] RIP: 0010:sysrq_handle_crash+0x16/0x20",
        "[   10.000500] Call Trace:",
        "[   10.000600]  <TASK>",
        "[   10.000700]  __handle_sysrq.cold+0x43/0x11b",
      ].join("\n"),
    );
    assert.equal(c!.title, "BUG: unable to handle kernel NULL pointer dereference in sysrq_handle_crash");
  });

  it("the spinlock detector's report names the waiting function (F15)", () => {
    const [c] = crashes(
      [
        "[ 1234.000000] ------------------- cut here -------------------",
        "[ 1234.006110] Possible deadlock happend locker_cpu: 7",
        "[ 1234.011540] Current call stack:",
        "[ 1234.015030] CPU: 3 PID: 18 Comm: recvpollcq 4.0.0-lego+ #452",
        "[ 1234.016000] [<ffffffff81003299>] _raw_spin_lock+0x39/0x50",
        "[ 1234.017000] [<ffffffff81003399>] handle_lego_mm_fault+0x12/0x80",
      ].join("\n"),
    );
    assert.equal(c!.title, "possible deadlock in handle_lego_mm_fault");
  });

  it("tolerates foreign lines from other CPUs inside a report", () => {
    const [c] = crashes(
      [
        "[  456.263274] BUG: unable to handle kernel paging request at 00000002f4bfbf58",
        "[  456.265000] event qp_event arrived",
        "[  456.270843] IP: [<ffffffff8101bbff>] task_tick_rt+0x1f/0xd0",
        "[  456.284804] Oops: 0000 [#1] SMP PROCESSOR",
      ].join("\n"),
    );
    assert.equal(c!.title, "BUG: unable to handle kernel paging request in task_tick_rt");
    assert.ok(!c!.report.some((l) => l.includes("qp_event")));
  });

  it("a second report mid-way cuts the first", () => {
    const cs = crashes(
      [
        "[  100.000000] BUG: unable to handle kernel NULL pointer dereference at 0000000000000020",
        "[  100.000100] IP: [<ffffffff81058287>] ib_mad_completion_handler+0xc7/0x810",
        "[  100.000200] Oops: 0000 [#1] SMP PROCESSOR",
        "[  100.000300] BUG: unable to handle kernel paging request at 0000000000001000",
        "[  100.000400] IP: [<ffffffff81018d6f>] task_curr+0xf/0x30",
        "[  100.000500] Oops: 0000 [#2] SMP PROCESSOR",
        "[  100.000600] ---[ end Kernel panic - not syncing: Fatal exception",
      ].join("\n"),
    );
    assert.deepEqual(
      cs.map((c) => [c.function, c.truncated]),
      [
        ["ib_mad_completion_handler", true],
        ["task_curr", false],
      ],
    );
  });

  it("never throws, whatever the lines", () => {
    const pieces = fc.constantFrom(
      "BUG: unable to handle kernel ",
      "------------[ cut here ]------------",
      "WARNING: CPU: 1 PID: 2 at ",
      "Oops: 0000 [#1]",
      "Kernel Panic - not syncing: ",
      "---[ end trace 0 ]---",
      "Call Trace:",
      "[<ffffffff81003299>] ? f+0x1/0x2",
      "CPU: 1 PID: 2 Comm: x y",
      "[ 1.000000] ",
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(pieces, fc.string()), { maxLength: 30 }), (rows) => {
        crashes(rows.map(([a, b]) => a + b).join("\n"));
      }),
    );
  });
});
