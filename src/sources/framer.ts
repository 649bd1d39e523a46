import { isAscii } from "node:buffer";
import stripAnsi from "strip-ansi";
import { logPrefixEnd } from "../parse/line.js";

/** One console line as it left the framer. */
export interface FramedLine {
  /** Display text: decoded, control and escape sequences removed. */
  text: string;
  /** The decoded line before cleaning, kept for recordings. Same string as `text` when nothing was removed. */
  raw: string;
  /** 1-based physical line number in the stream; lines split at an embedded timestamp share it. */
  lineNo: number;
  /** Set when the line was longer than `maxLineLength` and was cut into pieces. */
  truncated?: true;
}

/** Where {@link LineFramer.each} puts lines. */
export interface LineSink {
  line(l: FramedLine): void;
  /**
   * Asked about every line that arrives whole within one chunk of plain ASCII (no control bytes, not
   * over the length limit): true takes the line as read, and no string is made of it. `lineNo` is the
   * number it has.
   */
  passOver?(buf: Buffer, start: number, end: number, lineNo: number): boolean;
}

/** Options of a {@link LineFramer}. */
export interface FramerOptions {
  /** Longest line kept whole, in bytes; longer lines are split (between characters) and marked truncated. */
  maxLineLength?: number;
}

export const MAX_LINE_LENGTH = 64 * 1024;

// Printk stamps at least one character into a line: where a printk had no trailing newline the next one
// lands on the same physical line, so every stamp after the first starts a new logical line.
const STAMP_INSIDE = /\[\s*\d+\.\d{6}\]/g;
const LEVEL = /^<\d{1,3}>$/;
// C0 (except tab), DEL and C1 controls. Cheap test first: most console lines have none.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
const CONTROL_ALL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Bytes that may need cleaning: C0 controls but tab, LF and CR; DEL; and 0xC2, the first byte of a C1
 * control in UTF-8 (and of a few harmless characters, which only cost a closer look).
 */
const DIRTY_BYTE = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) if (b !== 9 && b !== 10 && b !== 13) DIRTY_BYTE[b] = 1;
DIRTY_BYTE[0x7f] = 1;
DIRTY_BYTE[0xc2] = 1;

/** True when `buf[start, end)` holds a {@link DIRTY_BYTE}. */
export function hasDirtyByte(buf: Uint8Array, start: number, end: number): boolean {
  return hasMarkedByte(DIRTY_BYTE, buf, start, end);
}

/**
 * True when `buf[start, end)` holds a byte `marked` marks; `marked` may mark only bytes below 0x20 or
 * from 0x7F up. Reads four bytes at a time and looks closer only at words with such a byte (most words
 * of a console have none), which is several times faster than a regex over the chunk decoded as Latin-1.
 */
export function hasMarkedByte(marked: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  // Byte by byte up to an address an Int32Array view may start at.
  for (; i < end && (buf.byteOffset + i) % 4 !== 0; i++) if (marked[buf[i]!]) return true;
  const words = (end - i) >> 2;
  if (words > 0) {
    const w = new Int32Array(buf.buffer, buf.byteOffset + i, words);
    for (let k = 0; k < words; k++) {
      const x = w[k]!;
      // High bit of some byte set: below 0x20 (the classic "has a byte less than n" test), at 0x7F
      // or above (x + 1 reaches 0x80), or 0x80 and above (x itself). False alarms only cost the look.
      if ((((x - 0x20202020) & ~x) | x | (x + 0x01010101)) & 0x80808080) {
        const at = i + 4 * k;
        if (marked[buf[at]!] || marked[buf[at + 1]!] || marked[buf[at + 2]!] || marked[buf[at + 3]!])
          return true;
      }
    }
    i += 4 * words;
  }
  for (; i < end; i++) if (marked[buf[i]!]) return true;
  return false;
}

/**
 * Node's own decoders, called directly: `toString(encoding, start, end)` spends longer checking its
 * arguments than an ASCII line takes to copy. Latin-1 decodes ASCII exactly as UTF-8 does, faster.
 */
