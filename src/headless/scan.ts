import { once } from "node:events";
import { createReadStream, statSync } from "node:fs";
import { basename } from "node:path";
import type { Readable, Writable } from "node:stream";
import { createGunzip } from "node:zlib";
import { nodeAssignment } from "../config/node-arg.js";
import type { CrashKnowledge } from "../crash/knowledge.js";
import { type DumpEvent, describeNotes, dumpTitle, withNotes } from "../crash/knowledge.js";
import { type Alert, type Severity, severityRank } from "../engine/alerts.js";
import type { Thresholds } from "../engine/thresholds.js";
import { Pipeline } from "../pipeline.js";
import { alertJson, eventJson } from "./json.js";
import { summary } from "./summary.js";

/** One input of `scan`: a node name and a file (`-` is standard input). */
export interface ScanInput {
  node: string;
  path: string;
}

/** Options of {@link scan}. */
export interface ScanOptions {
  json: boolean;
  failOn?: Severity;
  thresholds?: Partial<Thresholds>;
  roles?: Record<string, "P" | "M" | "S">;
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable;
  /** Inputs at least this large show progress when stderr is a terminal. */
  progressMinBytes?: number;
  /**
   * Symbolizes crashes and warnings and records them in the crash store: their JSON gains what was
   * learnt, in its place in the stream; the text summary lists each crash's history.
   */
  knowledge?: CrashKnowledge;
}

/** A `scan` that could not read an input; what was read before is reported all the same. */
export class InputError extends Error {
  override name = "InputError";
}

const GZIP = [0x1f, 0x8b];
/**
 * Bytes read at a time. The lines of a chunk are alive together until it is parsed, and every young
 * garbage collection copies them: a quarter megabyte keeps that small without many more reads.
 */
const READ_CHUNK = 256 * 1024;
/** Inputs smaller than this finish before a progress line would help. */
const PROGRESS_MIN_BYTES = 16 * 1024 * 1024;

/**
 * Parses logs after the fact and reports every event and alert. Returns the exit code: 1 when an
 * alert at or above `failOn` fired, else 0. Throws {@link InputError} after reporting what it read
 * when an input fails.
 */
export async function scan(inputs: readonly ScanInput[], o: ScanOptions): Promise<number> {
  const out = new BufferedWriter(o.stdout);
  const k = o.knowledge;
  const pipeline = new Pipeline({
    thresholds: o.thresholds,
    roles: o.roles,
    onEvent: (e) => {
      const notes = k?.offer(e);
      if (!o.json) return;
      // Reading goes on while a crash is symbolized; its line waits for it, and so do the lines after.
      out.line(notes ? notes.then((n) => eventJson(withNotes(e as DumpEvent, n))) : eventJson(e));
    },
    onAlert: o.json ? (a, change) => change === "resolve" && out.line(alertJson(a)) : undefined,
  });
  let failure: InputError | null = null;
  for (const input of inputs) {
    try {
      await readInto(pipeline, input, o, out);
    } catch (err) {
      failure = new InputError(`${input.path}: ${describe(err)}`);
      break;
    } finally {
      pipeline.endNode(input.node);
    }
  }
  pipeline.end();
  await k?.settle();
  if (o.json) {
    for (const a of pipeline.engine.alerts.active()) out.line(alertJson(a));
  } else {
    out.line(summary(pipeline.engine).trimEnd());
    if (k) out.line(crashNotes(k));
  }
  await out.drain();
  if (failure) throw failure;
  return failed(pipeline.engine.all, o.failOn) ? 1 : 0;
}

/** The text summary's part on what the crash store and the kernel images said of each crash. */
function crashNotes(k: CrashKnowledge): string {
  const lines = ["Crash history:"];
  for (const { event: e, notes: n } of k.noted()) {
    lines.push(`  ${e.node}:${e.line} ${dumpTitle(e)}: ${describeNotes(n, "not recorded")}`);
  }
  return lines.length > 1 ? lines.join("\n") : "Crash history: no crash or warning seen";
}

