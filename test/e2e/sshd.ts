import { type ChildProcess, execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { freePort, kill, spawnTracked, waitFor } from "./support.js";

/**
 * A private sshd on 127.0.0.1 whose only command behaves like `dmesg -w`: it prints a "ring" file,
 * then follows a file the test appends to. Killing it drops every session, as a crashed console host would.
 */
export class TestSshd {
  port = 0;
  private child: ChildProcess | null = null;
  private log = "";

  constructor(readonly dir: string) {}

  /** The user key to log in with. */
  get identity(): string {
    return join(this.dir, "id_user");
  }
  get ring(): string {
    return join(this.dir, "ring.log");
  }
  get follow(): string {
    return join(this.dir, "follow.log");
  }

  /** Writes keys, config and the dmesg-like script. */
  async setup(): Promise<void> {
    mkdirSync("/run/sshd", { recursive: true });
    const d = (n: string) => join(this.dir, n);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", d("host_key")]);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", this.identity]);
    writeFileSync(d("authorized_keys"), readFileSync(`${this.identity}.pub`));
    chmodSync(d("authorized_keys"), 0o600);
    writeFileSync(this.ring, "");
    writeFileSync(this.follow, "");
    writeFileSync(
      d("dmesg.sh"),
      `#!/bin/sh\ncat '${this.ring}'\nexec tail -n +1 -F '${this.follow}' 2>/dev/null\n`,
    );
    chmodSync(d("dmesg.sh"), 0o755);
    this.port = await freePort();
    writeFileSync(
      d("sshd_config"),
      [
        `Port ${this.port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${d("host_key")}`,
        `PidFile ${d("sshd.pid")}`,
        `AuthorizedKeysFile ${d("authorized_keys")}`,
        `AllowUsers ${userInfo().username}`,
        "StrictModes no",
        "UsePAM no",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        `ForceCommand ${d("dmesg.sh")}`,
      ].join("\n"),
    );
  }

  async start(): Promise<void> {
    this.log = "";
    const child = spawnTracked("/usr/sbin/sshd", ["-f", join(this.dir, "sshd_config"), "-D", "-e"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr?.on("data", (c: Buffer) => {
      this.log += c.toString();
    });
    this.child = child;
    await waitFor(
      () => this.log.includes("Server listening on") || child.exitCode !== null,
      "sshd to listen",
    );
    if (child.exitCode !== null) throw new Error(`sshd exited: ${this.log}`);
  }

  /** Kills the listener and every session under it (killing the listener alone leaves sessions up). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    for (const pid of descendants(child.pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await kill(child, "SIGKILL");
    this.child = null;
  }
}

/** The PIDs of a process's descendants, from /proc. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(ppid, [...(parent.get(ppid) ?? []), Number(name)]);
    } catch {}
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of parent.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}
