import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Alert } from "../../src/engine/alerts.js";
import { Engine } from "../../src/engine/engine.js";
import type { CrashEvent, ParsedEvent, RebootEvent } from "../../src/parse/events.js";

let lineNo = 0;
/** A report as the crash assembler hands it over, titled the way syzkaller titles it. */
function report(node: string, ts: number, title: string, fn?: string, type: "crash" | "warning" = "crash") {
  lineNo++;
  const e: CrashEvent = {
    node,
    ts,
    line: lineNo,
    arrival: null,
    text: `[${ts}] ${title}`,
    type,
    title,
    kind: "report",
    registers: {},
    frames: [],
    report: [title],
    reportLines: [lineNo],
    truncated: false,
    cpu: 1,
    comm: "kworker/1:2",
    pid: 57,
  };
  if (fn) e.function = fn;
  return e;
}

function run(events: ParsedEvent[], ticks: number[] = []): Alert[] {
  const engine = new Engine();
  for (const e of events) engine.event(e);
  for (const t of ticks) engine.tick(t);
  return [...engine.all];
}

describe("stall", () => {
  it("one hang told by three detectors is one alert naming the function and every detector", () => {
    const alerts = run([
      report("S", 100, "BUG: soft lockup in ext4_writepages", "ext4_writepages"),
      report("S", 121, "INFO: rcu detected stall in ext4_writepages", "ext4_writepages"),
      report(
        "S",
        244,
        "INFO: task hung in jbd2_journal_commit_transaction",
        "jbd2_journal_commit_transaction",
      ),
      report("S", 248, "BUG: soft lockup in ext4_writepages", "ext4_writepages"),
    ]);
    assert.equal(alerts.length, 1);
    const a = alerts[0]!;
    assert.equal(a.rule, "stall");
    assert.equal(a.severity, "critical");
    assert.equal(a.count, 4);
    assert.equal(a.state, "firing");
    assert.equal(
      a.message,
      "kernel stalled in ext4_writepages, jbd2_journal_commit_transaction (soft lockup, RCU stall, hung task, kworker/1:2[57], CPU 1)",
    );
    assert.equal(a.evidence[0]!.text, "[100] BUG: soft lockup in ext4_writepages");
  });

  it("names the task a hung-task report is about, not khungtaskd that printed it", () => {
    const e = report("S", 10, "INFO: task hung in __flush_work", "__flush_work");
    e.text = "[   10.000000] INFO: task kworker/u4:2:118 blocked for more than 122 seconds.";
    e.comm = "khungtaskd";
    const [a] = run([e]);
    assert.equal(a?.message, "kernel stalled in __flush_work (hung task, kworker/u4:2[118])");
  });

  it("is no crash alert: the kernel is stuck, not dead", () => {
    const alerts = run([report("S", 10, "INFO: task hung in __flush_work", "__flush_work")]);
    assert.deepEqual(
      alerts.map((a) => a.rule),
      ["stall"],
    );
  });

  it("knows hard lockups and RCU stalls in every wording", () => {
    for (const title of [
      "BUG: soft lockup",
      "watchdog: BUG: soft lockup - CPU#0 stuck for 22s!",
      "Watchdog detected hard LOCKUP on cpu 2",
      "INFO: rcu detected stall in sys_read",
      "INFO: rcu_sched self-detected stall on CPU",
      "INFO: task syz-executor:1234 blocked for more than 143 seconds.",
    ]) {
      assert.deepEqual(
        run([report("S", 10, title)]).map((a) => a.rule),
        ["stall"],
        title,
      );
    }
  });

  it("leaves other reports to the crash and warning rules, a panic after a lockup too", () => {
    const alerts = run([
      report("S", 10, "WARNING: suspicious RCU usage in rcu_preempt_sleep_check", undefined, "warning"),
      report("S", 11, "BUG: unable to handle kernel NULL pointer dereference in fit_poll_cq", "fit_poll_cq"),
      report("S", 12, "kernel panic: Hard LOCKUP"),
    ]);
    assert.deepEqual(
      alerts.map((a) => a.rule),
      ["warning", "crash", "crash"],
    );
  });

  it("is over after 300 s without another report; a later hang is a new alert", () => {
    const alerts = run([
      report("S", 100, "BUG: soft lockup in f", "f"),
      report("S", 399, "INFO: rcu detected stall in f", "f"),
      report("S", 700, "BUG: soft lockup in g", "g"),
    ]);
    assert.equal(alerts.length, 2);
    assert.equal(alerts[0]!.state, "resolved");
    assert.equal(alerts[0]!.count, 2);
    assert.equal(alerts[0]!.last.ts, 700);
    assert.equal(alerts[1]!.state, "firing");
    assert.match(alerts[1]!.message, /stalled in g \(soft lockup/);
  });

  it("is over on a clock tick too, with no new line", () => {
    const engine = new Engine();
    const e = report("S", 100, "BUG: soft lockup in f", "f");
    engine.line({ node: "S", lineNo: 1, ts: 100, msg: "x", text: "x", arrival: 1_000_000, cont: false });
    engine.event({ ...e, arrival: 1_000_000 });
    engine.tick(1_000_000 + 299_000);
    assert.equal(engine.all[0]!.state, "firing");
    engine.tick(1_000_000 + 301_000);
    assert.equal(engine.all[0]!.state, "resolved");
  });

  it("a reboot ends it, and the next hang after it is a new alert", () => {
    lineNo++;
    const reboot: RebootEvent = {
      node: "S",
      ts: 0,
      line: lineNo,
      arrival: null,
      text: "[    0.000000] Linux version 6.1.0",
      type: "reboot",
      reason: "banner",
    };
    const alerts = run([
      report("S", 50, "BUG: soft lockup in f", "f"),
      reboot,
      report("S", 60, "BUG: soft lockup in f", "f"),
    ]);
    const stalls = alerts.filter((a) => a.rule === "stall");
    assert.equal(stalls.length, 2);
    assert.equal(stalls[0]!.state, "resolved");
    assert.equal(stalls[1]!.count, 1);
  });

  it("the quiet time comes from the config", () => {
    const engine = new Engine({ thresholds: { stallQuietSeconds: 30 } });
    engine.event(report("S", 100, "BUG: soft lockup in f", "f"));
    engine.event(report("S", 131, "BUG: soft lockup in f", "f"));
    assert.equal(engine.all.length, 2);
  });
});
