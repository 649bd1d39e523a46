import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { readStamp } from "../parse/line.js";
import { PauseLatch } from "./pause.js";
import type { Source, SourceSink } from "./source.js";

/** Options of a {@link SimSource}. */
export interface SimOptions {
  /** Which simulated console: `P` or `M` of the built-in pair. */
  node: "P" | "M";
  /** How much faster than the kernel's own clock; `max` sends everything at once. */
  speed: number | "max";
  /** Start over (a reboot) after the last line. */
  loop: boolean;
}

/** The built-in pair's consoles, shipped with the package (see demo/README.md). */
const DEMO_DIR = fileURLToPath(new URL("../../demo/", import.meta.url));

/** Lines sent together: the kernel prints a block in one go, a few ms apart. */
const BATCH_MS = 20;

/**
 * A simulated LegoOS node: the built-in demo console of P or M, paced by its own printk stamps, so that
 * both nodes tell one story on a shared clock (M's handler stalls, its queue grows, P's RPC times out,
 * an IB error storm follows, P crashes in `fit_poll_cq`). Deterministic: the same lines every run.
 */
export class SimSource implements Source {
  readonly kind = "sim";
  readonly describe: string;
  private readonly abort = new AbortController();
  private run: Promise<void> | null = null;
  private readonly latch = new PauseLatch();

  constructor(private readonly o: SimOptions) {
    this.describe = `simulated ${o.node} at ${o.speed === "max" ? "full speed" : `${o.speed}x`}`;
  }

  start(sink: SourceSink): void {
    this.run ??= this.play(sink).catch(() => {});
  }

  /** Holds the console where it is; on resume it goes on from there at the same pace. */
  pause(): void {
    this.latch.pause();
  }

  resume(): void {
    this.latch.resume();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.run;
  }

  private async play(sink: SourceSink): Promise<void> {
    const lines = readFileSync(`${DEMO_DIR}${this.o.node}.log`, "utf8").split("\n");
    if (lines.at(-1) === "") lines.pop();
    const signal = this.abort.signal;
    sink.status({ state: "connected", detail: this.describe });
    try {
      do {
        await this.once(lines, sink, signal);
      } while (this.o.loop && !signal.aborted);
    } finally {
      sink.status({ state: "closed" });
    }
  }

  private async once(lines: readonly string[], sink: SourceSink, signal: AbortSignal): Promise<void> {
    const speed = this.o.speed;
    // Moved later by every pause, so that the lines after one keep their spacing instead of bursting.
    let started = Date.now();
    let first: number | null = null;
    let batch: string[] = [];
    const send = () => {
      if (batch.length > 0) sink.data(Buffer.from(`${batch.join("\n")}\n`));
      batch = [];
    };
    for (const line of lines) {
      if (signal.aborted) return;
      if (this.latch.paused) {
        send();
        const heldAt = Date.now();
        await this.latch.whenRunning(signal);
        if (signal.aborted) return;
        started += Date.now() - heldAt;
      }
      const ts = readStamp(line)?.ts ?? null;
      if (ts !== null && speed !== "max") {
        first ??= ts;
        const due = started + ((ts - first) * 1000) / speed;
        if (due - Date.now() > BATCH_MS) {
          send();
          await sleep(due - Date.now(), undefined, { signal });
        }
      }
      batch.push(line);
    }
    send();
  }
}
