import type { Engine } from "./engine/engine.js";
import type { ConsoleParser } from "./parse/console.js";
import { KeyScanner } from "./parse/key-scan.js";
import { logPrefixEnd } from "./parse/line.js";
import { parserKeys } from "./parse/parser.js";
import type { FramedLine, LineSink } from "./sources/framer.js";

/**
 * Lets most of a console go by without reading it. While a node has nothing half-read, a line that
 * holds none of the parsers' keys, no zero stamp, no second stamp and more than a bare `exact`
 * message would only be counted by the parser and the engine: such lines are counted in bytes,
 * never made into strings, which is most of the cost of a large `scan`. Every other line is framed
 * and parsed as usual, after the counts of the lines passed over before it are handed on, so the
 * events and alerts are exactly those of reading every line.
 */
export class PassOver implements LineSink {
  private readonly scanner: KeyScanner;
  private readonly exactMax: number;
  private node = "";
  private arrival: number | null = null;
  private onLine: (l: FramedLine) => void = () => {};
  /** The chunk whose keys {@link hits} holds, and where the next line's search starts in it. */
  private buf: Buffer | null = null;
  private hits: number[] = [];
  private hit = 0;
  /** The next `[` in the chunk after where the last search started (-1: none left, -2: not searched yet). */
  private bracket = -1;
  /** The run of lines passed over since the last line parsed. */
  private count = 0;
  private lastTs: number | null = null;
  private lastLine = 0;
  /** Set by {@link stamp}: the kernel time read and where the message starts. */
  private ts: number | null = null;
  private msgAt = 0;

  constructor(
    private readonly parser: ConsoleParser,
    private readonly engine: Engine,
  ) {
    const { keys, exactMax } = parserKeys();
    this.scanner = new KeyScanner(keys);
    this.exactMax = exactMax;
  }

  /** The lines that follow are `node`'s, received at `arrival`; those to parse go to `onLine`. */
  begin(node: string, arrival: number | null, onLine: (l: FramedLine) => void): void {
    this.node = node;
    this.arrival = arrival;
    this.onLine = onLine;
  }

  line(l: FramedLine): void {
    this.end();
    this.onLine(l);
  }

  passOver(buf: Buffer, start: number, end: number, lineNo: number): boolean {
    if (!this.parser.quiet(this.node)) return false;
    if (buf !== this.buf) {
      this.buf = buf;
      this.hits = this.scanner.scan(buf, 0, buf.length);
      this.hit = 0;
      this.bracket = -2;
    }
    const hits = this.hits;
    let h = this.hit;
    while (h < hits.length && hits[h]! < start) h++;
    this.hit = h;
    if (h < hits.length && hits[h]! < end) return false;
    if (!this.stamp(buf, start, end) || this.ts === 0) return false;
    const t = trimmedEnd(buf, this.msgAt, end);
    if (t - this.msgAt <= this.exactMax || this.shortAfterKernel(buf, this.msgAt, t)) return false;
    if (this.stampInside(buf, start, end)) return false;
    this.count++;
    if (this.ts !== null) this.lastTs = this.ts;
    this.lastLine = lineNo;
    return true;
  }

  /** The chunk is done: the counts are handed on, and the chunk is let go. */
  finish(): void {
    this.end();
    this.buf = null;
    this.hits = [];
  }

  /** Hands the count of the lines passed over on to the parser and the engine. */
  end(): void {
    if (this.count === 0) return;
    this.parser.passOver(this.node, this.count, this.lastTs);
    this.engine.lines(this.node, this.count, this.lastTs, this.arrival, this.lastLine);
    this.count = 0;
    this.lastTs = null;
  }

  /**
   * The line ends in ` kernel:` and at most an `exact` message: after the journal's `host kernel: `
   * (which the text version takes off, see `hostKernelEnd`), the message may be a bare exact one.
   * Looking at the end of the line only keeps this to a few bytes whatever the line.
   */
  private shortAfterKernel(buf: Buffer, from: number, t: number): boolean {
    for (let d = 0; d <= this.exactMax + 1; d++) {
      const p = t - d - KERNEL.length;
      if (p < from) return false;
      let k = 0;
      while (k < KERNEL.length && buf[p + k] === KERNEL[k]) k++;
      if (k === KERNEL.length) return true;
    }
    return false;
  }

