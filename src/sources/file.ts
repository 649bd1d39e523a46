import type { Stats } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { setTimeout as sleep, setImmediate as yieldToLoop } from "node:timers/promises";
import type { PauseLatch } from "./pause.js";
import {
  type BackoffOptions,
  type Connection,
  FatalSourceError,
  oneLine,
  ReconnectingSource,
  WaitingError,
} from "./reconnect.js";
import type { Source, SourceSink } from "./source.js";

/** Options of a {@link FileSource}. */
export interface FileOptions {
  /** The file to follow. */
  path: string;
  /** Read what the file already holds before following it; by default only what is appended is read. */
  fromStart?: boolean;
}

/** How often the file is looked at. Polling, because fs.watch misses events on network and overlay file systems. */
const POLL_MS = 200;
/** The most read at once, so that a huge append is delivered in slices between which other work runs. */
const CHUNK_BYTES = 1024 * 1024;
/**
 * How long the old file is still followed after its name disappeared, waiting for a new file under
 * that name (logrotate renames, then creates) and for a writer that has not reopened yet.
 */
const GONE_GRACE_MS = 3_000;

/** Which file (inode) was read up to where, so that reopening the same file resumes instead of replaying. */
interface Cursor {
  dev: number;
  ino: number;
  pos: number;
}

/**
 * A console written to a file (a conserver log, `script` output), followed like `tail -F`: by name,
 * by polling. It survives truncation (the file is read again from its start), rotation (the old file
 * is read to its end, then the new one from its start) and a file that is missing (status `waiting`
 * until it appears; a file that appears later is new, so it is read from its start).
 *
 * Truncation is noticed by the size falling below the read position: a file truncated and refilled
 * past that position between two polls looks like an append.
 *
 * Pausing skips looking at the file until resumed; what is appended meanwhile waits in the file.
 */
export class FileSource extends ReconnectingSource {
  readonly kind = "file";
  readonly describe: string;
  /**
   * The first file found starts at its end (unless `fromStart`); once a file has been opened, or the path
   * was seen missing, any file found under it is new and read from its start.
   */
  private startAtEnd: boolean;
  private readonly cursor: { current: Cursor | null } = { current: null };
  private last: Follower | null = null;

  constructor(
    private readonly options: FileOptions,
    backoff?: BackoffOptions,
  ) {
    super(backoff);
    this.describe = options.path;
    this.startAtEnd = !options.fromStart;
  }

  override async stop(): Promise<void> {
    await super.stop();
    // A follower that finished opening just as the source was stopped is closed without being awaited
    // by the reconnector: wait here until its file is closed.
    await this.last?.closed.catch(() => {});
  }

  protected async open(sink: SourceSink): Promise<Connection> {
    const { path } = this.options;
    const fh = await openRegular(path);
    if (fh === null) {
      this.startAtEnd = false;
      throw new WaitingError(`${path} does not exist`);
    }
    let st: Stats;
    try {
      st = await fh.stat();
    } catch (err) {
      await fh.close();
      throw err;
    }
    const c = this.cursor.current;
    let pos = 0;
    if (c && c.dev === st.dev && c.ino === st.ino && c.pos <= st.size) pos = c.pos;
    else if (this.startAtEnd) pos = st.size;
    this.startAtEnd = false;
    this.cursor.current = { dev: st.dev, ino: st.ino, pos };
    this.last = new Follower(path, fh, this.cursor, sink, this.latch);
    return this.last;
  }
}

/**
 * Opens `path` for reading if it names a regular file; null if it does not exist. Checked before
 * opening because opening a FIFO would block until a writer comes.
 */
async function openRegular(path: string): Promise<FileHandle | null> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new FatalSourceError(`${path} is not a regular file`);
    return await open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/**
 * Follows one path for as long as it can: reads appends, restarts at truncation, and moves to the new
 * file at rotation, all within one connection, so none of these shows as a reconnect.
 */
class Follower implements Connection {
  readonly detail: string;
  readonly closed: Promise<void>;
  private readonly abort = new AbortController();
  private readonly buf = Buffer.allocUnsafe(CHUNK_BYTES);
  /** While the name is missing: when the old file last had news (or the name went); 0 while the name is there. */
  private goneSince = 0;

  constructor(
    private readonly path: string,
    private fh: FileHandle,
    private readonly cursor: { current: Cursor | null },
    private readonly sink: SourceSink,
    private readonly latch: PauseLatch,
  ) {
    this.detail = path;
    this.closed = this.run();
    // Marked handled here; the reconnector awaits it too and sees the rejection.
    this.closed.catch(() => {});
  }

