import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Alert } from "../../src/engine/alerts.js";
import { baseOf } from "../../src/parse/family.js";
import { oomFamily } from "../../src/parse/oom.js";
import { Pipeline } from "../../src/pipeline.js";
import { body, line, parseLines } from "../helpers.js";

function kills(text: string): Record<string, unknown>[] {
  return parseLines(oomFamily, text).map(body);
}

describe("oom family (mm/oom_kill.c)", () => {
  it('2.6.32-4.x: "Out of memory: Kill process %d (%s) score %u or sacrifice child"; its "Killed process" line is the same kill', () => {
    assert.deepEqual(
      kills(
        [
          "[  100.000006] Out of memory: Kill process 1234 (java) score 900 or sacrifice child",
          "[  100.000007] Killed process 1234, UID 500, (java) total-vm:12345678kB, anon-rss:1234567kB, file-rss:0kB",
        ].join("\n"),
      ),
      [{ type: "oom", pid: 1234, comm: "java", score: 900 }],
    );
  });

  it('5.x on: "Out of memory: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, ..."', () => {
    assert.deepEqual(
      kills(
        "[ 5123.456789] Out of memory: Killed process 4312 (stress-ng-vm) total-vm:4326592kB, anon-rss:3911304kB, file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:7708kB oom_score_adj:1000",
      ),
      [{ type: "oom", pid: 4312, comm: "stress-ng-vm", totalVmKb: 4326592, anonRssKb: 3911304 }],
    );
  });

  it("a memory cgroup's limit, the allocating task's sysctl, and a comm with blanks and parentheses", () => {
    assert.deepEqual(
      kills(
        [
          "[   10.000000] Memory cgroup out of memory: Killed process 77 (my worker) total-vm:1000kB, anon-rss:900kB, file-rss:0kB",
          "[   11.000000] Out of memory (oom_kill_allocating_task): Kill process 78 ((sd-pam)) score 0 or sacrifice child",
          "[   12.000000] Out of memory: Killed process 79 (old).",
        ].join("\n"),
      ),
      [
        { type: "oom", pid: 77, comm: "my worker", cgroup: true, totalVmKb: 1000, anonRssKb: 900 },
        { type: "oom", pid: 78, comm: "(sd-pam)", score: 0 },
        { type: "oom", pid: 79, comm: "old" },
      ],
    );
  });

  it("other lines about memory are not kills", () => {
    assert.deepEqual(
      kills(
        [
          "[  100.000000] java invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0",
          "[  100.000008] oom_reaper: reaped process 1234 (java), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
          "[  100.000009] Out of memory and no killable processes...",
        ].join("\n"),
      ),
      [],
    );
  });

  it("a real kernel's kill (Debian's 6.x in QEMU, test/fixtures/linux-reports/qemu-oom-kill)", () => {
    const log = readFileSync(new URL("../fixtures/linux-reports/qemu-oom-kill", import.meta.url), "utf8");
    const p = new Pipeline();
    p.push("S", log.slice(log.indexOf("\n\n") + 2));
    p.end();
    assert.deepEqual(
      p.engine.all.map((a) => [a.rule, a.message]),
      [["oom-kill", "out of memory: the OOM killer killed cat[85], 4 kB resident"]],
    );
  });

  it("never throws, whatever the line", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const l = line(`[    1.000000] Out of memory: Kill process ${s}`);
        oomFamily.parse(l, baseOf(l));
      }),
    );
  });

  it("raises an oom-kill error; kills of one program fold", () => {
    const p = new Pipeline();
    p.push(
      "S",
      [
        "[  100.000006] Out of memory: Kill process 1234 (java) score 900 or sacrifice child",
        "[  160.000006] Out of memory: Killed process 1299 (java) total-vm:4326592kB, anon-rss:3911304kB, file-rss:4kB",
        "",
      ].join("\n"),
    );
    p.end();
    const alerts: Alert[] = p.engine.all.filter((a) => a.rule === "oom-kill");
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.severity, "error");
    assert.equal(alerts[0]!.count, 2);
    assert.equal(alerts[0]!.message, "out of memory: the OOM killer killed java[1299], 3820 MB resident");
  });
});