function failed(alerts: readonly Alert[], failOn?: Severity): boolean {
  if (!failOn) return false;
  return alerts.some((a) => severityRank(a.severity) >= severityRank(failOn));
}

async function readInto(p: Pipeline, input: ScanInput, o: ScanOptions, out: BufferedWriter): Promise<void> {
  const stdin = input.path === "-";
  const size = stdin ? 0 : statSync(input.path).size;
  const min = o.progressMinBytes ?? PROGRESS_MIN_BYTES;
  const progress = o.stderr.isTTY && size >= min ? new Progress(o.stderr, input.path, size) : null;
  const raw = stdin ? o.stdin : createReadStream(input.path, { highWaterMark: READ_CHUNK });
  try {
    for await (const chunk of decompressed(raw, (n) => progress?.advance(n))) {
      p.push(input.node, chunk);
      await out.drainIfFull();
    }
  } finally {
    progress?.done();
  }
}

/** Yields the bytes of a stream, gunzipped when it starts with the gzip magic. */
async function* decompressed(src: Readable, onRaw: (n: number) => void): AsyncGenerator<Buffer> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  if (first.done) return;
  const head = first.value;
  onRaw(head.length);
  if (head[0] !== GZIP[0] || head[1] !== GZIP[1]) {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) {
      onRaw(r.value.length);
      yield r.value;
    }
    return;
  }
  const gunzip = createGunzip();
  const feed = (async () => {
    gunzip.write(head);
    for (let r = await it.next(); !r.done; r = await it.next()) {
      onRaw(r.value.length);
      if (!gunzip.write(r.value)) await once(gunzip, "drain");
    }
    gunzip.end();
  })();
  feed.catch((err) => gunzip.destroy(err));
  for await (const chunk of gunzip) yield chunk as Buffer;
  await feed;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
      return "permission denied";
    case "EISDIR":
      return "is a directory, not a log file";
    case "Z_DATA_ERROR":
    case "Z_BUF_ERROR":
      return `not valid gzip data (${e.message})`;
    default:
      return e.message ?? String(err);
  }
}

/** Node name for `[NAME=]FILE`: the given name, else `--node`, else the file name without its extensions. */
export function parseInput(arg: string, node?: string): ScanInput {
  const m = nodeAssignment(arg);
  if (m) return { node: m.name, path: m.value };
  if (node) return { node, path: arg };
  if (arg === "-") return { node: "stdin", path: arg };
  return { node: basename(arg).replace(/(\.(log|txt|gz|out|cap))+$/i, "") || arg, path: arg };
}

/** Collects output lines and writes them in large pieces, waiting when the reader is slower. */
class BufferedWriter {
  private buf: (string | Promise<string>)[] = [];
  private size = 0;

  constructor(private readonly w: Writable) {}

  /** A line, or the promise of one: lines are written in the order given. */
  line(s: string | Promise<string>): void {
    this.buf.push(s);
    this.size += typeof s === "string" ? s.length : 1024;
  }

  async drainIfFull(): Promise<void> {
    if (this.size >= 1 << 16) await this.drain();
  }

  async drain(): Promise<void> {
    if (this.buf.length === 0) return;
    const parts = this.buf;
    this.buf = [];
    this.size = 0;
    const text = `${(await Promise.all(parts)).join("\n")}\n`;
    if (!this.w.write(text)) await once(this.w, "drain");
  }
}

/** A progress line on a terminal's stderr, redrawn at most every 200 ms. */
class Progress {
  private read = 0;
  private last = 0;
  private readonly started = Date.now();

  constructor(
    private readonly w: Writable,
    private readonly name: string,
    private readonly total: number,
  ) {}

  advance(n: number): void {
    this.read += n;
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    const pct = Math.min(100, (this.read / this.total) * 100).toFixed(0);
    const mbs = this.read / 1e6 / Math.max(0.001, (now - this.started) / 1000);
    this.w.write(`\r\u001b[Kscanning ${this.name}: ${pct}% (${mbs.toFixed(0)} MB/s)`);
  }

  done(): void {
    if (this.last > 0) this.w.write("\r\u001b[K");
  }
}
