import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { CRASH_FORMATS } from "../../src/parse/crash-formats.js";
import { reportsOf } from "../helpers.js";

/**
 * Linux console logs in syzkaller's test-data layout: `KEY: value` header lines (`TITLE`, optionally
 * `TYPE` and `CORRUPTED: Y`), an empty line, then the raw console. An empty TITLE means no report.
 * `fmt-*` logs are written from the kernel's printk formats, `qemu-*` ones captured from a real kernel.
 */
const DIR = new URL("../fixtures/linux-reports/", import.meta.url);

interface Fixture {
  name: string;
  title: string;
  type?: string;
  corrupted: boolean;
  log: string;
}

function readFixture(name: string): Fixture {
  const text = readFileSync(new URL(name, DIR), "utf8");
  const blank = text.indexOf("\n\n");
  assert.ok(blank !== -1, `${name}: no empty line after the header`);
  const head = new Map<string, string>();
  for (const line of text.slice(0, blank).split("\n")) {
    const m = /^([A-Z_]+):\s?(.*)$/.exec(line);
    assert.ok(m, `${name}: bad header line ${JSON.stringify(line)}`);
    head.set(m[1]!, m[2]!.trim());
  }
  assert.ok(head.has("TITLE"), `${name}: no TITLE`);
  return {
    name,
    title: head.get("TITLE")!,
    type: head.get("TYPE") || undefined,
    corrupted: head.get("CORRUPTED") === "Y",
    log: text.slice(blank + 2),
  };
}

/**
 * syzkaller's crash type of a title (pkg/report's title-to-type table), for fixtures whose TYPE is one
 * of those rather than our event type. Some titles have had two names across syzkaller versions.
 */
