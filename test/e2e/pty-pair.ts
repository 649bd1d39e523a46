import type { ChildProcess } from "node:child_process";
import { existsSync, lstatSync, rmSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { join } from "node:path";
import { kill, spawnTracked, waitFor } from "./support.js";

/** A socat pty pair: the source opens `a`, the test writes to `b` as the node's console would. */
export class PtyPair {
  readonly a: string;
  readonly b: string;
  private socat: ChildProcess | null = null;
  private writer: FileHandle | null = null;

  constructor(dir: string) {
    this.a = join(dir, "ttyA");
    this.b = join(dir, "ttyB");
  }

  async start(): Promise<void> {
    this.socat = spawnTracked("socat", [`pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`]);
    await waitFor(() => existsSync(this.a) && existsSync(this.b), "socat's pty links");
  }

  /**
   * Writes to the far end. The handle stays open between writes: closing the last opener of a pty
   * makes socat see end of file and exit.
   */
  async write(text: string): Promise<void> {
    this.writer ??= await open(this.b, "w");
    await this.writer.write(text);
  }

  /** Kills socat the hard way (as an unplugged adapter vanishes) and removes the links it leaves. */
  async unplug(): Promise<void> {
    await this.writer?.close();
    this.writer = null;
    if (this.socat) await kill(this.socat, "SIGKILL");
    this.socat = null;
    for (const link of [this.a, this.b]) if (isLink(link)) rmSync(link, { force: true });
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
