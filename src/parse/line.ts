/** A console line after its printk stamp was read: the unit every parser sees. */
export interface LogLine {
  /** The node whose console printed it (`P`, `M`, a host name...). */
  node: string;
  /** 1-based line number in its source. */
  lineNo: number;
  /** Kernel time in seconds from the `[  123.456789]` stamp, or null when the line has none. */
  ts: number | null;
  /** The message after the stamp (the whole line when there is none). */
  msg: string;
  /** The whole display line, stamp included. */
  text: string;
  /** Milliseconds since the epoch when the monitor received it; null when unknown (a file read after the fact). */
  arrival: number | null;
  /**
   * No stamp, on a node that stamps its lines: the rest of a multi-line printk or a `pr_cont` piece,
   * attached to the message before it.
   */
  cont: boolean;
  /** The framer cut this line because it was too long. */
  truncated?: true;
  /**
   * Who printed it, from a CONFIG_PRINTK_CALLER tag: `T123` (a task) or `C1` (a CPU outside task
   * context). Reports of two callers may interleave line by line; this tells them apart.
   */
  caller?: string;
}

/**
 * Where a `<N>` log level at the start of a line ends (0 when there is none): consoles that print
 * levels (`console_loglevel` dumps, `/dev/kmsg` readers) put it before the stamp.
 */
export function levelEnd(text: string): number {
  if (text.charCodeAt(0) !== 60 /* < */) return 0;
  let i = 1;
  for (let c = text.charCodeAt(i); c >= 48 && c <= 57 && i < 4; c = text.charCodeAt(++i));
  return i > 1 && text.charCodeAt(i) === 62 /* > */ ? i + 1 : 0;
}

/**
 * What a log file puts before a kernel message instead of a printk stamp: syslog and the journal
 * (`Nov 26 01:02:03 host kernel: `, with `.123456` in journalctl's short-precise, the ISO form
 * `2026-11-26T01:02:03.123456+00:00 host kernel: `, short-full's `Thu 2026-11-26 01:02:03 UTC host
 * kernel: `) and `dmesg -T` (`[Thu Nov 26 01:02:03 2026] `). Crash logs pasted into bug reports often
 * come this way.
 */
const LOG_PREFIX =
  /^(?:(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?|[A-Z][a-z]{2} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [A-Z]{1,5}) \S+ kernel: ?|\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\] ?)/;

/** Where a syslog, journal or `dmesg -T` prefix ends in `text` from `at` on (`at` when there is none). */
export function logPrefixEnd(text: string, at = 0): number {
  const c = text.charCodeAt(at);
  // Most lines start otherwise: a capital, a digit or a `[` comes before the regex.
  if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 91)) return at;
  const m = LOG_PREFIX.exec(at === 0 ? text : text.slice(at));
  return m ? at + m[0].length : at;
}

/**
 * Reads the printk stamp `[%5lu.%06lu] ` at the start of a line, after a `<N>` level or a syslog prefix
 * (kern.log keeps the stamp after it) if any, and the caller tag `[  T123]`/`[  C1]` a
 * CONFIG_PRINTK_CALLER kernel prints after it. Returns the kernel time in seconds and where the message
 * starts, or null. Hand-written because it runs on every line.
 */
export function readStamp(text: string): { ts: number; at: number; caller?: string } | null {
  return readStart(text, { at: 0 });
}

/**
 * {@link readStamp}, and for a line without a stamp where its message starts (after a level and a
 * syslog or `dmesg -T` prefix), written to `noStamp.at`: the prefix is looked for once per line.
 */
function readStart(
  text: string,
  noStamp: { at: number },
): { ts: number; at: number; caller?: string } | null {
  const level = levelEnd(text);
  const stamp = stampAt(text, level);
  if (stamp !== null) return stamp;
  const prefix = logPrefixEnd(text, level);
  noStamp.at = prefix;
  return level === 0 && prefix > 0 ? stampAt(text, prefix) : null;
}

