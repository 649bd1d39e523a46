import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ConsoleParser } from "../../src/parse/console.js";
import type { CrashEvent, ParsedEvent } from "../../src/parse/events.js";
import { readStamp, Stamper } from "../../src/parse/line.js";
import { NodeParser } from "../../src/parse/parser.js";

function parse(text: string, node = "N"): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const p = new NodeParser(node, (e) => out.push(e));
  const s = new Stamper(node);
  text.split("\n").forEach((t, i) => {
    p.push(s.line(t, i + 1, null));
  });
  p.flush();
  return out;
}

describe("printk stamps", () => {
  it("reads any width, and none", () => {
    assert.deepEqual(readStamp("[    0.000000] x"), { ts: 0, at: 15 });
    assert.deepEqual(readStamp("[104857.000000] watchdog: worker[1] CPU 6 stucked")?.ts, 104857);
    assert.deepEqual(readStamp("[  428.618289]"), { ts: 428.618289, at: 14 });
    assert.equal(readStamp("[root@wuklab05 ys]# cat 0409-p"), null);
    assert.equal(readStamp("[  1.23] short micros"), null);
  });

  it("marks unstamped lines as continuations only on a node that stamps", () => {
    const s = new Stamper("M");
    assert.equal(s.line("thpool-worker0 nr_queued: 5 1", 1, null).cont, false);
    assert.equal(s.line("[ 1234.000000] Watchdog:", 2, null).cont, false);
    const c = s.line("    worker[0]", 3, null);
    assert.deepEqual([c.cont, c.ts], [true, null]);
  });
});

