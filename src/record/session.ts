import { closeSync, createReadStream, existsSync, openSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { hostname } from "node:os";
import type { Readable } from "node:stream";
import { createGunzip, createGzip, type Gzip, constants as zlibConstants } from "node:zlib";
import type { SourceState } from "../sources/source.js";

/**
 * A legowatch session file: JSON lines. The first line is a {@link SessionHeader}; every other line is
 * a {@link SessionRecord}, in the order the pipeline saw them:
 *
 * - `{"t":<ms>,"n":"P","len":<N>}`, then the next line: exactly N bytes of node P's console as received,
 *   then a `\n` (version 2). The bytes are the console's own, not JSON: every byte survives (broken
 *   UTF-8, escape sequences), the text stays readable with `less` and `grep`, and writing it costs a copy,
 *   so recording a flood stays cheap. Only these bytes are not JSON; a reader must skip them by length;
 * - `{"t","n","i":1}`: the node was quiet long enough for its partial line and half-printed reports to be
 *   completed (version 2);
 * - `{"t":<ms>,"n":"P","l":"<raw line>"}`: a physical console line, without its line end (version 1);
 * - `{"t","n","s":{"state","detail"?,"error"?,"retryInMs"?}}`: a source status change;
 * - `{"t","n","r":1}`: the node's source reconnected (what follows may repeat earlier lines).
 *
 * A file may be gzip-compressed (written so when its name ends in `.gz`; recognised on reading by its
 * magic bytes). A session cut by `maxBytes` continues in `FILE.1`, `FILE.2`..., each starting with the
 * same header.
 */
export const SESSION_FORMAT = "legowatch-session";
export const SESSION_VERSION = 2;

/** A watched node as the header lists it; `source` has any secret removed. */
export interface SessionNode {
  name: string;
  source: string;
}

/** The first line of a session file. */
export interface SessionHeader {
  format: typeof SESSION_FORMAT;
  version: number;
  /** When recording started, ms since the epoch. */
  started: number;
  host: string;
  nodes: SessionNode[];
}

/** A source status as recorded (the monitor's `NodeStatus` without its node and derived gap). */
export interface RecordedStatus {
  state: SourceState;
  detail?: string;
  error?: string;
  retryInMs?: number;
}

/** A chunk of console bytes as received (`b`: the bytes after a `len` record). */
export interface ChunkRecord {
  t: number;
  n: string;
  b: Buffer;
}

/** A quiet node's pending text was completed. */
export interface IdleRecord {
  t: number;
  n: string;
  i: 1;
}

/** A console line as received (version 1 sessions). */
export interface LineRecord {
  t: number;
  n: string;
  l: string;
}

/** A source status change. */
export interface StatusRecord {
  t: number;
  n: string;
  s: RecordedStatus;
}

/** A reconnect of a node's source. */
export interface ReconnectRecord {
  t: number;
  n: string;
  r: 1;
}

export type SessionRecord = ChunkRecord | IdleRecord | LineRecord | StatusRecord | ReconnectRecord;

/** What {@link readSession} yields: the header first, then records. */
export type SessionItem = SessionHeader | SessionRecord;

export const isHeader = (x: SessionItem): x is SessionHeader => "format" in x;
export const isChunk = (x: SessionItem): x is ChunkRecord => "b" in x;
export const isIdle = (x: SessionItem): x is IdleRecord => "i" in x;
export const isLine = (x: SessionItem): x is LineRecord => "l" in x;
export const isStatus = (x: SessionItem): x is StatusRecord => "s" in x;
export const isReconnect = (x: SessionItem): x is ReconnectRecord => "r" in x;

// ---------------------------------------------------------------------------------------------------
// Secrets

/** Query and option names whose values are secrets. */
const SECRET_NAMES =
  "password|passwd|pass|pwd|passphrase|token|access_token|auth_token|api_key|apikey|secret";
/** `password=...` in a query string (or anywhere `?`/`&`/`;` starts a parameter). */
const SECRET_PARAM = new RegExp(`([?&;](?:${SECRET_NAMES})=)[^&#;\\s]*`, "gi");
/** `scheme://user:password@` anywhere (a URI, or a URL inside a `cmd:` command line). */
const USERINFO_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:@/?#\s]*):[^@/?#\s]*@/gi;
/** `--password X`, `--password=X`, `--token X`... in a command line. */
const SECRET_OPTION = new RegExp(
  `((?<![\\w-])--?(?:${SECRET_NAMES})(?:=|\\s+))(?:"[^"]*"|'[^']*'|\\S+)`,
  "gi",
);
/** `IPMI_PASSWORD=X`, `TOKEN=X` environment assignments in a command line. */
const SECRET_ENV = /(\b[A-Z_]*(?:PASSWORD|PASSWD|PASS|TOKEN|SECRET)=)(?:"[^"]*"|'[^']*'|\S+)/g;
/** `ipmitool ... -P X` and `sshpass -p X`: the password options of the usual console commands. */
const IPMITOOL_P = /(\bipmitool\b[^|;&]*?\s-P\s*)(?:"[^"]*"|'[^']*'|\S+)/g;
const SSHPASS_P = /(\bsshpass\s+-p\s*)(?:"[^"]*"|'[^']*'|\S+)/g;

const REDACTED = "***";

/**
 * A source URI with its secrets replaced by `***`, for a session header: the password of
 * `user:password@`, the values of `password=`, `pass=`, `token=` (and similar) parameters, and in a
 * `cmd:` command line the usual password options (`--password X`, `ipmitool -P X`, `sshpass -p X`,
 * `...PASSWORD=X`). Everything else is kept as written (`identity=` is a path, not a secret).
 */
export function redactSourceUri(uri: string): string {
  let s = uri.replace(USERINFO_PASSWORD, `$1:${REDACTED}@`).replace(SECRET_PARAM, `$1${REDACTED}`);
  if (/^cmd:/i.test(s)) {
    s = s
      .replace(SECRET_OPTION, `$1${REDACTED}`)
      .replace(SECRET_ENV, `$1${REDACTED}`)
      .replace(IPMITOOL_P, `$1${REDACTED}`)
      .replace(SSHPASS_P, `$1${REDACTED}`);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------
// Writing

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
   * disk: compressed bytes for `.gz`, where the size is known only after each flush).
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

const NEWLINE = Buffer.from("\n");

/** Pending bytes above which a flush happens right away, so a flood cannot pile up in memory. */
const FLUSH_ABOVE = 64 * 1024;

/** One file being written: plain with synchronous writes, or through a gzip stream. */
interface FileSink {
  /** Bytes on disk so far. */
  readonly bytes: number;
  write(data: Buffer): void;
  close(): Promise<void>;
}

/**
 * Plain file: each flush is one synchronous `write(2)`, so what was flushed is in the file even if the
 * process is killed right after. (Writing from the thread pool instead was slower under a flood on two
 * cores: the copy costs the same, and the queue only grew.)
 */
class PlainSink implements FileSink {
  bytes = 0;
  private readonly fd: number;

  constructor(path: string) {
    this.fd = openSync(path, "w");
  }

  write(data: Buffer): void {
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off);
    this.bytes += data.length;
  }

  async close(): Promise<void> {
    closeSync(this.fd);
  }
}

/**
 * Gzip file: every flush ends with `Z_SYNC_FLUSH`, which pushes all the compressed bytes so far out to
 * a byte boundary, so a killed process still leaves a prefix that decompresses (only the trailer is
 * missing). zlib works off the main thread; its output is written synchronously as it comes.
 */
class GzipSink implements FileSink {
  bytes = 0;
  private readonly fd: number;
  private readonly gz: Gzip;
  private readonly done: Promise<void>;

  constructor(path: string, onError: (err: Error) => void) {
    this.fd = openSync(path, "w");
    this.gz = createGzip();
    this.gz.on("data", (chunk: Buffer) => {
      try {
        let off = 0;
        while (off < chunk.length) off += writeSync(this.fd, chunk, off);
        this.bytes += chunk.length;
      } catch (err) {
        onError(err as Error);
      }
    });
    this.done = new Promise((resolve, reject) => {
      this.gz.once("end", resolve);
      this.gz.once("error", reject);
    });
    this.done.catch(onError);
  }

  write(data: Buffer): void {
    this.gz.write(data);
    this.gz.flush(zlibConstants.Z_SYNC_FLUSH);
  }

  async close(): Promise<void> {
    this.gz.end();
    try {
      await this.done;
    } finally {
      closeSync(this.fd);
    }
  }
}

/**
 * Writes a session file, append-only. Records are buffered and written at least every `flushMs` (200 ms)
 * and on {@link SessionWriter.close}, so a killed recorder loses at most that much. The header is written
 * at once. Files are opened (and truncated) when they are started: a path that cannot be written to
 * throws from the constructor.
 */
export class SessionWriter {
  private readonly middles = new Map<string, string>();
  /** The header every file of this session starts with. */
  readonly header: SessionHeader;
  /** The files written so far, in order (`FILE`, then `FILE.1`...). */
  readonly files: string[] = [];
  private sink: FileSink;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingRecords = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly gzip: boolean;
  private readonly maxBytes: number;
  private readonly flushMs: number;
  private readonly closing: Promise<void>[] = [];
  private error: Error | null = null;
  private closed = false;
  private readonly onError: ((err: Error) => void) | null;
  /** Records in the current file: a file is never cut before it holds one, whatever `maxBytes`. */
  private records = 0;

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
    this.gzip = /\.gz$/i.test(path);
    this.maxBytes = o.maxBytes ?? Number.POSITIVE_INFINITY;
    this.flushMs = o.flushMs ?? 200;
    this.onError = o.onError ?? null;
    this.sink = this.startFile(path);
  }

  /** A chunk of `node`'s console received at `t` (ms). Kept, not copied: sources never reuse a chunk. */
  chunk(t: number, node: string, bytes: Uint8Array | string): void {
    if (bytes.length === 0) return;
    // The hot path while recording a flood: a short JSON line, then the bytes themselves, no encoding.
    let middle = this.middles.get(node);
    if (middle === undefined) {
      middle = `,"n":${JSON.stringify(node)},"len":`;
      this.middles.set(node, middle);
    }
    const data =
      typeof bytes === "string"
        ? Buffer.from(bytes, "utf8")
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    this.append(`{"t":${JSON.stringify(t)}${middle}${data.length}}`, data);
  }

  /** `node` was quiet at `t` and its pending text was completed. */
  idle(t: number, node: string): void {
    this.append(JSON.stringify({ t, n: node, i: 1 }));
  }

  /** A source status change at `t`. */
  status(t: number, node: string, s: RecordedStatus): void {
    const rec: RecordedStatus = { state: s.state };
    if (s.detail !== undefined) rec.detail = s.detail;
    if (s.error !== undefined) rec.error = s.error;
    if (s.retryInMs !== undefined) rec.retryInMs = s.retryInMs;
    this.append(JSON.stringify({ t, n: node, s: rec }));
  }

  /** The node's source reconnected at `t`. */
  reconnect(t: number, node: string): void {
    this.append(JSON.stringify({ t, n: node, r: 1 }));
  }

  /** Writes what is buffered now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0 || this.error) return;
    const data = Buffer.concat(this.pending, this.pendingBytes);
    this.records += this.pendingRecords;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingRecords = 0;
    this.guard(() => this.sink.write(data));
    // gzip's size is known once zlib has answered, so a .gz file is cut at a later flush.
    if (this.sink.bytes > this.maxBytes && this.records > 0) this.rotate();
  }

  /** Flushes and closes every file. Rejects with the first write error, if there was one and no `onError`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.closing.push(this.sink.close().catch((err) => this.fail(err as Error)));
    await Promise.all(this.closing);
    if (this.error && !this.onError) throw this.error;
  }

  /** One record: its JSON line, and for a chunk the bytes that follow it. */
  private append(json: string, data?: Buffer): void {
    if (this.closed || this.error) return;
    const line = Buffer.from(`${json}\n`, "utf8");
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (data) {
      this.pending.push(data, NEWLINE);
      this.pendingBytes += data.length + 1;
    }
    this.pendingRecords++;
    // A plain file's size is exact: cut it right after the record that takes it over the limit.
    if (!this.gzip && this.sink.bytes + this.pendingBytes > this.maxBytes) {
      this.flush();
      return;
    }
    if (this.pendingBytes >= FLUSH_ABOVE) {
      this.flush();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      // A recorder must not keep a process alive that is otherwise done; close() flushes the rest.
      this.timer.unref();
    }
  }

  private rotate(): void {
    const old = this.sink;
    this.closing.push(old.close().catch((err) => this.fail(err as Error)));
    this.guard(() => {
      this.sink = this.startFile(`${this.path}.${this.files.length}`);
    });
  }

  /** Opens a file and writes the header, flushed at once. */
  private startFile(path: string): FileSink {
    const onError = (err: Error) => this.fail(err);
    const sink = this.gzip ? new GzipSink(path, onError) : new PlainSink(path);
    try {
      sink.write(Buffer.from(`${JSON.stringify(this.header)}\n`, "utf8"));
    } catch (err) {
      sink.close().catch(() => {});
      throw err;
    }
    this.files.push(path);
    this.records = 0;
    return sink;
  }

  private guard(f: () => void): void {
    try {
      f();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private fail(err: Error): void {
    if (this.error) return;
    this.error = err;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingRecords = 0;
    this.onError?.(err);
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading

/** Options of {@link readSession}. */
export interface ReadSessionOptions {
  /** Go on into `FILE.1`, `FILE.2`... while they continue the same session. Default true. */
  parts?: boolean;
}

/** A file that is not a legowatch session, or of a version this legowatch cannot read. */
export class SessionFormatError extends Error {
  override name = "SessionFormatError";
}

/**
 * Reads a session: yields its header, then every record in file order. Corrupt lines are skipped with a
 * one-line warning naming the file and line (one warning for a run of them); a torn last record is
 * skipped with a warning; a gzip file cut short is read up to where it breaks, with a warning. Rotated
 * parts (`FILE.1`, `FILE.2`...) are read on after `FILE` while their header is the same session's (same
 * start and host); their headers are not yielded again. Throws {@link SessionFormatError} when the first
 * line is not a session header; I/O errors reject.
 */
export async function* readSession(
  path: string,
  onWarning: (message: string) => void = () => {},
  o: ReadSessionOptions = {},
): AsyncGenerator<SessionItem> {
  let first: SessionHeader | null = null;
  for (let part = 0; ; part++) {
    const file = part === 0 ? path : `${path}.${part}`;
    if (part > 0 && (o.parts === false || !existsSync(file))) return;
    let bad: { line: number; count: number } | null = null;
    const reportBad = () => {
      if (!bad) return;
      onWarning(
        bad.count === 1
          ? `${file}:${bad.line}: skipped a corrupt record`
          : `${file}:${bad.line}: skipped ${bad.count} corrupt lines`,
      );
      bad = null;
    };
    let items = 0;
    for await (const item of fileItems(file, onWarning)) {
      items++;
      if (items === 1) {
        const h = parseHeader(item.text);
        if (!h) {
          if (part === 0) throw new SessionFormatError(`${file}: not a legowatch session file`);
          onWarning(`${file}: not a part of this session (no session header); not read`);
          return;
        }
        if (h.version > SESSION_VERSION) {
          throw new SessionFormatError(
            `${file}: session format version ${h.version}; this legowatch reads version ${SESSION_VERSION}`,
          );
        }
        if (part === 0) {
          first = h;
          yield h;
        } else if (h.started !== first!.started || h.host !== first!.host) {
          onWarning(`${file}: belongs to another session (started ${h.started} on ${h.host}); not read`);
          return;
        }
        continue;
      }
      if (item.text.trim() === "" && item.data === null) continue;
      const r = parseRecord(item.text, item.data);
      if (r) {
        reportBad();
        yield r;
        continue;
      }
      if (item.torn) {
        reportBad();
        onWarning(`${file}:${item.line}: skipped a torn last record (the recording was cut off)`);
        continue;
      }
      if (bad) bad.count++;
      else bad = { line: item.line, count: 1 };
    }
    reportBad();
    if (items === 0 && part === 0)
      throw new SessionFormatError(`${file}: empty, not a legowatch session file`);
  }
}

function parseHeader(text: string): SessionHeader | null {
  let h: unknown;
  try {
    h = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof h !== "object" || h === null) return null;
  const x = h as Partial<SessionHeader>;
  if (x.format !== SESSION_FORMAT || typeof x.version !== "number" || typeof x.started !== "number")
    return null;
  const nodes = Array.isArray(x.nodes)
    ? x.nodes.filter((n): n is SessionNode => typeof n?.name === "string" && typeof n?.source === "string")
    : [];
  return {
    format: SESSION_FORMAT,
    version: x.version,
    started: x.started,
    host: typeof x.host === "string" ? x.host : "",
    nodes,
  };
}

const STATES: readonly string[] = ["connecting", "connected", "waiting", "retrying", "closed"];

/**
 * A record, or null when the line is not one (bad JSON, missing or mistyped fields). `data` is what
 * followed a `len` line: its bytes, or null when they were missing or not followed by a line end.
 */
export function parseRecord(text: string, data: Buffer | null = null): SessionRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const x = v as {
    t?: unknown;
    n?: unknown;
    len?: unknown;
    i?: unknown;
    l?: unknown;
    s?: unknown;
    r?: unknown;
  };
  if (typeof x.t !== "number" || !Number.isFinite(x.t) || typeof x.n !== "string") return null;
  if (typeof x.len === "number") return data?.length === x.len ? { t: x.t, n: x.n, b: data } : null;
  if (x.i === 1) return { t: x.t, n: x.n, i: 1 };
  if (typeof x.l === "string") return { t: x.t, n: x.n, l: x.l };
  if (x.r === 1) return { t: x.t, n: x.n, r: 1 };
  if (typeof x.s === "object" && x.s !== null) {
    const s = x.s as Record<string, unknown>;
    if (typeof s.state !== "string" || !STATES.includes(s.state)) return null;
    const out: RecordedStatus = { state: s.state as SourceState };
    if (typeof s.detail === "string") out.detail = s.detail;
    if (typeof s.error === "string") out.error = s.error;
    if (typeof s.retryInMs === "number") out.retryInMs = s.retryInMs;
    return { t: x.t, n: x.n, s: out };
  }
  return null;
}

/** A line of a session file, with the bytes that follow it when it announces a chunk. */
interface FileItem {
  text: string;
  /** Its line number in the (decompressed) file. */
  line: number;
  /** The bytes after a `len` line; null for other lines, or when they were missing or malformed. */
  data: Buffer | null;
  /** The last line, without its line end (or a `len` line whose bytes were cut off). */
  torn: boolean;
}

/** A chunk record's line, `{"t":...,"len":N}`: N, or null for any other line. */
function chunkLength(text: string): number | null {
  const m = /"len":(\d{1,9})\}$/.exec(text);
  return m && text.startsWith('{"t":') ? Number(m[1]) : null;
}

/**
 * The lines of a file (gunzipped when it starts with the gzip magic), each `len` line with the bytes that
 * follow it. Bytes that are not followed by a line end are not taken: the lines after the `len` line are
 * read as lines again, so one bad length costs one chunk, not the rest of the file.
 */
async function* fileItems(path: string, onWarning: (message: string) => void): AsyncGenerator<FileItem> {
  const chunks = await openDecompressed(path);
  let buf: Buffer = Buffer.alloc(0);
  let line = 0;
  let pending: { text: string; line: number; len: number } | null = null;
  function* drain(final: boolean): Generator<FileItem> {
    let pos = 0;
    for (;;) {
      if (pending) {
        if (buf.length - pos < pending.len + 1) break;
        const p = pending;
        pending = null;
        if (buf[pos + p.len] !== 0x0a) {
          yield { text: p.text, line: p.line, data: null, torn: false };
          continue;
        }
        const data = buf.subarray(pos, pos + p.len);
        for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) line++;
        line++;
        pos += p.len + 1;
        yield { text: p.text, line: p.line, data, torn: false };
        continue;
      }
      const nl = buf.indexOf(0x0a, pos);
      if (nl === -1) break;
      const text = buf.toString("utf8", pos, nl);
      line++;
      pos = nl + 1;
      const len = chunkLength(text);
      if (len !== null) pending = { text, line, len };
      else yield { text, line, data: null, torn: false };
    }
    buf = buf.subarray(pos);
    if (!final) return;
    if (pending) yield { text: pending.text, line: pending.line, data: null, torn: true };
    else if (buf.length > 0) yield { text: buf.toString("utf8"), line: line + 1, data: null, torn: true };
  }
  try {
    for await (const chunk of chunks.stream) {
      buf = buf.length === 0 ? (chunk as Buffer) : Buffer.concat([buf, chunk as Buffer]);
      yield* drain(false);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // What zlib decoded before the break was read above; a cut-off gzip is the expected way a killed
    // recorder leaves its file.
    if (!chunks.gzip || (e.code !== "Z_BUF_ERROR" && e.code !== "Z_DATA_ERROR")) throw err;
    onWarning(
      e.code === "Z_BUF_ERROR"
        ? `${path}: the compressed file is cut short (the recording was cut off); read up to there`
        : `${path}: the compressed data is corrupt (${e.message}); read up to there`,
    );
  }
  yield* drain(true);
}

/** A file's bytes, gunzipped when it starts with the gzip magic (sessions, and logs given to `compare`). */
export async function openDecompressed(path: string): Promise<{ stream: Readable; gzip: boolean }> {
  const magic = await readMagic(path);
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) return { stream: raw, gzip: false };
  const gunzip = createGunzip();
  raw.on("error", (err) => gunzip.destroy(err));
  // A reader that stops early (destroys the stream) must close the file too.
  gunzip.on("close", () => raw.destroy());
  return { stream: raw.pipe(gunzip), gzip: true };
}

async function readMagic(path: string): Promise<Buffer> {
  const fh = await open(path, "r");
  try {
    const b = Buffer.alloc(2);
    await fh.read(b, 0, 2, 0);
    return b;
  } finally {
    await fh.close();
  }
}
