import { isAscii, isUtf8 } from "node:buffer";
import { hasMarkedByte, MAX_LINE_LENGTH } from "../sources/framer.js";

/**
 * Console bytes to session line records (see `session.ts`): one JSON line per console line, keeping
 * each node's unfinished line until its end arrives. Pure: the records come back as text; writing is the
 * caller's. Runs in the recording thread (`writer-thread.ts`), where a flood of lines costs the watch
 * nothing.
 */
export class LineEncoder {
  /** Each node's unfinished line: its parts (a serial line may come a few bytes at a time), when it began. */
  private readonly partial = new Map<string, { parts: Buffer[]; length: number; t: number }>();
  private readonly names = new Map<string, string>();

  /** Records for the lines that `bytes` (received at `t`) completes; an unfinished last line waits. */
  chunk(t: number, node: string, bytes: Buffer): string {
    let out = "";
    let start = 0;
    const held = this.partial.get(node);
    if (held) {
      const nl = bytes.indexOf(0x0a);
      if (nl === -1) {
        // A copy: the chunk it came in is not kept alive for a few bytes.
        held.parts.push(Buffer.from(bytes));
        held.length += bytes.length;
        // A line that never ends is written in pieces rather than kept without bound.
        if (held.length < MAX_PARTIAL) return "";
        this.partial.delete(node);
        const joined = Buffer.concat(held.parts, held.length);
        return this.record(t, node, joined, 0, joined.length, true);
      }
      this.partial.delete(node);
      held.parts.push(bytes.subarray(0, nl));
      out = this.record(t, node, Buffer.concat(held.parts), 0, -1, false);
      start = nl + 1;
    }
    const last = bytes.lastIndexOf(0x0a);
    if (last >= start) out += this.lines(t, node, bytes, start, last + 1);
    const rest = Math.max(start, last + 1);
    if (rest < bytes.length) {
      if (bytes.length - rest >= MAX_PARTIAL)
        return out + this.record(t, node, bytes, rest, bytes.length, true);
      this.partial.set(node, { parts: [Buffer.from(bytes.subarray(rest))], length: bytes.length - rest, t });
    }
    return out;
  }

  /**
   * `node`'s unfinished line as a piece (`"c":1`), written before the node goes quiet, reconnects or the
   * recording flushes, so that nothing received is held back and a replay cuts the line where live did.
   */
  unfinished(node: string): string {
    const held = this.partial.get(node);
    if (!held) return "";
    this.partial.delete(node);
    const bytes = Buffer.concat(held.parts, held.length);
    return this.record(held.t, node, bytes, 0, bytes.length, true);
  }

  /** Every node's unfinished line as a piece. */
  allUnfinished(): string {
    let out = "";
    for (const node of [...this.partial.keys()]) out += this.unfinished(node);
    return out;
  }

  /** Whole lines `bytes[start, end)`, `end` just after a line end. */
  private lines(t: number, node: string, bytes: Buffer, start: number, end: number): string {
    const head = this.head(t, node);
    // The usual case, a run of printable ASCII lines, in one pass of native string code.
    if (isAscii(bytes.subarray(start, end)) && !needsEscape(bytes, start, end - 1)) {
      // With its last line end, so that a serial console's `\r\n` goes the same way as the others.
      let s = bytes.toString("latin1", start, end);
      if (s.includes("\r")) s = s.replaceAll("\r\n", "\n");
      if (!s.includes("\r")) return `${head}"${s.slice(0, -1).replaceAll("\n", `"}\n${head}"`)}"}\n`;
    }
    let out = "";
    for (let a = start; a < end; ) {
      const nl = bytes.indexOf(0x0a, a);
      out += this.record(t, node, bytes, a, nl, false);
      a = nl + 1;
    }
    return out;
  }

  /**
   * One record of `bytes[start, end)` (`end` -1: to the end of `bytes`): a whole line without its line
   * end, or a piece of one.
   */
  private record(t: number, node: string, bytes: Buffer, start: number, end: number, piece: boolean): string {
    let e = end === -1 ? bytes.length : end;
    if (!piece && e > start && bytes[e - 1] === 0x0d) e--;
    const line = bytes.subarray(start, e);
    const tail = piece ? ',"c":1}\n' : "}\n";
    const head = this.head(t, node);
    if (isUtf8(line)) return `${head}${JSON.stringify(line.toString("utf8"))}${tail}`;
    // Not text: its bytes in base64, so that every byte survives.
    return `${head.slice(0, -4)}"x":"${line.toString("base64")}"${tail}`;
  }

  /** `{"t":T,"n":"NODE","l":` */
  private head(t: number, node: string): string {
    let n = this.names.get(node);
    if (n === undefined) {
      n = JSON.stringify(node);
      this.names.set(node, n);
    }
    return `{"t":${t},"n":${n},"l":`;
  }
}

/** The longest unfinished line kept whole, bytes: the framer's own limit. */
const MAX_PARTIAL = MAX_LINE_LENGTH;

/** Controls a JSON string must escape, line ends aside (they end records, or go before that). */
const JSON_CONTROL = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) if (b !== 0x0a && b !== 0x0d) JSON_CONTROL[b] = 1;

/** True when ASCII `bytes[start, end)` holds a byte a JSON string must escape: `"`, `\`, or a control other than a line end. */
function needsEscape(bytes: Buffer, start: number, end: number): boolean {
  const quote = bytes.indexOf(0x22, start);
  if (quote !== -1 && quote < end) return true;
  const backslash = bytes.indexOf(0x5c, start);
  if (backslash !== -1 && backslash < end) return true;
  return hasMarkedByte(JSON_CONTROL, bytes, start, end);
}