describe("the node parser", () => {
  it("never parses a user program's output as kernel messages (F24)", () => {
    const ev = parse(
      [
        "[   51.716582] STDOUT: ---[",
        "BUG: unable to handle kernel NULL pointer dereference at (null)",
        "word_count-pthr[29]: segfault at 0x4e842010 ip 0000000000420354 sp 00007fffb17f9bc0 error 6",
        "]---",
        "[   51.800000] word_count-pthr[29]: segfault at 0x4e842010 ip 0000000000420354 sp 00007fffb17f9bc0 error 6",
      ].join("\n"),
    );
    assert.deepEqual(
      ev.map((e) => [e.type, e.line]),
      [["segfault", 5]],
    );
  });

  it("ends STDOUT at the next stamped line when the closing ]--- was cut off", () => {
    const ev = parse(
      [
        "[   51.716582] STDOUT: ---[",
        "hello",
        "[   52.000000] send request failed at connection 7 as 12",
      ].join("\n"),
    );
    assert.deepEqual(
      ev.map((e) => e.type),
      ["ib_error"],
    );
  });

  it("sees a reboot at a banner or a return to zero, not at a smaller stamp (F1)", () => {
    const ev = parse(
      [
        "[    0.000000] LegoOS version 4.0.0-lego+ (root@host) (gcc version 4.8.5) #3 SMP Wed Oct 24 20:57:09 EDT 2018",
        "[    4.294967] TSC: Detected 2400.055 MHz processor",
        "[  900.000000] something",
        "[  800.000000] pasted out of order",
        "[    0.000000] LegoOS version 4.0.0-lego+ (root@host) (gcc version 4.8.5) #4 SMP Wed Oct 24 21:57:09 EDT 2018",
        "[    0.000000] Command line: console=ttyS0",
        "[    4.294967] x86: Booted up 1 node, 8 CPUs",
      ].join("\n"),
    );
    const reboots = ev.filter((e) => e.type === "reboot");
    assert.deepEqual(
      reboots.map((e) => [e.line, e.type === "reboot" && e.reason]),
      [[5, "zero-stamp"]],
    );
  });

  it("sees a reboot at a second banner on a console without stamps", () => {
    const ev = parse(["Linux version 6.1.0 (x) #1", "hello", "Linux version 6.1.0 (x) #1"].join("\n"));
    assert.deepEqual(
      ev.filter((e) => e.type === "reboot").map((e) => e.line),
      [3],
    );
  });

  it("a crash report cut off by a reboot is still a crash", () => {
    const ev = parse(
      [
        "[  456.263274] BUG: unable to handle kernel paging request at 00000002f4bfbf58",
        "[  456.270843] IP: [<ffffffff8101bbff>] task_tick_rt+0x1f/0xd0",
        "[    0.000000] LegoOS version 4.0.0-lego+ (root@host) (gcc version 4.8.5) #3 SMP",
      ].join("\n"),
    );
    const c = ev.find((e) => e.type === "crash") as CrashEvent;
    assert.equal(c.title, "BUG: unable to handle kernel paging request in task_tick_rt");
    assert.equal(c.truncated, true);
    assert.ok(ev.some((e) => e.type === "reboot"));
  });

  it("skips VMA dumps and keeps the WARN that follows them (F17)", () => {
    const ev = parse(
      [
        "[  583.142729]   006dc000-00755000 rw-p 00000000 [heap]",
        "[  583.148254]   7fff529c9000-7fffb93aa000 rw-p 00000000 ",
        "[  583.173753] ------------[ cut here ]------------",
        "[  583.178892] WARNING: CPU: 4 PID: 31 at managers/memory/handle_pcache/fault.c:55 handle_p2m_pcache_miss+0x18e/0x1d0",
      ].join("\n"),
    );
    assert.deepEqual(
      ev.map((e) => [e.type, e.line]),
      [["warning", 3]],
    );
  });

  it("ignores storage-node and profiling chatter it has no use for (F21, F25)", () => {
    const ev = parse(
      [
        "[ 1234.000000] storage_self_monitor(): in_handler=0",
        "[ 1053.503665]     CPU 8 Profile: s  32-r   4. Avg: 4201 ns.",
        "[ 1234.000000] Kernel Heatmap (top #10)",
      ].join("\n"),
    );
    assert.deepEqual(ev, []);
  });

  it("offers a line to the families of a later key when those of the first key say no", () => {
    // `p2m_fork(` comes first, but the process family has no row for it; `nr_queued: ` is the thpool V0 sample.
    const ev = parse("[ 5.000000] p2m_fork(x)1 nr_queued: 3 1");
    assert.equal(ev.length, 1);
    assert.equal(ev[0]!.type, "thpool");
    assert.deepEqual(parse("[ 5.000000] handle_p2m_fork(): nid:1,pid:33,tgid:29,parent_tgid:2"), []);
  });

  it("keeps the lines of two nodes apart, even interleaved", () => {
    const out: ParsedEvent[] = [];
    const p = new ConsoleParser((e) => out.push(e));
    const P = [
      "[30939.644483] BUG: unable to handle kernel NULL pointer dereference at           (null)",
      "[30939.738083] IP: [<ffffffff81062fcd>] fit_poll_cq+0x4ad/0x510",
      "[30939.829604] Oops: 0002 [#1] SMP PROCESSOR",
    ];
    const M = [
      "[ 1234.000000] watchdog: worker[1] CPU12 stucked",
      "[ 1234.004850] watchdog:  common_header [op=0x30000000 src_nid:2]",
      "[ 1234.011340] CPU: 12 PID: 23 Comm: thpool-worker1 4.0.0-lego+ #51",
    ];
    for (let i = 0; i < 3; i++) {
      p.line("P", P[i]!, i + 1, null);
      p.line("M", M[i]!, i + 1, null);
    }
    p.end();
    const crash = out.find((e) => e.type === "crash") as CrashEvent;
    assert.equal(crash.node, "P");
    assert.equal(crash.report.length, 3);
    assert.equal(crash.comm, undefined, "M's task line must not land in P's report");
    const stuck = out.find((e) => e.type === "stuck_worker");
    assert.equal(stuck?.node, "M");
  });

  it("never throws, whatever the lines", () => {
    const real = fc.constantFrom(
      "[ 1234.000000] Watchdog:",
      "    worker[0]",
      "[ 1.000000] Kernel Profile Points",
      "[ 1.000000] STDOUT: ---[",
      "]---",
      "[    0.000000] LegoOS version x",
      "[ 1.000000] nr_pgfault: 5",
      "[ 1.000000] watchdog: worker[1] CPU12 stucked",
      "[ 1.000000] ibapi_send_reply() CPU:8 PID:19 timeout (30010 ms), caller: clflush_one+0x1c9/0x370",
      "[ 1.000000] BUG: unable to handle kernel NULL pointer dereference at (null)",
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(real, fc.string({ maxLength: 80 })), { maxLength: 40 }), (ls) => {
        parse(ls.join("\n"));
      }),
      { numRuns: 300 },
    );
  });
});
