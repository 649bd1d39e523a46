import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Monitor } from "../../src/live/monitor.js";
import type { IbMadEvent, ParsedEvent } from "../../src/parse/events.js";
import { Pipeline } from "../../src/pipeline.js";
import { FileSource } from "../../src/sources/file.js";
import { SshSource } from "../../src/sources/ssh.js";
import { TcpSource } from "../../src/sources/tcp.js";
import { TestSshd } from "./sshd.js";
import { freePort, kill, killAll, spawnTracked, tempDir, waitFor } from "./support.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const FAST = { minMs: 50, maxMs: 300, waitMs: 100 };
const stamp = (ts: number) => `[${ts.toFixed(6).padStart(12)}]`;
const mad = (ts: number, got: number) =>
  `${stamp(ts)} ib_mad_completion_handler 2344 got successful recv cq op 128 mad_got_one ${got}\n`;

describe("live monitoring with real consoles", { timeout: 120_000 }, () => {
  const tmp = tempDir("live");
  after(async () => {
    await killAll();
    tmp.remove();
  });

  it("an SSH console that drops and comes back delivers no line twice", async () => {
    const sshd = new TestSshd(join(tmp.dir, "sshd1"));
    mkdirSync(sshd.dir);
    await sshd.setup();
    // The ring buffer `dmesg -w` prints first, then what the kernel prints next.
    writeFileSync(sshd.ring, [1, 2, 3].map((i) => mad(i, i)).join(""));
    await sshd.start();
    const events: ParsedEvent[] = [];
    const pipeline = new Pipeline({ dedupReplays: true, onEvent: (e) => events.push(e) });
    const known = join(sshd.dir, "known_hosts");
    const source = new SshSource(
      {
        host: "127.0.0.1",
        port: sshd.port,
        identity: sshd.identity,
        knownHostsPath: known,
        configPath: join(sshd.dir, "no_config"),
        acceptNewHostKey: true,
        keepaliveMs: 1000,
      },
      FAST,
    );
    const monitor = new Monitor([{ name: "M", source }], pipeline, { tickMs: 50 });
    const gots = () => events.filter((e): e is IbMadEvent => e.type === "ib_mad").map((e) => e.got);
    try {
      monitor.start();
      appendFileSync(sshd.follow, mad(4, 4));
      await waitFor(() => gots().length >= 4, "the ring and the first new line");
      await sshd.stop();
      await waitFor(() => monitor.statuses.get("M")?.state === "retrying", "the drop to be noticed");
      // Printed while we were away: the new session's replay brings it, once.
      appendFileSync(sshd.follow, mad(5, 5));
      await sshd.start();
      await waitFor(() => gots().includes(5), "the line printed during the gap");
      appendFileSync(sshd.follow, mad(6, 6));
      await waitFor(() => gots().includes(6), "a line after the reconnect");
      assert.deepEqual(gots(), [1, 2, 3, 4, 5, 6]);
    } finally {
      await monitor.stop();
      await sshd.stop();
    }
  });

  it("P over serial and M over SSH: M's stuck worker and P's timeout are one story (headless JSON)", async () => {
    const dir = join(tmp.dir, "two");
    mkdirSync(dir);
    const sshd = new TestSshd(join(dir, "sshd"));
    mkdirSync(sshd.dir);
    await sshd.setup();
    await sshd.start();
    const home = join(dir, "home");
    mkdirSync(join(home, ".ssh"), { recursive: true });
    const socat = spawnTracked("socat", [
      `pty,raw,echo=0,link=${dir}/ttyA`,
      `pty,raw,echo=0,link=${dir}/ttyB`,
    ]);
    await waitFor(() => {
      try {
        openSync(`${dir}/ttyB`, "r+");
        return true;
      } catch {
        return false;
      }
    }, "socat's ptys");
    const cli = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(root, "src/cli.ts"),
        "--headless",
        "--json",
        "--accept-new-host-key",
        `P=serial:${dir}/ttyA?baud=115200`,
        `M=ssh://127.0.0.1:${sshd.port}?identity=${encodeURIComponent(sshd.identity)}`,
      ],
      {
        cwd: root,
        env: { ...process.env, HOME: home, SSH_AUTH_SOCK: "" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    cli.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    cli.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    const alerts = () =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map(
          (l) => JSON.parse(l) as { rule: string; node: string; evidence: { node: string; text: string }[] },
        );
    try {
      await waitFor(
        () => /P: connected/.test(err) && /M: connected/.test(err),
        `both consoles to connect:\n${err}`,
      );
      // M: the worker stops making progress, then the memory manager's own report.
      const m = [100, 105, 110, 115, 120]
        .map(
          (t, i) =>
            `${stamp(t)} hb: worker[2] max_nr_queued=${i + 1} nr_queued=${i + 1} in_handler=yes nr_thpool_reqs=${500 + i}\n`,
        )
        .join("");
      appendFileSync(
        sshd.follow,
        `${m}${stamp(121)} watchdog: worker[2] CPU 5 stucked\n${stamp(121.1)} watchdog:  common_header [op=0x20000000 src_nid:0]\n`,
      );
      await waitFor(
        () => alerts().some((a) => a.rule === "worker-stuck" && a.node === "M"),
        `worker-stuck on M:\n${out}\n${err}`,
      );
      // P: its pcache miss to M times out.
      const tty = openSync(`${dir}/ttyB`, "r+");
      writeSync(
        tty,
        `${stamp(30801.29616)} ibapi_send_reply() CPU:8 PID:19 timeout (30010 ms), caller: clflush_one+0x1c9/0x370\r\n`,
      );
      await waitFor(() => alerts().some((a) => a.rule === "stalled-rpc"), `stalled-rpc:\n${out}\n${err}`);
      const story = alerts().find((a) => a.rule === "stalled-rpc")!;
      assert.equal(story.node, "P");
      assert.deepEqual([...new Set(story.evidence.map((e) => e.node))].sort(), ["M", "P"]);
      assert.ok(alerts().some((a) => a.rule === "rpc-timeout" && a.node === "P"));
    } finally {
      cli.kill("SIGTERM");
      await new Promise((r) => cli.once("exit", r));
      await kill(socat);
      await sshd.stop();
    }
    assert.match(err, /M \(M\)|M: \d+ lines/, "a summary is printed when stopped");
  });

  it("binary noise, a 1 MB line and escape sequences on one console neither crash nor stall another", async () => {
    const port = await freePort();
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      sockets.push(s);
      const noise = Buffer.alloc(256 * 1024);
      for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) & 0xff;
      s.write(noise);
      s.write(`${"x".repeat(1024 * 1024)}\n`);
      s.write(
        "\u001b[31m\u001b]0;title\u0007[   10.000000] send request failed at connection 7 as 12\u001b[0m\r\n",
      );
    });
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    const file = join(tmp.dir, "quiet.log");
    writeFileSync(file, "");
    const events: ParsedEvent[] = [];
    const pipeline = new Pipeline({ dedupReplays: true, onEvent: (e) => events.push(e) });
    const monitor = new Monitor(
      [
        { name: "NOISY", source: new TcpSource({ host: "127.0.0.1", port }, FAST) },
        { name: "QUIET", source: new FileSource({ path: file }) },
      ],
      pipeline,
      { tickMs: 50 },
    );
    try {
      monitor.start();
      await waitFor(() => monitor.statuses.get("QUIET")?.state === "connected", "the file to be followed");
      appendFileSync(
        file,
        `${stamp(1)} word_count-pthr[29]: segfault at 0x4e842010 ip 0000000000420354 sp 00007fffb17f9bc0 error 6\n`,
      );
      await waitFor(
        () => events.some((e) => e.node === "QUIET" && e.type === "segfault"),
        "the quiet node's line",
      );
      await waitFor(
        () => events.some((e) => e.node === "NOISY" && e.type === "ib_error"),
        "the noisy node's real line",
      );
      const noisy = pipeline.engine.node("NOISY");
      assert.ok(noisy.lines > 2);
    } finally {
      await monitor.stop();
      for (const s of sockets) s.destroy();
      server.close();
      rmSync(file, { force: true });
    }
  });
});
