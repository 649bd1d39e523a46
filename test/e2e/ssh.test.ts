import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Monitor } from "../../src/live/monitor.js";
import { Pipeline } from "../../src/pipeline.js";
import { fingerprint } from "../../src/sources/known-hosts.js";
import { type SshOptions, SshSource } from "../../src/sources/ssh.js";
import { descendants } from "./sshd.js";
import { floodLines, freePort, killAll, RecordingSink, spawnTracked, tempDir, waitFor } from "./support.js";

const SSHD = "/usr/sbin/sshd";
const FAST = { minMs: 50, maxMs: 300, waitMs: 100 };
const PASSPHRASE = "correct horse";
const STDERR_LINE = "dmesg: read kernel buffer failed: Operation not permitted";

function killPid(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {}
}

/**
 * A TCP relay to sshd that can go silent without closing anything, like a link that died: the only way
 * the client can notice is its keepalives going unanswered.
 */
async function silentLinkProxy(
  target: number,
): Promise<{ port: number; freeze: () => void; close: () => void }> {
  const pairs: [Socket, Socket][] = [];
  const frozen: Socket[] = [];
  const server = createServer((c) => {
    const u = tcpConnect(target, "127.0.0.1");
    c.on("error", () => {});
    u.on("error", () => {});
    c.pipe(u);
    u.pipe(c);
    pairs.push([c, u]);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    port,
    freeze() {
      for (const [c, u] of pairs.splice(0)) {
        c.unpipe(u);
        u.unpipe(c);
        c.pause();
        u.pause();
        frozen.push(c, u);
      }
    },
    close() {
      for (const s of [...frozen, ...pairs.flat()]) s.destroy();
      server.close();
    },
  };
}
const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");

describe("ssh source against a private sshd", { timeout: 120_000 }, () => {
  const tmp = tempDir("ssh");
  const d = (name: string) => join(tmp.dir, name);
  const user = userInfo().username;
  const sources: SshSource[] = [];
  let port = 0;
  let sshd: ChildProcess | null = null;
  let sshdLog = "";
  let hostKey: Buffer;
  const savedAgent = process.env.SSH_AUTH_SOCK;

  async function startSshd(): Promise<void> {
    sshdLog = "";
    const child = spawnTracked(SSHD, ["-f", d("sshd_config"), "-D", "-e"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr?.on("data", (c: Buffer) => {
      sshdLog += c.toString();
    });
    sshd = child;
    await waitFor(() => sshdLog.includes("Server listening on") || child.exitCode !== null, "sshd to listen");
    assert.equal(child.exitCode, null, `sshd exited: ${sshdLog}`);
  }

  /** Drops every connection the hard way: the listener, its per-connection children and their commands. */
  async function killSshd(): Promise<void> {
    const child = sshd!;
    const pids = [child.pid!, ...descendants(child.pid!)];
    const exited = new Promise((r) => child.once("exit", r));
    for (const pid of pids) killPid(pid);
    await exited;
    await waitFor(() => !pids.some(alive), "sshd and its sessions to die");
  }

  function source(o: Partial<SshOptions>): { src: SshSource; sink: RecordingSink } {
    const src = new SshSource(
      {
        host: "127.0.0.1",
        port,
        user,
        identity: d("id_plain"),
        knownHostsPath: d("known_hosts"),
        configPath: d("none"),
        ...o,
      },
      FAST,
    );
    const sink = new RecordingSink();
    sources.push(src);
    src.start(sink);
    return { src, sink };
  }

  const lastStatus = (sink: RecordingSink) => sink.statuses.at(-1);
  const closedWith = async (sink: RecordingSink) => {
    await waitFor(() => lastStatus(sink)?.state === "closed", "the source to close");
    return lastStatus(sink)!;
  };

  before(async () => {
    // The developer's agent must not log the tests in; the agent test starts its own.
    delete process.env.SSH_AUTH_SOCK;
    mkdirSync("/run/sshd", { recursive: true });
    port = await freePort();
    const keygen = (file: string, pass = "") =>
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", pass, "-C", "", "-f", d(file)]);
    keygen("host_key");
    keygen("other_host_key");
    keygen("id_plain");
    keygen("id_enc", PASSPHRASE);
    keygen("id_stranger");
    hostKey = Buffer.from(readFileSync(d("host_key.pub"), "utf8").split(" ")[1]!, "base64");
    writeFileSync(
      d("authorized_keys"),
      readFileSync(d("id_plain.pub"), "utf8") + readFileSync(d("id_enc.pub"), "utf8"),
    );
    writeFileSync(d("ring"), "[    0.000000] Linux version 4.0.0-lego\n[    0.100000] ring line two\n");
    writeFileSync(d("follow"), "");
    // Behaves like `dmesg -w`: the ring, then new lines as they come. `SSH_ORIGINAL_COMMAND=fail` plays a
    // dmesg without permission. Its PID (kept by exec) is recorded so that cleanup can find it.
    writeFileSync(
      d("console.sh"),
      [
        "#!/bin/sh",
        `echo $$ >> '${d("pids")}'`,
        `if [ "$SSH_ORIGINAL_COMMAND" = fail ]; then echo 'starting' >&2; echo '${STDERR_LINE}' >&2; exit 1; fi`,
        // A console that prints a flood at once, then stays quiet.
        `if [ "$SSH_ORIGINAL_COMMAND" = flood ]; then cat '${d("flood")}'; exec sleep 600; fi`,
        `cat '${d("ring")}'`,
        `exec tail -n +1 -F '${d("follow")}'`,
        "",
      ].join("\n"),
    );
    chmodSync(d("console.sh"), 0o755);
    writeFileSync(
      d("sshd_config"),
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${d("host_key")}`,
        `PidFile ${d("sshd.pid")}`,
        `AuthorizedKeysFile ${d("authorized_keys")}`,
        "StrictModes no",
        "UsePAM no",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        `ForceCommand ${d("console.sh")}`,
        "",
      ].join("\n"),
    );
    await startSshd();
  });

  after(async () => {
    await Promise.all(sources.map((s) => s.stop()));
    if (sshd?.pid) for (const pid of descendants(sshd.pid)) killPid(pid);
    await killAll();
    if (existsSync(d("pids")))
      for (const pid of readFileSync(d("pids"), "utf8").split("\n").filter(Boolean)) killPid(Number(pid));
    tmp.remove();
    if (savedAgent === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = savedAgent;
  });

  const trustHost = () =>
    writeFileSync(d("known_hosts"), `[127.0.0.1]:${port} ssh-ed25519 ${hostKey.toString("base64")}\n`);

  it("streams the command's output, and reconnects after sshd and its sessions are killed", async () => {
    trustHost();
    const { src, sink } = source({});
    await waitFor(() => sink.text.includes("ring line two"), "the ring lines");
    assert.deepEqual(sink.statuses.slice(0, 2), [
      { state: "connecting" },
      { state: "connected", detail: `${user}@127.0.0.1:${port}` },
    ]);
    appendFileSync(d("follow"), "[    1.000000] appended while connected\n");
    await waitFor(() => sink.text.includes("appended while connected"), "an appended line");
    assert.equal(sink.reconnects, 0);

    await killSshd();
    const retry = (await waitFor(
      () => sink.statuses.find((s) => s.state === "retrying"),
      "a retrying status",
    ))!;
    assert.match(retry.error ?? "", /connection to .* lost/);
    await startSshd();
    await waitFor(() => sink.reconnects === 1, "reconnected()");
    appendFileSync(d("follow"), "[    2.000000] appended after restart\n");
    await waitFor(() => sink.text.includes("appended after restart"), "a line after the restart");
    // The new session replays the ring: deduplication is the monitor's job, not the source's.
    assert.equal(sink.text.split("ring line two").length - 1, 2);
    // Without a pty the remote command would outlive the session; stop() signals it to end.
    const commands = readFileSync(d("pids"), "utf8").split("\n").filter(Boolean).map(Number);
    await src.stop();
    assert.equal(lastStatus(sink)?.state, "closed");
    await waitFor(() => !commands.some(alive), "the remote command to end after stop()");
  });

  it("holds a flood back at the server when the monitor falls behind: every line counted, none dropped", async () => {
    trustHost();
    const LINES = 300_000; // 30 MB
    const parts: Buffer[] = [];
    for (let i = 0; i < LINES; i += 10_000) parts.push(floodLines(i, 10_000));
    writeFileSync(d("flood"), Buffer.concat(parts));
    let pauses = 0;
    const src = new (class extends SshSource {
      override pause(): void {
        pauses++;
        super.pause();
      }
    })(
      {
        host: "127.0.0.1",
        port,
        user,
        identity: d("id_plain"),
        knownHostsPath: d("known_hosts"),
        configPath: d("none"),
        command: "flood",
      },
      FAST,
    );
    sources.push(src);
    // A parser slower than any sshd here, whatever the machine: 5 µs more a line (at most 200,000 lines/s).
    const pipeline = new Pipeline({
      onLine: () => {
        const until = performance.now() + 0.005;
        while (performance.now() < until);
      },
    });
    let dropped = 0;
    // A small bound, so that a monitor that did not pause the channel would certainly drop.
    const monitor = new Monitor([{ name: "S", source: src }], pipeline, {
      maxQueuedBytes: 4 * 1024 * 1024,
      pauseAboveBytes: 1024 * 1024,
      resumeBelowBytes: 256 * 1024,
      onDropped: (_node, lines) => (dropped += lines),
    });
    monitor.start();
    try {
      await waitFor(
        () => dropped > 0 || pipeline.engine.node("S").lines >= LINES,
        () => `every line (${pipeline.engine.node("S").lines} of ${LINES} so far)`,
        100_000,
      );
    } finally {
      await monitor.stop();
    }
    assert.equal(dropped, 0, "no line dropped");
    assert.equal(pipeline.engine.node("S").lines, LINES);
    assert.ok(pauses > 0, "the flood was outrunning the parser, so the channel was paused");
    assert.equal(monitor.statuses.get("S")?.state, "closed");
  });

  it("notices a link that went silent through keepalives, and reconnects", async () => {
    const proxy = await silentLinkProxy(port);
    try {
      const key = `ssh-ed25519 ${hostKey.toString("base64")}`;
      writeFileSync(d("known_hosts"), `[127.0.0.1]:${proxy.port} ${key}\n`);
      const { src, sink } = source({ port: proxy.port, keepaliveMs: 200 });
      await waitFor(() => sink.text.includes("ring line two"), "the ring lines through the relay");
      proxy.freeze();
      const retry = (await waitFor(
        () => sink.statuses.find((s) => s.state === "retrying"),
        "a retrying status",
      ))!;
      assert.match(retry.error ?? "", /lost: Keepalive timeout/);
      await waitFor(() => sink.reconnects === 1, "reconnected() through a fresh relayed connection");
      await src.stop();
    } finally {
      proxy.close();
    }
  });

  it("refuses a host whose key changed, showing both fingerprints, without retrying", async () => {
    const other = Buffer.from(readFileSync(d("other_host_key.pub"), "utf8").split(" ")[1]!, "base64");
    writeFileSync(d("known_hosts"), `# test\n[127.0.0.1]:${port} ssh-ed25519 ${other.toString("base64")}\n`);
    const { sink } = source({ acceptNewHostKey: true });
    const closed = await closedWith(sink);
    assert.match(closed.error ?? "", /HOST KEY .* HAS CHANGED/);
    assert.ok(closed.error?.includes(fingerprint(other)), closed.error);
    assert.ok(closed.error?.includes(fingerprint(hostKey)), closed.error);
    assert.deepEqual(sink.states(), ["connecting", "closed"]);
    assert.equal(sink.text, "");
    // The file is left alone even with acceptNewHostKey.
    assert.ok(!readFileSync(d("known_hosts"), "utf8").includes(hostKey.toString("base64")));
  });

  it("refuses an unknown host unless told to accept it, then records the key for later connections", async () => {
    writeFileSync(d("known_hosts"), "");
    const refused = source({});
    const closed = await closedWith(refused.sink);
    assert.match(closed.error ?? "", /not in .*known_hosts.*--accept-new-host-key/);
    assert.ok(closed.error?.includes(fingerprint(hostKey)), closed.error);
    assert.equal(readFileSync(d("known_hosts"), "utf8"), "");

    const accepted = source({ acceptNewHostKey: true });
    await waitFor(() => accepted.sink.text.includes("ring line two"), "output after accepting the key");
    assert.equal(
      readFileSync(d("known_hosts"), "utf8"),
      `[127.0.0.1]:${port} ssh-ed25519 ${hostKey.toString("base64")}\n`,
    );

    const again = source({});
    await waitFor(() => again.sink.text.includes("ring line two"), "output with the recorded key");

    // A known_hosts file that does not exist yet is created private.
    const fresh = d("new-dir/known_hosts");
    const created = source({ acceptNewHostKey: true, knownHostsPath: fresh });
    await waitFor(() => created.sink.text.includes("ring line two"), "output with a created known_hosts");
    assert.equal(statSync(fresh).mode & 0o777, 0o600);
    await Promise.all([refused, accepted, again, created].map((s) => s.src.stop()));
  });

  it("fails with a clear message on an encrypted key without a passphrase prompt", async () => {
    trustHost();
    const { sink } = source({ identity: d("id_enc") });
    const closed = await closedWith(sink);
    assert.match(closed.error ?? "", /SSH key .*id_enc is encrypted and no passphrase was given/);
    assert.deepEqual(sink.states(), ["connecting", "closed"]);
  });

  it("asks for the passphrase of an encrypted key, again after a wrong one, and only once across reconnects", async () => {
    trustHost();
    const prompts: string[] = [];
    const answers = ["wrong", PASSPHRASE];
    const { src, sink } = source({
      identity: d("id_enc"),
      passphrase: async (prompt) => {
        prompts.push(prompt);
        return answers.shift() ?? null;
      },
    });
    await waitFor(() => sink.text.includes("ring line two"), "output with the decrypted key", 30_000);
    assert.equal(prompts.length, 2);
    assert.match(prompts[0]!, /^Enter passphrase for key '.*id_enc': $/);

    await killSshd();
    await startSshd();
    await waitFor(() => sink.reconnects === 1, "reconnected()");
    assert.equal(prompts.length, 2);
    await src.stop();
  });

  it("closes when the passphrase prompt is declined", async () => {
    trustHost();
    const { sink } = source({ identity: d("id_enc"), passphrase: async () => null });
    const closed = await closedWith(sink);
    assert.match(closed.error ?? "", /id_enc is encrypted/);
  });

  it("tries ssh-agent before key files", async () => {
    trustHost();
    const socket = d("agent.sock");
    spawnTracked("ssh-agent", ["-D", "-a", socket]);
    await waitFor(() => existsSync(socket), "ssh-agent's socket");
    execFileSync("ssh-add", ["-q", d("id_plain")], {
      env: { ...process.env, SSH_AUTH_SOCK: socket },
      stdio: "ignore",
    });
    process.env.SSH_AUTH_SOCK = socket;
    try {
      // The encrypted key would close the source if it were reached without a prompt.
      const { src, sink } = source({ identity: d("id_enc") });
      await waitFor(() => sink.text.includes("ring line two"), "output through the agent");
      await src.stop();
    } finally {
      delete process.env.SSH_AUTH_SOCK;
    }
  });

  it("honours a ~/.ssh/config-style alias for host, port, user and identity", async () => {
    trustHost();
    writeFileSync(
      d("ssh_config"),
      `Host lego-*\n  HostName 127.0.0.1\n  Port ${port}\n  User ${user}\n  IdentityFile ${d("id_plain")}\n`,
    );
    const { src, sink } = source({
      host: "lego-mnode",
      port: undefined,
      user: undefined,
      identity: undefined,
      configPath: d("ssh_config"),
    });
    await waitFor(() => sink.text.includes("ring line two"), "output through the alias");
    assert.equal(sink.statuses[1]?.detail, `${user}@127.0.0.1:${port}`);
    assert.equal(src.describe, "ssh lego-mnode");
    await src.stop();
  });

  it("retries when the command fails, with its last stderr line in the status", async () => {
    trustHost();
    const { src, sink } = source({ command: "fail" });
    const retry = (await waitFor(
      () => sink.statuses.find((s) => s.state === "retrying"),
      "a retrying status",
    ))!;
    assert.equal(retry.error, `"fail" on ${user}@127.0.0.1:${port} exited with status 1: ${STDERR_LINE}`);
    await waitFor(() => sink.statuses.filter((s) => s.state === "retrying").length >= 2, "a second attempt");
    await src.stop();
  });

  it("retries when the server refuses the key, saying what was tried", async () => {
    trustHost();
    const { src, sink } = source({ identity: d("id_stranger") });
    const retry = (await waitFor(
      () => sink.statuses.find((s) => s.state === "retrying"),
      "a retrying status",
    ))!;
    assert.match(
      retry.error ?? "",
      new RegExp(`^permission denied for ${user}@127\\.0\\.0\\.1:${port} \\(tried .*id_stranger\\)$`),
    );
    await src.stop();
  });

  it("refuses a missing identity file at once", async () => {
    const { sink } = source({ identity: d("no_such_key") });
    const closed = await closedWith(sink);
    assert.match(closed.error ?? "", /identity file .*no_such_key does not exist/);
  });
});