const SYZKALLER_TYPES: readonly [RegExp, readonly string[]][] = [
  [/^KASAN: (?:double-free or invalid-free|invalid-free)/, ["KASAN-INVALID-FREE"]],
  [/^KASAN: (?:slab-)?use-after-free Write/, ["KASAN-USE-AFTER-FREE-WRITE"]],
  [/^KASAN: (?:slab-)?use-after-free/, ["KASAN-USE-AFTER-FREE-READ"]],
  [/^KASAN: [\w-]+ Write/, ["KASAN-WRITE"]],
  [/^KASAN: [\w-]+ Read/, ["KASAN-READ"]],
  [/^BUG: unable to handle kernel NULL pointer dereference/, ["NULL-POINTER-DEREFERENCE", ""]],
  [/^(?:BUG: corrupted list|BUG: unable to handle kernel paging request)/, ["MEMORY_SAFETY_BUG"]],
  [/^WARNING: refcount bug/, ["REFCOUNT_WARNING", "MEMORY_SAFETY_WARNING"]],
  [/^UBSAN: array-index/, ["MEMORY_SAFETY_UBSAN"]],
  [/^KCSAN: data-race/, ["DATARACE"]],
  [
    /^(?:possible deadlock|inconsistent lock state|WARNING: (?:suspicious RCU usage|locking bug) in)/,
    ["LOCKDEP"],
  ],
  [/^BUG: (?:scheduling while atomic|sleeping function called from invalid context) in/, ["ATOMIC_SLEEP"]],
  [/^memory leak in/, ["LEAK"]],
  [/^(?:BUG: bad usercopy in|kernel BUG)/, ["BUG"]],
  [/^WARNING in/, ["WARNING"]],
  [/^(?:BUG: soft lockup|INFO: rcu detected stall|INFO: task can't die|INFO: task hung) in/, ["HANG"]],
  [
    /^(?:PANIC: double fault|divide error in|general protection fault in|invalid opcode in|kernel panic:|stack segment fault in|unregister_netdevice: waiting for DEV to become free)/,
    ["DoS"],
  ],
  [/^WARNING:/, ["WARNING"]],
  [/^KFENCE:/, ["KFENCE"]],
  [/^UBSAN:/, ["UBSAN"]],
];

function syzkallerTypes(title: string): readonly string[] {
  return SYZKALLER_TYPES.find(([re]) => re.test(title))?.[1] ?? [""];
}

// Fixtures have bare names, as syzkaller's do; anything with an extension (a script, a note) is not one.
const fixtures = readdirSync(DIR)
  .filter((f) => !f.includes("."))
  .sort()
  .map(readFixture);

describe("Linux report families, titled as syzkaller does", () => {
  it("has fixtures of every family", () => {
    const families = new Set(
      fixtures.filter((f) => f.name.startsWith("fmt-")).map((f) => f.name.replace(/-\d+$/, "")),
    );
    assert.ok(families.size >= 20, `only ${families.size} families`);
  });

  for (const f of fixtures) {
    it(`${f.name}: ${f.title || "(no report)"}`, () => {
      const reports = reportsOf(f.log);
      if (f.title === "") {
        assert.deepEqual(
          reports.map((r) => r.title),
          [],
          "a clean log yields no report",
        );
        return;
      }
      assert.ok(reports.length > 0, "no report found");
      const first = reports[0]!;
      assert.equal(first.title, f.title);
      if (f.type) {
        const ours = f.type === "crash" || f.type === "warning";
        if (ours) assert.equal(first.type, f.type, "type");
        else assert.ok(syzkallerTypes(first.title).includes(f.type), `type ${f.type} of ${first.title}`);
      }
      assert.equal(
        first.corrupted === true,
        f.corrupted,
        `corrupted (${first.corruptedReason ?? "no reason"})`,
      );
      if (first.corrupted) assert.ok(first.corruptedReason, "a corrupted report says why");
    });
  }
});

/** A console log as a log file keeps it: each printk stamp replaced by what `prefix` makes of it. */
function relog(log: string, prefix: (secs: number) => string): string {
  return log.replace(/^(?:<\d{1,3}>)?\[\s*(\d+)\.(\d{6})\] ?/gm, (_, s: string, us: string) =>
    prefix(Number(`${s}.${us}`)),
  );
}

const clock = (secs: number) => {
  const d = new Date(Date.UTC(2026, 10, 26, 1, 0, 0) + secs * 1000);
  return { d, hms: d.toISOString().slice(11, 19), us: String(Math.round((secs % 1) * 1e6)).padStart(6, "0") };
};

const stampOf = (secs: number) => `[${secs.toFixed(6).padStart(12)}] `;

/**
 * How crash logs come in bug reports: from syslog, the journal or `dmesg -T`, the printk stamp gone or
 * kept after the prefix (kern.log), or the journal's monotonic form, the stamp before host and `kernel:`.
 */
const LOG_FILES: readonly [string, (secs: number) => string, { stamped?: true }][] = [
  ["syslog", (secs) => `Nov 26 ${clock(secs).hms} node7 kernel: `, {}],
  [
    "syslog, printk stamp kept",
    (secs) => `Nov 26 ${clock(secs).hms} node7 kernel: ${stampOf(secs)}`,
    { stamped: true },
  ],
  ["the journal (ISO)", (secs) => `${clock(secs).d.toISOString().replace("Z", "+00:00")} node7 kernel: `, {}],
  ["the journal (short-precise)", (secs) => `Nov 26 ${clock(secs).hms}.${clock(secs).us} node7 kernel: `, {}],
  ["the journal (short-full)", (secs) => `Thu 2026-11-26 ${clock(secs).hms} UTC node7 kernel: `, {}],
  ["the journal (short-monotonic)", (secs) => `${stampOf(secs)}node7 kernel: `, { stamped: true }],
  ["dmesg -T", (secs) => `[Thu Nov 26 ${clock(secs).hms} 2026] `, {}],
];

describe("the same reports from log files instead of a console", () => {
  // Caller tags do not survive syslog, so the logs that need them to untangle reports stay out.
  const plain = fixtures.filter((f) => f.title !== "" && !/^\[[^\]]*\]\[/m.test(f.log));
  for (const [name, prefix, { stamped }] of LOG_FILES) {
    it(`${name}: every report titled as from the console (${plain.length} logs)`, () => {
      for (const f of plain) {
        const [got] = reportsOf(relog(f.log, prefix));
        assert.equal(got?.title, f.title, f.name);
        if (!stamped) continue;
        // The stamp is read, and the prefix makes no line of its own.
        const [want] = reportsOf(f.log);
        assert.equal(got?.ts, want?.ts, `${f.name}: ts`);
        assert.equal(got?.report.length, want?.report.length, `${f.name}: report lines`);
        assert.equal(got?.line, want?.line, `${f.name}: line`);
      }
    });
  }
});

describe("the header literals the parser's prefilter searches for", () => {
  it("are long enough and held by their row's headers", () => {
    for (const row of CRASH_FORMATS) {
      for (const l of row.literals) assert.ok(l.length >= 5, `${row.kind}: literal "${l}" is too short`);
    }
  });
});