  /**
   * A `[` after the line's first byte followed by blanks, digits and a `.`: maybe a second stamp, which
   * the framer splits the line at. Each `[` of the chunk is searched for once, however long the lines.
   */
  private stampInside(buf: Buffer, start: number, end: number): boolean {
    for (;;) {
      if (this.bracket !== -1 && this.bracket <= start) this.bracket = buf.indexOf(91, start + 1);
      const i = this.bracket;
      if (i === -1 || i >= end) return false;
      let j = i + 1;
      while (j < end && (buf[j] === 32 || (buf[j]! >= 9 && buf[j]! <= 13))) j++;
      const digits = j;
      while (j < end && buf[j]! >= 48 && buf[j]! <= 57) j++;
      if (j > digits && j < end && buf[j] === 46) return true;
      start = i;
    }
  }

  /**
   * Reads the line's printk prefix as `readStamp` and `Stamper` do, into {@link ts} and {@link msgAt}.
   * False when the line has a prefix this cannot vouch for (it is then parsed as usual).
   */
  private stamp(buf: Buffer, start: number, end: number): boolean {
    let i = start;
    if (buf[i] === 60 /* < */) {
      // A `<N>` level: its stamp's `[` is not at the line's start, which the framer looks closer at.
      return false;
    }
    this.ts = null;
    this.msgAt = start;
    const c = buf[i + 1]!;
    if (buf[i] !== 91 /* [ */ || (c !== 32 && (c < 48 || c > 57))) {
      // No printk stamp; the message may still start after a syslog or `dmesg -T` prefix, which only
      // the text version reads. Most unstamped lines start with no capital, digit or `[`.
      const b = buf[i]!;
      if ((b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b === 91)
        this.msgAt = start + logPrefixEnd(buf.toString("latin1", start, end));
      return true;
    }
    i++;
    while (i < end && buf[i] === 32) i++;
    let secs = 0;
    const digits = i;
    for (let c = buf[i]!; i < end && c >= 48 && c <= 57; c = buf[++i]!) secs = secs * 10 + (c - 48);
    if (i === digits || i >= end || buf[i] !== 46 /* . */) return true;
    i++;
    let micros = 0;
    for (let k = 0; k < 6; k++, i++) {
      const c = buf[i]!;
      if (i >= end || c < 48 || c > 57) return true;
      micros = micros * 10 + (c - 48);
    }
    if (i >= end || buf[i] !== 93 /* ] */) return true;
    i++;
    if (i < end && buf[i] === 91 /* [ */) i = callerTagEnd(buf, i, end);
    if (i < end && buf[i] === 32) i++;
    this.ts = secs + micros / 1e6;
    this.msgAt = i;
    return true;
  }
}

/** ` kernel:`, byte by byte. */
const KERNEL = [32, 107, 101, 114, 110, 101, 108, 58];

/** After a caller tag `[  T123]` or `[  C1]` at `i`, or `i` itself when there is none. */
function callerTagEnd(buf: Buffer, i: number, end: number): number {
  let j = i + 1;
  while (j < end && buf[j] === 32) j++;
  if (j >= end || (buf[j] !== 84 /* T */ && buf[j] !== 67) /* C */) return i;
  const digits = ++j;
  while (j < end && buf[j]! >= 48 && buf[j]! <= 57) j++;
  return j > digits && j < end && buf[j] === 93 /* ] */ ? j + 1 : i;
}

/** Where the line ends once trailing blanks are dropped, as `String.prototype.trimEnd` drops them. */
function trimmedEnd(buf: Buffer, from: number, end: number): number {
  let t = end;
  while (t > from && (buf[t - 1] === 32 || (buf[t - 1]! >= 9 && buf[t - 1]! <= 13))) t--;
  return t;
}
