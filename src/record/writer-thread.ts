/**
 * The recording thread of a {@link SessionWriter}: turns the batches the watch hands over into line
 * records and writes them. One JSON line per console line costs more than the watch itself can spare
 * under a flood (about a fifth of its time), so it is done here, on another core.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { gzipSync } from "node:zlib";
import { LineEncoder } from "./encode.js";
import type { Batch, ThreadData, ThreadReply } from "./writer.js";

const init = workerData as ThreadData;
const port = parentPort!;
const encoder = new LineEncoder();
// The watch wrote the header; the thread goes on from there.
let fd = openSync(init.path, "a");
let bytes = init.bytes;
let parts = 0;
/** Records in the current file: a file is never cut before it holds one, whatever `maxBytes`. */
let records = 0;
let failed = false;

/**
 * Level 3 compresses twice as fast as zlib's default, 6, for a file a fifth larger: fast enough to keep
 * up with a flood on one core, so that a killed recording loses no more than a plain one.
 */
const GZIP = { level: 3 };

const reply = (m: ThreadReply) => port.postMessage(m);

function writeAll(data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off);
  bytes += data.length;
}

/**
 * Appends `text` to the current file, flushed through: plain text is written as is; gzip as a member of
 * its own, so that a killed recording leaves whole members that decompress (a reader takes members one
 * after another, as `gzip -d` does).
 */
function write(text: string, count: number): void {
  if (text.length === 0) return;
  const data = Buffer.from(text, "utf8");
  writeAll(init.gzip ? gzipSync(data, GZIP) : data);
  records += count;
  if (bytes > init.maxBytes && records > 0) rotate();
}

/** Starts `FILE.1`, `FILE.2`... with the session's header. */
function rotate(): void {
  closeSync(fd);
  parts++;
  const path = `${init.path}.${parts}`;
  fd = openSync(path, "w");
  bytes = 0;
  records = 0;
  const header = Buffer.from(init.header, "utf8");
  writeAll(init.gzip ? gzipSync(header, GZIP) : header);
  reply({ type: "file", path });
}

function take(batch: Batch): void {
  let out = "";
  let count = 0;
  let at = 0;
  const data = Buffer.from(batch.data);
  for (const item of batch.items) {
    if (item.len !== undefined) {
      const text = encoder.chunk(item.t, item.n, data.subarray(at, at + item.len));
      at += item.len;
      out += text;
      count++;
    } else {
      // The node's unfinished line goes before it goes quiet or reconnects, as live.
      if (item.cut) out += encoder.unfinished(item.n);
      out += `${item.json}\n`;
      count++;
    }
    // A flood writes in steps, not one string the size of the batch; a plain file is cut right after
    // the record that takes it over the limit (a gzip one once its compressed size is known).
    if (out.length >= 1 << 20 || (!init.gzip && bytes + out.length > init.maxBytes)) {
      write(out, count);
      out = "";
      count = 0;
    }
  }
  if (batch.ends) out += encoder.allUnfinished();
  write(out, count);
}

port.on("message", (m: Batch | { type: "close" }) => {
  if ("type" in m) {
    try {
      closeSync(fd);
    } catch (err) {
      // After a failed write the close may fail too; the first error is the one to report.
      if (!failed) fail(err as Error);
    }
    reply({ type: "closed" });
    return;
  }
  if (failed) {
    reply({ type: "done", bytes: m.data.byteLength });
    return;
  }
  try {
    take(m);
  } catch (err) {
    fail(err as Error);
  }
  reply({ type: "done", bytes: m.data.byteLength });
});

reply({ type: "ready" });

function fail(err: Error): void {
  failed = true;
  reply({ type: "error", message: err.message, code: (err as NodeJS.ErrnoException).code });
}
