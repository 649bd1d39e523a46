import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A free TCP port on 127.0.0.1, from the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Polls `cond` until it is truthy, or fails after `ms` with `what` (computed then, when a function) in the message. */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  what: string | (() => string),
  ms = 30_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > until) {
      throw new Error(`timed out after ${ms} ms waiting for ${typeof what === "function" ? what() : what}`);
    }
    await sleep(25);
  }
}

const started = new Set<ChildProcess>();

/** Spawns a helper process the test owns; {@link killAll} ends it by PID (and its group). */
export function spawnTracked(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: "ignore", detached: true, ...opts });
  started.add(child);
  child.once("exit", () => started.delete(child));
  return child;
}

/** Kills a tracked process and its process group, and waits for it to exit. */
export async function kill(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
  await exited;
}

/** Kills every process the tests started that is still running. */
export async function killAll(): Promise<void> {
  await Promise.all([...started].map((c) => kill(c, "SIGKILL")));
}

/** A temporary directory removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `legowatch-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Collects what a source sends to its sink, for assertions. */
export class RecordingSink {
  text = "";
  readonly statuses: { state: string; error?: string; detail?: string; retryInMs?: number }[] = [];
  reconnects = 0;
  droppedBytes = 0;

  data(chunk: Uint8Array): void {
    this.text += Buffer.from(chunk).toString("utf8");
  }
  status(s: { state: string; error?: string; detail?: string; retryInMs?: number }): void {
    this.statuses.push(s);
  }
  reconnected(): void {
    this.reconnects++;
  }
  dropped(bytes: number): void {
    this.droppedBytes += bytes;
  }
  states(): string[] {
    return this.statuses.map((s) => s.state);
  }
}

/** `count` console lines of 100 bytes each (newline included), numbered from `from`, for floods. */
export function floodLines(from: number, count: number): Buffer {
  let text = "";
  for (let i = from; i < from + count; i++) {
    const us = 1_000_000 + i;
    const stamp = `[${String(Math.floor(us / 1e6)).padStart(5)}.${String(us % 1e6).padStart(6, "0")}]`;
    text += `${`${stamp} flood line ${i} `.padEnd(99, "x")}\n`;
  }
  return Buffer.from(text, "latin1");
}
