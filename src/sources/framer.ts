import stripAnsi from "strip-ansi";

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

/** Options of a {@link LineFramer}. */
export interface FramerOptions {
  /** Longest line kept whole, in UTF-16 units; longer lines are split and marked truncated. */
  maxLineLength?: number;
}

export const MAX_LINE_LENGTH = 64 * 1024;

// Printk stamps at least one character into a line: where a printk had no trailing newline the next one
// lands on the same physical line, so every stamp after the first starts a new logical line.
const STAMP_INSIDE = /\[\s*\d+\.\d{6}\]/g;
// C0 (except tab), DEL and C1 controls. Cheap test first: most console lines have none.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
const CONTROL_ALL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Turns a byte stream into lines. Any chunking of the same bytes gives the same lines:
 * UTF-8 is decoded as a stream (invalid bytes become U+FFFD), `\n`, `\r\n` and a lone `\r` end a line,
 * a line never grows past `maxLineLength`, and a partial last line waits for more bytes, for
 * {@link LineFramer.flush} at the end, or for an idle flush by the caller.
 */
export class LineFramer {
  private readonly decoder = new TextDecoder("utf-8");
  private readonly max: number;
  private carry = "";
  /** The carried partial line already lost full-length pieces to {@link keep}. */
  private carryCut = false;
  private lineNo = 0;
  /** A `\r` ended the previous line; a `\n` right after it belongs to the same line end. */
  private afterCR = false;

  constructor(options: FramerOptions = {}) {
    this.max = options.maxLineLength ?? MAX_LINE_LENGTH;
  }

  /** Feeds bytes (or already decoded text) and returns the lines they complete. */
  push(chunk: Uint8Array | string): FramedLine[] {
    const text = typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    const out: FramedLine[] = [];
    this.split(text, out);
    return out;
  }

  /** Ends the stream: the partial last line, if any, becomes a line. */
  end(): FramedLine[] {
    const out: FramedLine[] = [];
    this.split(this.decoder.decode(), out);
    this.flushInto(out);
    return out;
  }

  /** Emits the partial line now (a live source that went quiet); the stream goes on afterwards. */
  flush(): FramedLine[] {
    const out: FramedLine[] = [];
    this.flushInto(out);
    return out;
  }

  /** True when a partial line is waiting. */
  get pending(): boolean {
    return this.carry.length > 0;
  }

  private flushInto(out: FramedLine[]): void {
    if (this.carry.length > 0) {
      this.emit(this.carry, out, this.carryCut);
      this.carry = "";
    }
    this.carryCut = false;
  }

  private split(text: string, out: FramedLine[]): void {
    let s = text;
    if (this.afterCR) {
      // Finish the line end begun by the CR that closed the previous chunk: more CRs, then maybe one LF.
      let k = 0;
      while (k < s.length && s.charCodeAt(k) === 13) k++;
      if (k === s.length) return;
      if (s.charCodeAt(k) === 10) k++;
      s = s.slice(k);
      this.afterCR = false;
    }
    if (this.carry.length > 0) s = this.carry + s;
    this.carry = "";
    let cut = this.carryCut;
    this.carryCut = false;
    let start = 0;
    const n = s.length;
    // Where the next CR is, searched again only once passed: a chunk without CRs is scanned for one once.
    let cr = -2;
    while (start < n) {
      const nl = s.indexOf("\n", start);
      if (cr !== -1 && cr < start) cr = s.indexOf("\r", start);
      if (cr !== -1 && (nl === -1 || cr < nl)) {
        // Fold a run of CRs followed by LF (serial captures often double them) into one line end.
        let j = cr;
        while (j < n && s.charCodeAt(j) === 13) j++;
        if (j === n) {
          // The next byte decides between CRLF and a lone CR; the line itself is complete either way.
          this.emitLong(s.slice(start, cr), out, cut);
          this.afterCR = true;
          return;
        }
        this.emitLong(s.slice(start, cr), out, cut);
        cut = false;
        start = s.charCodeAt(j) === 10 ? j + 1 : j;
        continue;
      }
      if (nl === -1) {
        this.keep(s.slice(start), out, cut);
        return;
      }
      this.emitLong(s.slice(start, nl), out, cut);
      cut = false;
      start = nl + 1;
    }
  }

  /** Keeps a partial line, cutting off full-length pieces so memory stays bounded. */
  private keep(rest: string, out: FramedLine[], cut: boolean): void {
    let r = rest;
    let wasCut = cut;
    while (r.length > this.max) {
      const at = this.cutAt(r);
      this.emit(r.slice(0, at), out, true);
      r = r.slice(at);
      wasCut = true;
    }
    this.carry = r;
    this.carryCut = wasCut;
  }

  /** Emits a complete line; `cut` says earlier pieces of it were already emitted. */
  private emitLong(line: string, out: FramedLine[], cut: boolean): void {
    let r = line;
    let wasCut = cut;
    while (r.length > this.max) {
      const at = this.cutAt(r);
      this.emit(r.slice(0, at), out, true);
      r = r.slice(at);
      wasCut = true;
    }
    this.emit(r, out, wasCut);
  }

  private cutAt(s: string): number {
    const c = s.charCodeAt(this.max - 1);
    // Never split a surrogate pair.
    return c >= 0xd800 && c <= 0xdbff ? this.max - 1 : this.max;
  }

  private emit(decoded: string, out: FramedLine[], truncated: boolean): void {
    this.lineNo++;
    const raw = decoded;
    const text = CONTROL.test(raw) ? clean(raw) : raw;
    const lineNo = this.lineNo;
    if (text.lastIndexOf("[") > 0) {
      const parts = splitAtStamps(text);
      if (parts.length > 1) {
        for (let i = 0; i < parts.length; i++) {
          const piece: FramedLine = { text: parts[i]!, raw: i === 0 ? raw : parts[i]!, lineNo };
          if (truncated) piece.truncated = true;
          out.push(piece);
        }
        return;
      }
    }
    const line: FramedLine = { text, raw, lineNo };
    if (truncated) line.truncated = true;
    out.push(line);
  }
}

/** Removes ANSI/OSC escape sequences, NUL and other control characters from one line. */
export function clean(s: string): string {
  return stripAnsi(s).replace(CONTROL_ALL, "");
}

/** Splits a physical line at every printk stamp after its start. */
export function splitAtStamps(text: string): string[] {
  const parts: string[] = [];
  let from = 0;
  STAMP_INSIDE.lastIndex = 1;
  for (let m = STAMP_INSIDE.exec(text); m !== null; m = STAMP_INSIDE.exec(text)) {
    if (m.index > from) {
      const piece = text.slice(from, m.index);
      if (from > 0 || piece.trim().length > 0) parts.push(piece.replace(/\s+$/, ""));
    }
    from = m.index;
  }
  parts.push(text.slice(from));
  return parts;
}
