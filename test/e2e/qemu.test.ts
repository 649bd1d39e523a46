import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort, kill, killAll, spawnTracked, waitFor } from "./support.js";

/**
 * A real Linux kernel (Debian's 6.1 cloud kernel under QEMU) on a TCP serial console, watched by
 * legowatch's live headless mode. prepare.sh builds two initramfs: one prints a deep thread-pool
 * queue for 8 s, a FIT RPC timeout, then crashes the kernel with sysrq-c; the other only prints a
 * line and powers off, a whole clean boot that must raise nothing.
 */

const root = fileURLToPath(new URL("../../", import.meta.url));
// Under the OS temp dir and not removed after the run: the kernel download is what makes the
// first run slow, and every later run reuses it.
const cache = join(tmpdir(), "legowatch-qemu");
const qemuBin = "qemu-system-x86_64";

// What `panic("sysrq triggered crash\n")` in 6.1's sysrq_handle_crash prints, as legowatch titles it:
// the console shows `Kernel panic - not syncing: sysrq triggered crash`.
const CRASH_TITLE = "kernel panic: sysrq triggered crash";

const hasQemu = spawnSync(qemuBin, ["--version"], { stdio: "ignore" }).status === 0;

interface Alert {
  type: "alert";
  rule: string;
  severity: string;
  node: string;
  message: string;
  evidence: { text?: string }[];
}

