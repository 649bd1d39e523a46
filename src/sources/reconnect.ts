import { setTimeout as sleep } from "node:timers/promises";
import { PauseLatch } from "./pause.js";
import type { Source, SourceSink } from "./source.js";

/** An error that retrying cannot fix (a changed host key, a bad URI): the source closes. */
export class FatalSourceError extends Error {
  override name = "FatalSourceError";
}

/** The thing being waited for is absent (a serial device unplugged, a file not created yet). */
export class WaitingError extends Error {
  override name = "WaitingError";
}

/** One live connection. */
export interface Connection {
  /** What it is connected to, for the status line. */
  detail: string;
  /** Settles when the connection ends: resolves on a clean end, rejects with the reason otherwise. */
  closed: Promise<void>;
  /** Ends it (used on stop). */
  close(): void;
}

/** Delays between attempts. */
export interface BackoffOptions {
  /** First delay, ms. */
  minMs: number;
  /** Cap, ms. */
  maxMs: number;
  /** Poll period while waiting for something absent, ms. */
  waitMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 500, maxMs: 30_000, waitMs: 1_000 };

/** A connection that lasted this long was a success: the next failure starts the backoff over. */
export const STABLE_MS = 5_000;

/**
 * Capped exponential backoff with jitter: attempt 0 waits about `minMs`, each failure doubles it up to
 * `maxMs`, and the delay is drawn from its upper half so that many sources do not retry in step.
 * Written out because it is four lines, smaller than any package that does only this.
 */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(o.maxMs, o.minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** One line of an error, for status lines. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split("\n")[0]!.trim() || (err instanceof Error ? err.name : "error");
}

/**
 * Keeps a source attached: connects, reports status, and after every drop or failure tries again
 * with backoff, until stopped. A {@link FatalSourceError} closes the source; a {@link WaitingError}
 * polls at a steady pace instead of backing off.
 */
export class Reconnector {
  private readonly abort = new AbortController();
  private current: Connection | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly connect: (signal: AbortSignal) => Promise<Connection>,
    private readonly sink: SourceSink,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.current?.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let attempt = 0;
    let sessions = 0;
    while (!signal.aborted) {
      this.sink.status({ state: "connecting" });
      let error: unknown = null;
      try {
        const conn = await this.connect(signal);
        if (signal.aborted) {
          conn.close();
          break;
        }
        this.current = conn;
        this.sink.status({ state: "connected", detail: conn.detail });
        if (sessions++ > 0) this.sink.reconnected();
        const since = Date.now();
        try {
          await conn.closed;
        } finally {
          // Only a connection that held counts as a success; one that drops at once keeps backing off.
          if (Date.now() - since >= STABLE_MS) attempt = 0;
        }
        error = new Error("connection closed");
      } catch (err) {
        error = err;
      } finally {
        this.current = null;
      }
      if (signal.aborted) break;
      if (error instanceof FatalSourceError) {
        this.sink.status({ state: "closed", error: oneLine(error) });
        return;
      }
      const waiting = error instanceof WaitingError;
      const delay = waiting ? this.backoff.waitMs : backoffDelay(attempt++, this.backoff);
      this.sink.status({ state: waiting ? "waiting" : "retrying", retryInMs: delay, error: oneLine(error) });
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        break;
      }
    }
    this.sink.status({ state: "closed" });
  }
}

/**
 * A source that keeps itself attached. Starting, pausing, resuming and stopping are the same for every
 * kind; a kind says only how to open one connection ({@link open}) and attaches what it reads to
 * {@link latch}, so that a pause holds across reconnects.
 */
export abstract class ReconnectingSource implements Source {
  abstract readonly kind: string;
  abstract readonly describe: string;
  protected readonly latch = new PauseLatch();
  private reconnector: Reconnector | null = null;

  constructor(private readonly backoff: BackoffOptions = DEFAULT_BACKOFF) {}

  /** Opens one connection, or fails with why (a {@link WaitingError} when what it needs is absent). */
  protected abstract open(sink: SourceSink, signal: AbortSignal): Promise<Connection>;

  start(sink: SourceSink): void {
    this.reconnector ??= new Reconnector((signal) => this.open(sink, signal), sink, this.backoff);
    this.reconnector.start();
  }

  pause(): void {
    this.latch.pause();
  }

  resume(): void {
    this.latch.resume();
  }

  async stop(): Promise<void> {
    await this.reconnector?.stop();
  }
}
