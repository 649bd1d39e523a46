import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConsoleParser } from "../../src/parse/console.js";
import type { CrashEvent, ParsedEvent } from "../../src/parse/events.js";
import { levelEnd, logPrefixEnd, readStamp, Stamper } from "../../src/parse/line.js";
import { LineFramer } from "../../src/sources/framer.js";

describe("log file prefixes", () => {
  it("syslog, the journal and dmesg -T are taken off the message; other text is not", () => {
    const msg = (text: string) => new Stamper("N").line(text, 1, null).msg;
    assert.equal(msg("Nov 26 01:02:03 node7 kernel: BUG: soft lockup"), "BUG: soft lockup");
    assert.equal(msg("Nov  6 01:02:03 node7 kernel: x"), "x");
    assert.equal(msg("2026-11-26T01:02:03.123456+00:00 node7 kernel: Oops: 0002 [#1]"), "Oops: 0002 [#1]");
    assert.equal(msg("2026-11-26T01:02:03Z node7 kernel: x"), "x");
    assert.equal(msg("[Thu Nov 26 01:02:03 2026] WARNING: CPU: 0 PID: 1"), "WARNING: CPU: 0 PID: 1");
    assert.equal(msg("<4>Nov 26 01:02:03 node7 kernel: x"), "x");
    for (const other of [
      "Nov 26 01:02:03 node7 sshd[12]: Accepted publickey",
      "CPU: 1 PID: 2 Comm: x",
      "[<ffffffff81062fcd>] fit_poll_cq+0x4ad/0x510",
      "2026 was a year",
    ])
      assert.equal(msg(other), other);
    assert.equal(logPrefixEnd("xx Nov 26 01:02:03 h kernel: y", 3), 29);
  });
});

describe("printk prefixes", () => {
  it("reads the stamp after a `<N>` level and before a `[  T123]`/`[  C1]` caller tag", () => {
    const cases: [string, { ts: number; msg: string } | null][] = [
      ["[    1.500000] plain", { ts: 1.5, msg: "plain" }],
      ["[    1.500000]no space", { ts: 1.5, msg: "no space" }],
      ["<6>[    0.000000] Linux version 6.1.0", { ts: 0, msg: "Linux version 6.1.0" }],
      ["<14>[   12.000001] level with facility", { ts: 12.000001, msg: "level with facility" }],
      [
        "[   12.345678][  T123] INFO: task kworker/0:1:9 blocked",
        { ts: 12.345678, msg: "INFO: task kworker/0:1:9 blocked" },
      ],
      [
        "[   12.345678][    C1] rcu: INFO: rcu_sched self-detected stall on CPU",
        { ts: 12.345678, msg: "rcu: INFO: rcu_sched self-detected stall on CPU" },
      ],
      [
        "<4>[   12.345678][ T1] WARNING: CPU: 0 PID: 1 at fs/x.c:10 f+0x1/0x2",
        { ts: 12.345678, msg: "WARNING: CPU: 0 PID: 1 at fs/x.c:10 f+0x1/0x2" },
      ],
      // Not caller tags or levels: kept in the message.
      [
        "[   12.345678] [<ffffffff81062fcd>] fit_poll_cq+0x4ad/0x510",
        { ts: 12.345678, msg: "[<ffffffff81062fcd>] fit_poll_cq+0x4ad/0x510" },
      ],
      ["[   12.345678][T] not a tag", { ts: 12.345678, msg: "[T] not a tag" }],
      // kern.log keeps the stamp after the syslog prefix; the journal's monotonic form puts host and
      // `kernel:` after it.
      ["Nov 26 01:02:03 node7 kernel: [   12.345678] BUG: x", { ts: 12.345678, msg: "BUG: x" }],
      ["[   12.345678] node-7.lab kernel: BUG: x", { ts: 12.345678, msg: "BUG: x" }],
      ["[   12.345678][  T1] node7 kernel: BUG: x", { ts: 12.345678, msg: "BUG: x" }],
      ["[   12.345678] Booting the kernel: x", { ts: 12.345678, msg: "Booting the kernel: x" }],
      ["Nov 26 01:02:03 node7 kernel: no stamp", null],
      ["<x>[    1.000000] not a level", null],
      ["<1234>[    1.000000] too long for a level", null],
    ];
    for (const [text, want] of cases) {
      const got = readStamp(text);
      assert.deepEqual(got && { ts: got.ts, msg: text.slice(got.at) }, want, text);
    }
    assert.equal(readStamp("[   12.345678][  T123] x")?.caller, "T123");
    assert.equal(readStamp("<4>[   12.345678][    C1]x")?.caller, "C1");
    assert.equal(readStamp("[   12.345678] [  T123] x")?.caller, undefined, "a space first: message text");
    const stamper = new Stamper("N");
    assert.equal(stamper.line("[    1.000000][  T77] a", 1, null).caller, "T77");
    assert.equal("caller" in stamper.line("[    1.000000] b", 2, null), false);
    assert.equal(levelEnd("<3>BUG: x"), 3);
    assert.equal(levelEnd("<>x"), 0);
    // A level without a stamp is not part of the message either.
    assert.equal(new Stamper("N").line("<4>WARNING: at x", 1, null).msg, "WARNING: at x");
  });

  it("a level before the stamp stays on its line when the framer splits at stamps", () => {
    const f = new LineFramer();
    const lines = f
      .push("<6>[    1.000000] one[    1.000001] two\n<4>[    2.000000][  T9] three\n")
      .map((l) => l.text);
    assert.deepEqual(lines, ["<6>[    1.000000] one", "[    1.000001] two", "<4>[    2.000000][  T9] three"]);
  });

  it("a crash report of a CONFIG_PRINTK_CALLER kernel is assembled and titled", () => {
    const events: ParsedEvent[] = [];
    const p = new ConsoleParser((e) => events.push(e));
    const log = [
      "[  100.000000][  T123] BUG: unable to handle kernel NULL pointer dereference at 0000000000000020",
      "[  100.000001][  T123] IP: [<ffffffff81062fcd>] fit_poll_cq+0x4ad/0x510",
      "[  100.000002][  T123] Oops: 0002 [#1] SMP",
      "[  100.000003][  T123] CPU: 4 PID: 123 Comm: recvpollcq 5.10.0 #1",
      "[  100.000004][  T123] ---[ end trace 0000000000000000 ]---",
    ];
    for (const [i, l] of log.entries()) p.line("N", l, i + 1, null);
    p.end();
    const crash = events.find((e) => e.type === "crash") as CrashEvent | undefined;
    assert.equal(crash?.title, "BUG: unable to handle kernel NULL pointer dereference in fit_poll_cq");
    assert.deepEqual([crash?.cpu, crash?.pid, crash?.comm], [4, 123, "recvpollcq"]);
    assert.equal(crash?.truncated, false);
  });
});