function stampAt(text: string, start: number): { ts: number; at: number; caller?: string } | null {
  if (text.charCodeAt(start) !== 91 /* [ */) return null;
  let i = start + 1;
  const n = text.length;
  while (i < n && text.charCodeAt(i) === 32) i++;
  let secs = 0;
  const digitsFrom = i;
  for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) secs = secs * 10 + (c - 48);
  if (i === digitsFrom || text.charCodeAt(i) !== 46 /* . */) return null;
  i++;
  let micros = 0;
  for (let k = 0; k < 6; k++, i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    micros = micros * 10 + (c - 48);
  }
  if (text.charCodeAt(i) !== 93 /* ] */) return null;
  i++;
  const ts = secs + micros / 1e6;
  if (text.charCodeAt(i) === 91 /* [ */) {
    const end = callerTagEnd(text, i);
    if (end > i) {
      const caller = text.slice(i + 1, end - 1).trim();
      return { ts, at: hostKernelEnd(text, text.charCodeAt(end) === 32 ? end + 1 : end), caller };
    }
  }
  if (text.charCodeAt(i) === 32) i++;
  return { ts, at: hostKernelEnd(text, i) };
}

/**
 * After `host kernel: ` at `i`, or `i` itself when it is not there: the journal's monotonic form
 * (`journalctl -k -o short-monotonic`) puts the host and `kernel:` after the stamp.
 */
function hostKernelEnd(text: string, i: number): number {
  let j = i;
  for (let c = text.charCodeAt(j); isHostChar(c); c = text.charCodeAt(++j));
  if (j === i || !text.startsWith(" kernel:", j)) return i;
  j += 8;
  return text.charCodeAt(j) === 32 ? j + 1 : j;
}

/** A character of a host name: a letter, a digit, `.`, `-` or `_`. */
function isHostChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 45 || c === 95
  );
}

/** After a caller tag `[  T123]` or `[  C1]` starting at `i`, or `i` itself when there is none. */
function callerTagEnd(text: string, i: number): number {
  let j = i + 1;
  while (text.charCodeAt(j) === 32) j++;
  const c = text.charCodeAt(j);
  if (c !== 84 /* T */ && c !== 67 /* C */) return i;
  const digits = ++j;
  while (text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
  return j > digits && text.charCodeAt(j) === 93 /* ] */ ? j + 1 : i;
}

/** Formats kernel seconds the way printk does, for messages and evidence. */
export function formatStamp(ts: number): string {
  const secs = Math.floor(ts);
  const micros = Math.round((ts - secs) * 1e6);
  return `[${String(secs).padStart(5)}.${String(micros).padStart(6, "0")}]`;
}

/**
 * Turns one node's framed lines into {@link LogLine}s, deciding which unstamped lines are
 * continuations: once a node has shown a stamp, an unstamped line continues the message before it.
 * A console that never stamps (a pasted excerpt, a `dmesg -t`) gets no continuations.
 */
export class Stamper {
  private stamped = false;
  /** Where the message of an unstamped line starts, from {@link readStart}. */
  private readonly noStamp = { at: 0 };

  constructor(readonly node: string) {}

  line(text: string, lineNo: number, arrival: number | null, truncated?: boolean): LogLine {
    const stamp = readStart(text, this.noStamp);
    let line: LogLine;
    if (stamp) {
      this.stamped = true;
      line = { node: this.node, lineNo, ts: stamp.ts, msg: text.slice(stamp.at), text, arrival, cont: false };
      if (stamp.caller !== undefined) line.caller = stamp.caller;
    } else {
      const at = this.noStamp.at;
      const msg = at > 0 ? text.slice(at) : text;
      line = { node: this.node, lineNo, ts: null, msg, text, arrival, cont: this.stamped };
    }
    if (truncated) line.truncated = true;
    return line;
  }

  /** A stamped line went by unread: the lines after an unstamped one are continuations. */
  sawStamp(): void {
    this.stamped = true;
  }

  /** Forgets what was learnt, for a source that reconnected to a different console. */
  reset(): void {
    this.stamped = false;
  }
}