  close(): void {
    this.abort.abort();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    try {
      // The first look waits one turn, so the reconnector reports `connected` before anything else.
      await yieldToLoop();
      while (!signal.aborted) {
        await this.latch.whenRunning(signal);
        if (signal.aborted) break;
        const more = await this.step();
        if (signal.aborted) break;
        if (more) await yieldToLoop();
        else await sleep(POLL_MS, undefined, { signal }).catch(() => {});
      }
    } finally {
      await this.fh.close().catch(() => {});
    }
  }

  /** One look at the file; true when there is more to do right away. */
  private async step(): Promise<boolean> {
    const c = this.cursor.current!;
    const { size } = await this.fh.stat();
    if (size < c.pos) {
      c.pos = 0;
      this.sink.status({ state: "connected", detail: `${this.path} (truncated; reading from the start)` });
    }
    if (size > c.pos) {
      const { bytesRead } = await this.fh.read(this.buf, 0, Math.min(CHUNK_BYTES, size - c.pos), c.pos);
      if (bytesRead > 0) {
        // A copy: the sink may keep the chunk, and the buffer is reused.
        this.sink.data(new Uint8Array(this.buf.subarray(0, bytesRead)));
        c.pos += bytesRead;
        // An old file still being written to after its name went is kept for as long as that goes on.
        if (this.goneSince) this.goneSince = Date.now();
      }
      return c.pos < size;
    }
    // At the end of the file: the name is only checked here, so a rotated file is always read to its end first.
    return this.checkName(c);
  }

  /** Moves to a new file under the name, or notes that the name is gone. True when a new file was opened. */
  private async checkName(c: Cursor): Promise<boolean> {
    let st: Stats;
    try {
      st = await stat(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      return this.nameGone();
    }
    if (st.dev === c.dev && st.ino === c.ino) {
      if (this.goneSince) {
        this.goneSince = 0;
        this.sink.status({ state: "connected", detail: this.path });
      }
      return false;
    }
    const next = await openRegular(this.path);
    if (next === null) return this.nameGone();
    let nst: Stats;
    try {
      nst = await next.stat();
    } catch (err) {
      await next.close();
      throw err;
    }
    // The old file may have grown since it was last looked at: finish it before moving on.
    if ((await this.fh.stat()).size > c.pos) {
      await next.close();
      return true;
    }
    await this.fh.close().catch(() => {});
    this.fh = next;
    this.cursor.current = { dev: nst.dev, ino: nst.ino, pos: 0 };
    this.goneSince = 0;
    this.sink.status({
      state: "connected",
      detail: `${this.path} (rotated; reading the new file from its start)`,
    });
    return true;
  }

  /** The name is gone: keep the old file for a while, then end so that the reconnector waits for the name. */
  private nameGone(): false {
    const now = Date.now();
    if (!this.goneSince) {
      this.goneSince = now;
      this.sink.status({ state: "waiting", detail: `${this.path} (gone; still reading the old file)` });
    } else if (now - this.goneSince > GONE_GRACE_MS) {
      throw new WaitingError(`${this.path} was removed`);
    }
    return false;
  }
}

/**
 * A console piped into legowatch (`ssh node3 dmesg -w | legowatch -`). Read until its end, then
 * `closed`: there is nothing to reconnect to.
 */
export class StdinSource implements Source {
  readonly kind = "stdin";
  readonly describe = "stdin";
  private sink: SourceSink | null = null;
  private done = false;
  private paused = false;

  /** `input` is the stream to read, by default the process's standard input. */
  constructor(private readonly input: Readable = process.stdin) {}

  start(sink: SourceSink): void {
    if (this.sink) return;
    this.sink = sink;
    sink.status({ state: "connected", detail: this.describe });
    // Paused before the data listener goes on, which would otherwise set the stream flowing.
    if (this.paused) this.input.pause();
    this.input.on("data", this.onData);
    this.input.once("end", this.onEnd);
    // Never removed: an error event without a listener would crash the process, even after stop.
    this.input.on("error", this.onError);
    if (!this.paused) this.input.resume();
  }

  /** Stops reading the stream; a pipe then fills and its writer blocks. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    if (this.sink && !this.done) this.input.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.sink && !this.done) this.input.resume();
  }

  /**
   * Stops reading. The stream is paused, not destroyed: it belongs to the caller (or is the process's
   * own standard input), and a paused stdin does not keep the process alive.
   */
  async stop(): Promise<void> {
    this.detach();
    this.input.pause();
    this.finish();
  }

  private readonly onData = (chunk: Buffer | string): void => {
    this.sink?.data(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  };

  private readonly onEnd = (): void => {
    this.detach();
    this.finish();
  };

  private readonly onError = (err: Error): void => {
    this.detach();
    this.finish(oneLine(err));
  };

  private detach(): void {
    this.input.off("data", this.onData);
    this.input.off("end", this.onEnd);
  }

  private finish(error?: string): void {
    if (this.done || !this.sink) return;
    this.done = true;
    this.sink.status(error ? { state: "closed", error } : { state: "closed" });
  }
}
