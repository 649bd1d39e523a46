import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { reportsOf } from "../helpers.js";

/** A WARNING as `__warn()` prints it, from the task `caller`, its lines stamped from `t`. */
function warning(caller: string, t: number, file: string, fn: string, frames: string[]): string[] {
  const at = (i: number) => `[${(t + i / 1000).toFixed(6).padStart(12)}][${caller.padStart(6)}]`;
  const lines = [
    "------------[ cut here ]------------",
    `WARNING: CPU: 1 PID: ${caller.slice(1)} at ${file} ${fn}+0x3c/0x90`,
    "Modules linked in:",
    `CPU: 1 PID: ${caller.slice(1)} Comm: worker Not tainted 6.1.0 #1`,
    `RIP: 0010:${fn}+0x3c/0x90`,
    "Call Trace:",
    " <TASK>",
    ...frames.map((f) => ` ${f}+0x10/0x40`),
    " </TASK>",
    "---[ end trace 0000000000000000 ]---",
  ];
  return lines.map((l, i) => `${at(i)} ${l}`);
}

describe("reports of two printers at once (CONFIG_PRINTK_CALLER)", () => {
  it("are told apart by their caller tags, line by line, each whole", () => {
    const a = warning("T101", 50, "fs/ext4/inode.c:120", "ext4_evict_inode", [
      "evict",
      "iput",
      "do_unlinkat",
    ]);
    const b = warning("T202", 50.0005, "net/core/dev.c:77", "dev_close_many", [
      "dev_close",
      "unregister_netdevice_many",
      "default_device_exit_batch",
    ]);
    const mixed = a.flatMap((l, i) => [l, b[i]!]);
    const got = reportsOf(`${mixed.join("\n")}\n`);
    assert.deepEqual(got.map((r) => r.title).sort(), [
      "WARNING in dev_close_many",
      "WARNING in ext4_evict_inode",
    ]);
    for (const r of got) {
      assert.equal(r.truncated, false, r.title);
      assert.equal(r.corrupted, undefined, r.title);
      assert.equal(r.report.length, a.length, "every line of its own, none of the other's");
    }
    const ext4 = got.find((r) => r.title.includes("ext4"))!;
    assert.deepEqual(
      ext4.frames.map((f) => f.fn),
      ["evict", "iput", "do_unlinkat"],
    );
  });

  it("an RCU stall takes the NMI backtrace another CPU prints for it", () => {
    const log = [
      "[  611.000000][    C0] rcu: INFO: rcu_sched detected stalls on CPUs/tasks:",
      "[  611.000031][    C0] rcu: \t1-...!: (0 ticks this GP) idle=5b8/1/0x4000000000000000 softirq=8711/8711 fqs=0",
      "[  611.000093][    C0] Sending NMI from CPU 0 to CPUs 1:",
      "[  611.000124][    C1] NMI backtrace for cpu 1",
      "[  611.000155][    C1] CPU: 1 PID: 0 Comm: swapper/1 Not tainted 6.1.0 #1",
      "[  611.000279][    C1] Call Trace:",
      "[  611.000310][    C1]  <IRQ>",
      "[  611.000465][    C1]  sysvec_apic_timer_interrupt+0x70/0x90",
      "[  611.000496][    C1]  </IRQ>",
      "[  611.000527][    C1]  <TASK>",
      "[  611.000558][    C1]  asm_sysvec_apic_timer_interrupt+0x16/0x20",
      "[  611.000651][    C1]  ext4_da_write_end+0x2e3/0x480",
      "[  611.000837][    C1]  __x64_sys_write+0x1b/0x30",
      "[  611.000868][    C1]  do_syscall_64+0x38/0x90",
      "[  611.000930][    C1]  </TASK>",
    ];
    const [r] = reportsOf(`${log.join("\n")}\n`);
    // Without CPU 1's lines the report has no stack, and syzkaller titles it `in corrupted`.
    assert.equal(r?.corrupted, undefined, r?.corruptedReason);
    assert.ok(r?.frames.some((f) => f.fn === "ext4_da_write_end"));
    assert.match(r?.title ?? "", /^INFO: rcu detected stall in \w+/);
  });
});

describe("printk messages dropped", () => {
  it("inside a report marks it corrupted, saying so", () => {
    const w = warning("T7", 9, "mm/slub.c:10", "dev_map_free", ["bpf_map_free_deferred", "process_one_work"]);
    w.splice(6, 0, "** 12 printk messages dropped **");
    const [r] = reportsOf(`${w.join("\n")}\n`);
    assert.equal(r?.title, "WARNING in dev_map_free");
    assert.equal(r?.corrupted, true);
    assert.match(r?.corruptedReason ?? "", /printk messages dropped/);
  });

  it("outside a report is no report", () => {
    assert.deepEqual(
      reportsOf("[    1.000000] hello\n** 3 printk messages dropped **\n[    1.000001] world\n"),
      [],
    );
  });
});

const REPORTS = new URL("../fixtures/linux-reports/", import.meta.url);
/** Every console line of the report fixtures, their header lines left out. */
const reportLines = readdirSync(REPORTS)
  .filter((f) => !f.includes("."))
  .flatMap((f) => {
    const text = readFileSync(new URL(f, REPORTS), "utf8");
    return text.slice(text.indexOf("\n\n") + 2).split("\n");
  });

describe("reports shuffled, cut and interleaved", () => {
  it("never throw, and every report has a title and says why when corrupted", () => {
    const tag = fc.constantFrom("", "[  T1]", "[  T2]", "[    C0]");
    const line = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...reportLines) },
      { weight: 1, arbitrary: fc.constant("** 5 printk messages dropped **") },
      { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    );
    const retag = ([l, t]: [string, string]) =>
      t ? l.replace(/^(\[\s*\d+\.\d+\])(\[[^\]]*\])?/, `$1${t}`) : l;
    fc.assert(
      fc.property(fc.array(fc.tuple(line, tag), { maxLength: 120 }), (rows) => {
        for (const r of reportsOf(`${rows.map(retag).join("\n")}\n`)) {
          assert.ok(r.title.length > 0);
          if (r.corrupted) assert.ok(r.corruptedReason);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("older and 32-bit kernels' dumps", () => {
  it("a stack's first frame on its `<IRQ>` marker line and 8-digit addresses are frames", () => {
    const [r] = reportsOf(
      [
        "[  421.129361] ------------[ cut here ]------------",
        "[  421.129377] WARNING: at net/sched/sch_generic.c:255 dev_watchdog+0x25f/0x270()",
        "[  421.129420] Pid: 0, comm: swapper Not tainted 2.6.32-431.el6.x86_64 #1",
        "[  421.129423] Call Trace:",
        "[  421.129425]  <IRQ>  [<ffffffff81071e27>] ? warn_slowpath_common+0x87/0xc0",
        "[  421.129446]  [<c147fcef>] dev_watchdog+0x25f/0x270",
        "[  421.129470] ---[ end trace 2bd1f4e4d1f1ab86 ]---",
        "",
      ].join("\n"),
    );
    assert.deepEqual(
      r?.frames.map((f) => [f.fn, f.reliable]),
      [
        ["warn_slowpath_common", false],
        ["dev_watchdog", true],
      ],
    );
  });
});