interface Decoders {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/**
 * Turns a byte stream into lines. Any chunking of the same bytes gives the same lines: `\n`, `\r\n`,
 * a lone `\r` (and runs of `\r` before `\n`) end a line; each line is decoded from UTF-8 on its own
 * (invalid bytes become U+FFFD), so a character cut across chunks is whole again and no line keeps a
 * chunk alive; a line never grows past `maxLineLength` bytes; a partial last line waits for more bytes,
 * for {@link LineFramer.end}, or for {@link LineFramer.flush} when a live source goes quiet.
 */
export class LineFramer {
  private readonly max: number;
  /** The partial line so far (a copy: sources may reuse their buffers). */
  private carry: Buffer | null = null;
  /** The carried partial line already lost full-length pieces. */
  private carryCut = false;
  private lineNo = 0;
  /** A `\r` ended the previous chunk; more `\r`s and one `\n` after it belong to the same line end. */
  private afterCR = false;

  constructor(options: FramerOptions = {}) {
    this.max = Math.max(4, options.maxLineLength ?? MAX_LINE_LENGTH);
  }

  /** Feeds bytes (or text, taken as UTF-8) and returns the lines they complete. */
  push(chunk: Uint8Array | string): FramedLine[] {
    const out: FramedLine[] = [];
    this.each(chunk, { line: (l) => out.push(l) });
    return out;
  }

  /** Feeds bytes (or text, taken as UTF-8) and hands each line they complete to `out`, in order. */
  each(chunk: Uint8Array | string, out: LineSink): void {
    const buf =
      typeof chunk === "string"
        ? Buffer.from(chunk, "utf8")
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const n = buf.length;
    let start = 0;
    if (this.afterCR) {
      while (start < n && buf[start] === 13) start++;
      if (start === n) return;
      if (buf[start] === 10) start++;
      this.afterCR = false;
    }
    // One scan of the chunk tells whether any of its lines needs cleaning: most consoles send none.
    const dirty = hasDirtyByte(buf, start, n);
    const ascii = isAscii(buf);
    // Where the next CR is, searched again only once passed: a chunk without CRs is scanned for one once.
    let cr = -2;
    while (start < n) {
      const nl = buf.indexOf(10, start);
      if (cr !== -1 && cr < start) cr = buf.indexOf(13, start);
      if (cr !== -1 && (nl === -1 || cr < nl)) {
        let j = cr;
        while (j < n && buf[j] === 13) j++;
        this.complete(buf, start, cr, dirty, ascii, out);
        if (j === n) {
          // The next byte decides between CRLF and a lone CR; the line itself is complete either way.
          this.afterCR = true;
          return;
        }
        start = buf[j] === 10 ? j + 1 : j;
        continue;
      }
      if (nl === -1) {
        this.keep(buf, start, out);
        return;
      }
      this.complete(buf, start, nl, dirty, ascii, out);
      start = nl + 1;
    }
  }

  /** Ends the stream: the partial last line, if any, becomes a line. */
  end(): FramedLine[] {
    this.afterCR = false;
    return this.flush();
  }

  /** Emits the partial line now (a live source that went quiet); the stream goes on afterwards. */
  flush(): FramedLine[] {
    const lines: FramedLine[] = [];
    const out: LineSink = { line: (l) => lines.push(l) };
    if (this.carry) this.emit(this.carry, 0, this.carry.length, true, false, this.carryCut, out);
    this.carry = null;
    this.carryCut = false;
    return lines;
  }

  /** True when a partial line is waiting. */
  get pending(): boolean {
    return this.carry !== null;
  }

  /**
   * A complete line: the carried part, if any, and `buf[start, end)`. `dirty` and `ascii` say whether
   * `buf` may hold bytes to clean and whether it is all ASCII.
   */
  private complete(
    buf: Buffer,
    start: number,
    end: number,
    dirty: boolean,
    ascii: boolean,
    out: LineSink,
  ): void {
    if (this.carry) {
      const line = Buffer.concat([this.carry, buf.subarray(start, end)]);
      const cut = this.carryCut;
      this.carry = null;
      this.carryCut = false;
      this.pieces(line, 0, line.length, true, false, cut, out);
      return;
    }
    if (
      out.passOver &&
      ascii &&
      !dirty &&
      end - start <= this.max &&
      out.passOver(buf, start, end, this.lineNo + 1)
    ) {
      this.lineNo++;
      return;
    }
    this.pieces(buf, start, end, dirty, ascii, false, out);
  }