describe("live on a real kernel's serial console (QEMU)", {
  skip: hasQemu ? false : `${qemuBin} not installed`,
}, () => {
  let vmlinuz = "";
  let initrd = "";
  let cleanInitrd = "";
  let qemu: ChildProcess | undefined;
  let lw: ChildProcess | undefined;

  before(
    async () => {
      const { stdout } = await promisify(execFile)("bash", [join(root, "test/e2e/qemu/prepare.sh"), cache], {
        env: { ...process.env, NODE: process.execPath },
        timeout: 170_000,
        maxBuffer: 1 << 20,
      });
      [vmlinuz = "", initrd = "", cleanInitrd = ""] = stdout.trim().split("\n");
      assert.ok(vmlinuz && initrd && cleanInitrd, `prepare.sh printed no paths: ${stdout}`);
    },
    // Cold, it downloads ~28 MB of packages and unpacks the kernel.
    { timeout: 180_000 },
  );

  const dataHome = mkdtempSync(join(tmpdir(), "legowatch-qemu-data-"));
  // Kill what is still running even when an assertion failed half-way.
  after(async () => {
    if (lw) await kill(lw, "SIGKILL");
    if (qemu) await kill(qemu, "SIGKILL");
    await killAll();
    rmSync(dataHome, { recursive: true, force: true });
  });

  /** The console of one boot as legowatch sees it: QEMU's serial port, and a headless --json watch of it. */
  interface Watch {
    qemu: ChildProcess;
    lw: ChildProcess;
    out: () => string;
    err: () => string;
    logs: () => string;
    alerts: () => Alert[];
  }

  /** Boots `initramfs` with `append` on a TCP serial console and watches it live as node M. */
  async function watchBoot(initramfs: string, append: string): Promise<Watch> {
    const port = await freePort();
    let qemuErr = "";
    // wait=on: QEMU does not boot before legowatch connects, so no console line is lost.
    // panic=-1 with -no-reboot ends QEMU right after a panic; -no-reboot also after a power-off.
    const q = spawnTracked(
      qemuBin,
      [
        ...["-accel", "tcg", "-kernel", vmlinuz, "-initrd", initramfs],
        ...["-append", append, "-m", "256", "-no-reboot"],
        ...["-display", "none", "-nic", "none", "-serial", `tcp:127.0.0.1:${port},server=on,wait=on`],
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    qemu = q;
    q.stderr?.on("data", (b: Buffer) => {
      qemuErr += b.toString("utf8");
    });
    // Not a TCP probe: QEMU would take the probe as its one client and boot into it.
    await waitFor(() => /waiting for connection/.test(qemuErr) || q.exitCode !== null, "QEMU to listen");
    assert.equal(q.exitCode, null, `QEMU exited before listening:\n${qemuErr}`);

    let out = "";
    let err = "";
    const l = spawnTracked(
      process.execPath,
      ["--import", "tsx", "src/cli.ts", "--headless", "--json", `M=tcp://127.0.0.1:${port}`],
      // The crash store of a live run goes under a folder of the test's own.
      { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, XDG_DATA_HOME: dataHome } },
    );
    lw = l;
    l.stdout?.on("data", (b: Buffer) => {
      out += b.toString("utf8");
    });
    l.stderr?.on("data", (b: Buffer) => {
      err += b.toString("utf8");
    });
    const alerts = (): Alert[] =>
      out
        .split("\n")
        .slice(0, -1) // the last piece is an unfinished line
        .filter((line) => line.trim() !== "")
        .map((line) => {
          try {
            return JSON.parse(line) as { type?: string };
          } catch {
            throw new Error(`stdout line is not JSON: ${line}`);
          }
        })
        .filter((o): o is Alert => o.type === "alert");
    return {
      qemu: q,
      lw: l,
      out: () => out,
      err: () => err,
      logs: () =>
        `\n--- legowatch stdout ---\n${out}\n--- legowatch stderr ---\n${err}\n--- qemu stderr ---\n${qemuErr}`,
      alerts,
    };
  }

  it("raises queue-growth, rpc-timeout and the kernel's real crash as JSON alerts, and stops on SIGTERM", {
    timeout: 90_000,
  }, async (t) => {
    const { lw, qemu, logs, alerts } = await watchBoot(initrd, "console=ttyS0 panic=-1 quiet loglevel=7");
    const find = (rule: string) => alerts().find((a) => a.rule === rule && a.node === "M");

    const t0 = Date.now();
    try {
      await waitFor(
        () => {
          if (lw.exitCode !== null) throw new Error(`legowatch exited with ${lw.exitCode}`);
          return find("queue-growth") && find("rpc-timeout") && find("crash");
        },
        "queue-growth, rpc-timeout and crash alerts on M",
        60_000,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}${logs()}`);
    }
    const bootToCrash = Date.now() - t0;

    const queue = find("queue-growth")!;
    assert.equal(queue.severity, "warning");
    assert.ok(
      queue.evidence.some((ev) => ev.text?.includes("hb: worker[0] max_nr_queued=6 nr_queued=5")),
      `queue-growth evidence: ${JSON.stringify(queue.evidence)}`,
    );
    const timeout = find("rpc-timeout")!;
    assert.ok(
      timeout.evidence.some((ev) => ev.text?.includes("caller: __pcache_do_fill_page+0x7e/0x130")),
      `rpc-timeout evidence: ${JSON.stringify(timeout.evidence)}`,
    );
    const crash = find("crash")!;
    assert.equal(crash.severity, "critical");
    assert.ok(crash.message.startsWith(CRASH_TITLE), `crash title: ${crash.message}${logs()}`);
    assert.ok(
      crash.evidence.some((ev) => ev.text?.includes("Kernel panic - not syncing: sysrq triggered crash")),
      `crash evidence: ${JSON.stringify(crash.evidence)}`,
    );

    const stopped = lw;
    await kill(stopped, "SIGTERM");
    assert.equal(stopped.signalCode, null, `legowatch died of ${stopped.signalCode} on SIGTERM${logs()}`);
    assert.equal(stopped.exitCode, 0, `legowatch exit code on SIGTERM${logs()}`);
    await kill(qemu);
    t.diagnostic(`connect to all three alerts in ${bootToCrash} ms`);
  });
  it("reads a whole clean boot of the real kernel to its power-off without any alert", {
    timeout: 60_000,
  }, async (t) => {
    // Not quiet: every boot message reaches the console, so they are all checked for false alarms.
    const { lw, qemu, err, logs, alerts } = await watchBoot(cleanInitrd, "console=ttyS0 panic=-1 loglevel=7");
    const t0 = Date.now();
    try {
      // `poweroff -f` ends QEMU; legowatch then sees its console close and starts retrying.
      await waitFor(() => qemu.exitCode !== null || qemu.signalCode !== null, "QEMU to power off", 45_000);
      await waitFor(() => /M: (?:retrying|waiting|closed)/.test(err()), "the console to close", 10_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}${logs()}`);
    }
    const bootMs = Date.now() - t0;
    // A report cut short by a quiet console is flushed after a second: give that its time.
    await sleep(1_500);
    assert.equal(lw.exitCode, null, `legowatch exited with ${lw.exitCode}${logs()}`);
    await kill(lw, "SIGTERM");
    assert.equal(lw.exitCode, 0, `legowatch exit code on SIGTERM${logs()}`);

    assert.deepEqual(
      alerts().map((a) => `${a.severity} ${a.rule}: ${a.message}`),
      [],
      `alerts on a clean boot${logs()}`,
    );
    // The summary (stderr with --json) shows legowatch did read the boot.
    const lines = Number(/^M: (\d+) lines/m.exec(err())?.[1] ?? 0);
    assert.ok(lines > 200, `legowatch read ${lines} console lines${logs()}`);
    assert.match(err(), /^No alerts\.$/m, `summary${logs()}`);
    assert.doesNotMatch(err(), /Crash reports:/, `summary${logs()}`);
    t.diagnostic(`clean boot to power-off in ${bootMs} ms, ${lines} lines`);
  });
});
