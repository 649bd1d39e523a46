import { createReadStream, existsSync } from "node:fs";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { SourceState } from "../sources/source.js";

/**
 * A legowatch session file: JSON lines. The first line is a {@link SessionHeader}; every other line is
 * a {@link SessionRecord}, in the order the pipeline saw them (version 3):
 *
 * - `{"t":<ms>,"n":"P","l":"<line>"}`: a console line of node P as received at `t`, without its line end
 *   (`\r\n` or `\n`); escape sequences and control bytes are kept (JSON-escaped);
 * - `{"t","n","x":"<base64>"}`: the same for a line whose bytes are not UTF-8, so every byte survives;
 * - `"c":1` on either: a piece of a line that goes on in the node's next line record (the recording
 *   flushed, or the node went quiet or reconnected, while the line was still arriving);
 * - `{"t","n","i":1}`: the node was quiet long enough for its partial line and half-printed reports to be
 *   completed;
 * - `{"t","n","s":{"state","detail"?,"error"?,"retryInMs"?}}`: a source status change;
 * - `{"t","n","r":1}`: the node's source reconnected (what follows may repeat earlier lines).
 *
 * Version 2 files wrote chunks as received instead of lines: `{"t","n","len":<N>}`, then exactly N bytes
 * of console and a `\n`; they are still read. Version 1 files had only `l` records.
 *
 * A file may be gzip-compressed (written so when its name ends in `.gz`, as one gzip member per write;
 * recognised on reading by its magic bytes). A session cut by `maxBytes` continues in `FILE.1`,
 * `FILE.2`..., each starting with the same header.
 */
export const SESSION_FORMAT = "legowatch-session";
export const SESSION_VERSION = 3;

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

/** A chunk of console bytes as received (version 2; `b`: the bytes after a `len` record). */
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

/**
 * A console line as received, without its line end: text, or bytes that are not UTF-8. With `c`, a piece
 * of a line that the node's next line record goes on with.
 */
export interface LineRecord {
  t: number;
  n: string;
  l: string | Buffer;
  c?: 1;
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

const NEWLINE = Buffer.from("\n");

/** The console bytes a line record stands for: the line and its line end, unless it is a piece. */
export function consoleBytes(r: LineRecord): string | Buffer {
  if (r.c === 1) return r.l;
  return typeof r.l === "string" ? `${r.l}\n` : Buffer.concat([r.l, NEWLINE]);
}
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
  for await (const batch of readSessionBatches(path, onWarning, o)) yield* batch;
}

/**
 * {@link readSession} a batch at a time (what one read of the file holds), for readers that go through
 * millions of records: one step of an async generator per record would cost more than the record.
 */
export async function* readSessionBatches(
  path: string,
  onWarning: (message: string) => void = () => {},
  o: ReadSessionOptions = {},
): AsyncGenerator<SessionItem[]> {
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
    for await (const read of fileItems(file, onWarning)) {
      const out: SessionItem[] = [];
      for (const item of read) {
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
            out.push(h);
          } else if (h.started !== first!.started || h.host !== first!.host) {
            onWarning(`${file}: belongs to another session (started ${h.started} on ${h.host}); not read`);
            return;
          }
          continue;
        }
        if (item.data === null && item.text.trim() === "") continue;
        const r = parseRecord(item.text, item.data);
        if (r) {
          reportBad();
          out.push(r);
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
      if (out.length > 0) yield out;
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

/** A line record with nothing escaped in it, as nearly all are: read without JSON.parse, several times faster. */
const PLAIN_LINE = /^\{"t":(\d{1,15}),"n":"([^"\\\x00-\x1f]*)","l":"([^"\\\x00-\x1f]*)"(,"c":1)?\}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const STATES: readonly string[] = ["connecting", "connected", "waiting", "retrying", "closed"];

/**
 * A record, or null when the line is not one (bad JSON, missing or mistyped fields). `data` is what
 * followed a `len` line: its bytes, or null when they were missing or not followed by a line end.
 */
export function parseRecord(text: string, data: Buffer | null = null): SessionRecord | null {
  const m = PLAIN_LINE.exec(text);
  if (m)
    return m[4] ? { t: Number(m[1]), n: m[2]!, l: m[3]!, c: 1 } : { t: Number(m[1]), n: m[2]!, l: m[3]! };
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
    x?: unknown;
    c?: unknown;
    s?: unknown;
    r?: unknown;
  };
  if (typeof x.t !== "number" || !Number.isFinite(x.t) || typeof x.n !== "string") return null;
  if (typeof x.len === "number") return data?.length === x.len ? { t: x.t, n: x.n, b: data } : null;
  if (x.i === 1) return { t: x.t, n: x.n, i: 1 };
  if (typeof x.l === "string")
    return x.c === 1 ? { t: x.t, n: x.n, l: x.l, c: 1 } : { t: x.t, n: x.n, l: x.l };
  if (typeof x.x === "string" && BASE64.test(x.x)) {
    const l = Buffer.from(x.x, "base64");
    return x.c === 1 ? { t: x.t, n: x.n, l, c: 1 } : { t: x.t, n: x.n, l };
  }
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
async function* fileItems(path: string, onWarning: (message: string) => void): AsyncGenerator<FileItem[]> {
  const chunks = await openDecompressed(path);
  let buf: Buffer = Buffer.alloc(0);
  let line = 0;
  let pending: { text: string; line: number; len: number } | null = null;
  function drain(final: boolean): FileItem[] {
    const out: FileItem[] = [];
    let pos = 0;
    for (;;) {
      if (pending) {
        if (buf.length - pos < pending.len + 1) break;
        const p = pending;
        pending = null;
        if (buf[pos + p.len] !== 0x0a) {
          out.push({ text: p.text, line: p.line, data: null, torn: false });
          continue;
        }
        const data = buf.subarray(pos, pos + p.len);
        for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) line++;
        line++;
        pos += p.len + 1;
        out.push({ text: p.text, line: p.line, data, torn: false });
        continue;
      }
      const nl = buf.indexOf(0x0a, pos);
      if (nl === -1) break;
      const text = buf.toString("utf8", pos, nl);
      line++;
      pos = nl + 1;
      const len = chunkLength(text);
      if (len !== null) pending = { text, line, len };
      else out.push({ text, line, data: null, torn: false });
    }
    buf = buf.subarray(pos);
    if (!final) return out;
    if (pending) out.push({ text: pending.text, line: pending.line, data: null, torn: true });
    else if (buf.length > 0) out.push({ text: buf.toString("utf8"), line: line + 1, data: null, torn: true });
    return out;
  }
  try {
    for await (const chunk of chunks.stream) {
      buf = buf.length === 0 ? (chunk as Buffer) : Buffer.concat([buf, chunk as Buffer]);
      yield drain(false);
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
  yield drain(true);
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
