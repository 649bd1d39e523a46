import type { ChildProcess } from "node:child_process";
import { kill, spawnTracked } from "../test/e2e/support.js";
import { defer, isInterrupted } from "./cleanup.js";

/** A message from a benchmark's feeder process. */
export interface FeederMessage {
  type: string;
  [k: string]: unknown;
}

/**
 * A benchmark's feeder: a node child (`args` after the node binary) that writes the load and says how
 * it went over IPC. It has its own process group and is killed when the bench cleans up.
 */
export class FeederClient {
  private readonly child: ChildProcess;
  private readonly inbox: FeederMessage[] = [];
  private readonly waiters: {
    type: string;
    resolve: (m: FeederMessage) => void;
    reject: (e: Error) => void;
  }[] = [];
  private gone: Error | null = null;

  constructor(args: string[], cwd?: string) {
    // Once a signal is cleaning up, nothing new may start behind its back.
    if (isInterrupted()) throw new Error("interrupted");
    const child = spawnTracked(process.execPath, args, {
      cwd,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child = child;
    let spawnError: Error | null = null;
    child.once("error", (e) => {
      spawnError = e;
    });
    defer(() => kill(child, "SIGKILL"));
    child.on("message", (m: FeederMessage) => {
      this.inbox.push(m);
      this.deliver();
    });
    // `close` comes after the last message, unlike `exit`.
    child.once("close", (code, signal) => {
      this.gone = spawnError ?? new Error(`the feeder exited (${signal ?? `exit ${code}`})`);
      this.deliver();
    });
  }

  /** The next message of `type`, or an error once the feeder is gone without sending it. */
  next<T>(type: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for the feeder's "${type}"`)),
        timeoutMs,
      );
      this.waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as unknown as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.deliver();
    });
  }

  send(msg: FeederMessage): void {
    if (this.child.connected) this.child.send(msg);
  }

  private deliver(): void {
    for (const w of [...this.waiters]) {
      const i = this.inbox.findIndex((m) => m.type === w.type);
      if (i >= 0) {
        const [m] = this.inbox.splice(i, 1);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m!);
      } else if (this.gone) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.reject(this.gone);
      }
    }
  }
}
