import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { kill, killAll, spawnTracked, tempDir, waitFor } from "./support.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const stamp = (ts: number) => `[${ts.toFixed(6).padStart(12)}]`;

/** A private tmux server: the screen is read as a person would see it. */
class Tmux {
  constructor(readonly socket: string) {}
  run(...args: string[]): string {
    return execFileSync("tmux", ["-S", this.socket, ...args], { encoding: "utf8" });
  }
  screen(): string {
    return this.run("capture-pane", "-p", "-t", "lw");
  }
  keys(...keys: string[]): void {
    this.run("send-keys", "-t", "lw", ...keys);
  }
  kill(): void {
    try {
      this.run("kill-server");
    } catch {}
  }
}

describe("the screen in a real terminal", { timeout: 180_000 }, () => {
  const tmp = tempDir("tui");
  const tmux = new Tmux(join(tmp.dir, "tmux.sock"));
  after(async () => {
    tmux.kill();
    await killAll();
    tmp.remove();
  });

  it("shows the stuck worker, its alert and the log; filters, opens the crash and quits cleanly", async () => {
    const dir = tmp.dir;
    const socat = spawnTracked("socat", [
      `pty,raw,echo=0,link=${dir}/ttyA`,
      `pty,raw,echo=0,link=${dir}/ttyB`,
    ]);
    let tty = -1;
    await waitFor(() => {
      try {
        tty = openSync(`${dir}/ttyB`, "r+");
        return true;
      } catch {
        return false;
      }
    }, "socat's ptys");
    const mlog = join(dir, "m.log");
    writeFileSync(mlog, "");
    const cmd = [
      "cd",
      JSON.stringify(root),
      "&&",
      "NO_COLOR=1",
      // As in a CI job: Ink would draw only its last frame, and the screen must still be live.
      "CI=true",
      // The crash store goes under the test's own folder.
      `XDG_DATA_HOME=${JSON.stringify(join(dir, "data"))}`,
      JSON.stringify(process.execPath),
      "--import tsx src/cli.ts --no-bell",
      `P=serial:${dir}/ttyA`,
      `M=file:${mlog}`,
      `2>${JSON.stringify(join(dir, "stderr.log"))}`,
      "; echo LEGOWATCH-EXITED $?; sleep 600",
    ].join(" ");
    tmux.run("new-session", "-d", "-s", "lw", "-x", "100", "-y", "32", cmd);
    // What a failed wait reports: the screen's non-blank lines and what legowatch wrote to stderr.
    const seen = (what: string) => {
      let stderr = "";
      try {
        stderr = readFileSync(join(dir, "stderr.log"), "utf8").slice(-2000);
      } catch {}
      const screen = tmux
        .screen()
        .replace(/\n{2,}/g, "\n")
        .trim();
      return `${what}; the screen:\n${screen || "(blank)"}\nstderr:\n${stderr || "(empty)"}`;
    };
    // Bytes written before a source is attached are lost, as on real hardware: wait for both.
    await waitFor(
      () => /^P .*connected/m.test(tmux.screen()) && /^M .*connected/m.test(tmux.screen()),
      () => seen("both consoles attached"),
      // The first start compiles the sources: allow a slow, loaded machine more time.
      60_000,
    );

    // M: worker 2 stops making progress while its queue grows; the memory manager reports it.
    const samples = [100, 105, 110, 115, 120].map(
      (t, i) =>
        `${stamp(t)} hb: worker[2] max_nr_queued=${i * 2} nr_queued=${i * 2} in_handler=yes nr_thpool_reqs=${500 + i}\n`,
    );
    appendFileSync(
      mlog,
      `${samples.join("")}${stamp(121)} watchdog: worker[2] CPU 5 stucked\n${stamp(121.1)} watchdog:  common_header [op=0x20000000 src_nid:0]\n`,
    );
    // P: the RPC times out, then the kernel dies in fit_poll_cq; a hostile line tries to clear the screen.
    writeSync(
      tty,
      [
        `${stamp(30801.29616)} ibapi_send_reply() CPU:8 PID:19 timeout (30010 ms), caller: clflush_one+0x1c9/0x370`,
        `${stamp(30801.3)} \u001b[2J\u001b]0;pwned\u0007hostile`,
        `${stamp(30939.644483)} BUG: unable to handle kernel NULL pointer dereference at           (null)`,
        `${stamp(30939.738083)} IP: [<ffffffff81062fcd>] fit_poll_cq+0x4ad/0x510`,
        `${stamp(30939.829604)} Oops: 0002 [#1] SMP PROCESSOR`,
        `${stamp(30939.877445)} CPU: 4 PID: 17 Comm: recvpollcq 4.0.0-lego-ys+ #715`,
        "",
      ].join("\r\n"),
    );
    await waitFor(
      () => /STUCK/.test(tmux.screen()) && /worker-stuck/.test(tmux.screen()),
      () => seen("the stuck worker"),
    );
    // The report closes when P goes quiet; then its alert is the newest.
    await waitFor(
      () => /CRIT crash/.test(tmux.screen()),
      () => seen("the crash alert"),
    );
    const screen = tmux.screen();
    assert.match(screen, /worker-stuck/);
    assert.match(screen, /rpc-timeout/);
    assert.match(screen, /hostile/, "the hostile line is shown as text");
    assert.equal(
      tmux.run("display", "-p", "-t", "lw", "#{pane_title}").includes("pwned"),
      false,
      "the title was not set",
    );

    // Filter the log to P.
    tmux.keys("f");
    await waitFor(
      () => /node: P/.test(tmux.screen()),
      () => seen("the node filter"),
    );

    // The crash is the newest alert, selected first: Enter opens its report.
    tmux.keys("Enter");
    await waitFor(
      () => /recvpollcq/.test(tmux.screen()) && /Esc back/.test(tmux.screen()),
      () => seen("the crash view"),
    );
    assert.match(tmux.screen(), /BUG: unable to handle kernel NULL pointer dereference in fit_poll_cq/);
    tmux.keys("Escape");
    // Shrunk to 80x24, the screen redraws to fit.
    tmux.run("resize-window", "-t", "lw", "-x", "80", "-y", "24");
    await waitFor(
      () => {
        const lines = tmux.screen().split("\n");
        return /Workers/.test(lines.join("\n")) && lines.every((l) => [...l].length <= 80);
      },
      () => seen("the screen at 80x24"),
    );
    tmux.keys("q");
    await waitFor(
      () => /LEGOWATCH-EXITED 0/.test(tmux.screen()),
      () => seen("legowatch to quit"),
    );
    assert.doesNotMatch(tmux.screen(), /Workers/, "the terminal is back as it was");
    await kill(socat);
  });
});