  /** Keeps a partial line, cutting off full-length pieces so memory stays bounded. */
  private keep(buf: Buffer, start: number, out: LineSink): void {
    const line = this.carry
      ? Buffer.concat([this.carry, buf.subarray(start)])
      : Buffer.from(buf.subarray(start));
    let s = 0;
    let cut = this.carryCut;
    while (line.length - s > this.max) {
      const at = this.cutAt(line, s);
      this.emit(line, s, at, true, false, true, out);
      s = at;
      cut = true;
    }
    this.carry = line.subarray(s);
    this.carryCut = cut;
  }

  private pieces(
    buf: Buffer,
    start: number,
    end: number,
    dirty: boolean,
    ascii: boolean,
    cut: boolean,
    out: LineSink,
  ): void {
    let s = start;
    let wasCut = cut;
    while (end - s > this.max) {
      const at = this.cutAt(buf, s);
      this.emit(buf, s, at, dirty, ascii, true, out);
      s = at;
      wasCut = true;
    }
    this.emit(buf, s, end, dirty, ascii, wasCut, out);
  }

  /** Where to cut a long line: `max` bytes on, moved back so that no UTF-8 character is split. */
  private cutAt(buf: Buffer, s: number): number {
    let at = s + this.max;
    for (let k = 0; k < 3 && ((buf[at] ?? 0) & 0xc0) === 0x80; k++) at--;
    return at > s ? at : s + this.max;
  }

  private emit(
    buf: Buffer,
    start: number,
    end: number,
    dirty: boolean,
    ascii: boolean,
    truncated: boolean,
    out: LineSink,
  ): void {
    this.lineNo++;
    const dec = buf as unknown as Decoders;
    const raw = ascii ? dec.latin1Slice(start, end) : dec.utf8Slice(start, end);
    const text = dirty && CONTROL.test(raw) ? clean(raw) : raw;
    const lineNo = this.lineNo;
    if (mayHoldStamp(text)) {
      const parts = splitAtStamps(text);
      if (parts.length > 1) {
        for (let i = 0; i < parts.length; i++) {
          const piece: FramedLine = { text: parts[i]!, raw: i === 0 ? raw : parts[i]!, lineNo };
          if (truncated) piece.truncated = true;
          out.line(piece);
        }
        return;
      }
    }
    const line: FramedLine = { text, raw, lineNo };
    if (truncated) line.truncated = true;
    out.line(line);
  }
}

/** Removes ANSI/OSC escape sequences, NUL and other control characters from one line. */
export function clean(s: string): string {
  return stripAnsi(s).replace(CONTROL_ALL, "");
}

/**
 * False when no printk stamp can start after the first character of `text`, decided without a regex:
 * every `[` is followed by something else than blanks, digits and a `.` (hex addresses, `worker[0]`).
 * True means "maybe": {@link splitAtStamps} decides. Blanks are taken broadly (any character from
 * U+0080 counts as one), so that this never says no where `\s` would have matched.
 */
export function mayHoldStamp(text: string): boolean {
  for (let i = text.indexOf("[", 1); i !== -1; i = text.indexOf("[", i + 1)) {
    let j = i + 1;
    let c = text.charCodeAt(j);
    while (c === 32 || (c >= 9 && c <= 13) || c >= 0x80) c = text.charCodeAt(++j);
    const digits = j;
    while (c >= 48 && c <= 57) c = text.charCodeAt(++j);
    if (j > digits && c === 46 /* . */) return true;
  }
  return false;
}

/** Splits a physical line at every printk stamp after its start. */
export function splitAtStamps(text: string): string[] {
  const parts: string[] = [];
  let from = 0;
  STAMP_INSIDE.lastIndex = 1;
  for (let m = STAMP_INSIDE.exec(text); m !== null; m = STAMP_INSIDE.exec(text)) {
    if (m.index > from) {
      const piece = text.slice(from, m.index);
      // A `<N>` log level or a syslog prefix before the first stamp belongs to that stamp's line.
      if (from === 0 && (LEVEL.test(piece) || logPrefixEnd(piece) === piece.length)) continue;
      if (from > 0 || piece.trim().length > 0) parts.push(piece.replace(/\s+$/, ""));
    }
    from = m.index;
  }
  parts.push(text.slice(from));
  return parts;
}
