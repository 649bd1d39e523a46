import { closeSync, openSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { Worker } from "node:worker_threads";
import { gzipSync } from "node:zlib";
import {
  type RecordedStatus,
  redactSourceUri,
  SESSION_FORMAT,
  SESSION_VERSION,
  type SessionHeader,
  type SessionNode,
} from "./session.js";

/** Options of a {@link SessionWriter}. */
export interface SessionWriterOptions {
  /** The watched nodes and their source URIs (secrets are removed before they are written). */
  nodes: readonly SessionNode[];
  /** Recording start, ms since the epoch; default now. */
  started?: number;
  /** Default `os.hostname()`. */
  host?: string;
  /**
   * Start a new file (`FILE.1`, `FILE.2`...) once the current one is larger than this many bytes (on
   * disk: compressed bytes for `.gz`).
   */
  maxBytes?: number;
  /** The longest a record waits in memory before it is written, ms; default 200. */
  flushMs?: number;
  /**
   * A write failed (disk full...). Recording stops there; the watch goes on. Default: the error is
   * kept and {@link SessionWriter.close} rejects with it.
   */
  onError?: (err: Error) => void;
}

/** A record handed to the recording thread: a chunk's length (its bytes are in the batch), or a JSON line. */
export type BatchItem =
  | { t: number; n: string; len: number }
  | { n: string; json: string; cut: boolean; len?: undefined };

/** What the recording thread is sent at each flush. */
export interface Batch {
  items: BatchItem[];
  /** The chunks' bytes, one after another. */
  data: ArrayBuffer;
  /** Write every node's unfinished line too (a timed flush, or the last). */
  ends: boolean;
}

/** How the recording thread starts. */
export interface ThreadData {
  path: string;
  /** Bytes of the first file so far (its header). */
  bytes: number;
  gzip: boolean;
  maxBytes: number;
  /** The header line, with its line end, that every part of the session starts with. */
  header: string;
}

/** What the recording thread says back. */
export type ThreadReply =
  | { type: "ready" }
  | { type: "done"; bytes: number }
  | { type: "file"; path: string }
  | { type: "error"; message: string; code?: string }
  | { type: "closed" };

/** Pending bytes above which a flush happens right away, so a flood cannot pile up in memory. */
const FLUSH_ABOVE = 64 * 1024;
/** Bytes handed over but not yet written above which recording gives up rather than eat the memory. */
const BEHIND_LIMIT = 256 * 1024 * 1024;

/** The recording thread: its module sits next to this one, compiled (.js) or run from source (.ts). */
function startThread(workerData: ThreadData): Worker {
  const ext = import.meta.url.slice(import.meta.url.lastIndexOf("."));
  const url = new URL(`./writer-thread${ext}`, import.meta.url);
  if (ext !== ".ts") return new Worker(url, { workerData });
  // From source (tests, benchmarks), the thread loads tsx itself: Node 20 does not hand the loader
  // hooks of `--import tsx` on to workers.
  const load = `import("tsx/esm/api").then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(load, { eval: true, workerData });
}

/**
 * Writes a session file, append-only (the format is in `session.ts`). Records are handed to a thread of
 * their own at least every `flushMs` (200 ms) and on {@link SessionWriter.close}; the thread writes each
 * batch as it comes, so a killed recorder loses at most that much. The first file is opened, and its
 * header written, in the constructor: a path that cannot be written to throws there.
 */
export class SessionWriter {
  /** The header every file of this session starts with. */
  readonly header: SessionHeader;
  /** The files written so far, in order (`FILE`, then `FILE.1`...); complete once closed. */
  readonly files: string[] = [];
  private readonly thread: Worker;
  private items: BatchItem[] = [];
  private chunks: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes handed to the thread and not yet written. */
  private behind = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly flushMs: number;
  private readonly middles = new Map<string, string>();
  private error: Error | null = null;
  private closed = false;
  private readonly onError: ((err: Error) => void) | null;
  private readonly done: Promise<void>;
  /**
   * Settles once the recording thread has loaded (records written before are kept and written then).
   * A benchmark waits for it so that starting the thread is not counted against recording.
   */
  readonly ready: Promise<void>;

  constructor(
    readonly path: string,
    o: SessionWriterOptions,
  ) {
    this.header = {
      format: SESSION_FORMAT,
      version: SESSION_VERSION,
      started: o.started ?? Date.now(),
      host: o.host ?? hostname(),
      nodes: o.nodes.map((n) => ({ name: n.name, source: redactSourceUri(n.source) })),
    };
    this.flushMs = o.flushMs ?? 200;
    this.onError = o.onError ?? null;
    const gzip = /\.gz$/i.test(path);
    const header = `${JSON.stringify(this.header)}\n`;
    const fd = openSync(path, "w");
    let bytes = 0;
    try {
      const data = gzip ? gzipSync(header) : Buffer.from(header, "utf8");
      while (bytes < data.length) bytes += writeSync(fd, data, bytes);
    } finally {
      closeSync(fd);
    }
    this.files.push(path);
    const init: ThreadData = { path, bytes, gzip, maxBytes: o.maxBytes ?? Infinity, header };
    this.thread = startThread(init);
    // A recorder must not keep a process alive that is otherwise done; close() holds it while it ends.
    this.thread.unref();
    let loaded = () => {};
    this.ready = new Promise((resolve) => {
      loaded = resolve;
    });
    this.done = new Promise((resolve) => {
      this.thread.on("message", (m: ThreadReply) => {
        if (m.type === "ready") loaded();
        else if (m.type === "done") this.behind -= m.bytes;
        else if (m.type === "file") this.files.push(m.path);
        else if (m.type === "error") this.fail(Object.assign(new Error(m.message), { code: m.code }));
        else resolve();
      });
      this.thread.on("error", (err) => {
        this.fail(err);
        resolve();
      });
      this.thread.on("exit", () => resolve());
    });
    this.done.then(loaded);
  }

  /** A chunk of `node`'s console received at `t` (ms). Kept, not copied: sources never reuse a chunk. */
  chunk(t: number, node: string, bytes: Uint8Array | string): void {
    if (bytes.length === 0 || this.closed || this.error) return;
    const data =
      typeof bytes === "string"
        ? Buffer.from(bytes, "utf8")
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    this.chunks.push(data);
    this.pendingBytes += data.length;
    this.items.push({ t, n: node, len: data.length });
    this.added();
  }

  /** `node` was quiet at `t` and its pending text was completed. */
  idle(t: number, node: string): void {
    this.record(node, `{"t":${t}${this.middle(node)}"i":1}`, true);
  }

  /** A source status change at `t`. */
  status(t: number, node: string, s: RecordedStatus): void {
    const rec: RecordedStatus = { state: s.state };
    if (s.detail !== undefined) rec.detail = s.detail;
    if (s.error !== undefined) rec.error = s.error;
    if (s.retryInMs !== undefined) rec.retryInMs = s.retryInMs;
    this.record(node, JSON.stringify({ t, n: node, s: rec }), false);
  }

  /** The node's source reconnected at `t`. */
  reconnect(t: number, node: string): void {
    this.record(node, `{"t":${t}${this.middle(node)}"r":1}`, true);
  }

  /**
   * Hands what is buffered to the recording thread. With `ends`, unfinished lines are written too, in
   * pieces that a reader joins again.
   */
  flush(ends = false): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.error || (this.items.length === 0 && !ends)) return;
    // Its own memory, not a slice of Node's shared pool, so that it can be handed over without a copy.
    const data = Buffer.allocUnsafeSlow(this.pendingBytes);
    let at = 0;
    for (const c of this.chunks) {
      data.set(c, at);
      at += c.length;
    }
    const batch: Batch = { items: this.items, data: data.buffer as ArrayBuffer, ends };
    this.items = [];
    this.chunks = [];
    this.pendingBytes = 0;
    this.behind += data.length;
    if (this.behind > BEHIND_LIMIT) {
      this.fail(
        new Error(
          `the disk does not keep up: ${Math.round(this.behind / 2 ** 20)} MB received and not yet written; recording stopped`,
        ),
      );
      return;
    }
    this.thread.postMessage(batch, [batch.data]);
  }

  /** Writes the rest and closes the file. Rejects with the first write error, if there was one and no `onError`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush(true);
    this.closed = true;
    this.thread.ref();
    this.thread.postMessage({ type: "close" });
    await this.done;
    await this.thread.terminate();
    if (this.error && !this.onError) throw this.error;
  }

  private record(node: string, json: string, cut: boolean): void {
    if (this.closed || this.error) return;
    this.items.push({ n: node, json, cut });
    this.added();
  }

  /** `,"n":"NODE",` */
  private middle(node: string): string {
    let m = this.middles.get(node);
    if (m === undefined) {
      m = `,"n":${JSON.stringify(node)},`;
      this.middles.set(node, m);
    }
    return m;
  }

  private added(): void {
    // A flood is handed over in 64 KiB steps; the timed flush still comes 200 ms on, for the line
    // the last step ended in the middle of.
    if (this.pendingBytes >= FLUSH_ABOVE) this.flush();
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(true), this.flushMs);
      this.timer.unref();
    }
  }

  private fail(err: Error): void {
    if (this.error) return;
    this.error = err;
    this.items = [];
    this.chunks = [];
    this.pendingBytes = 0;
    this.onError?.(err);
  }
}
