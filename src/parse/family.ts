import type { EventBase, ParsedEvent } from "./events.js";
import type { LogLine } from "./line.js";

/**
 * A family of one-line messages. `keys` are literal substrings, one of which every message of the
 * family contains: all families' keys form one combined prefilter, so a line that contains none of
 * them costs a single regex test.
 */
export interface LineFamily {
  name: string;
  keys: readonly string[];
  /** Parses a line that contains one of `keys`; null when it is not this family's after all. */
  parse(line: LogLine, base: EventBase): ParsedEvent | null;
}

/** What an open block does with the next line of its node. */
export type Feed =
  /** The line belongs to the block. */
  | "take"
  /** The line belongs to the block and closes it. */
  | "done"
  /** The line is not the block's: the block closes and the line is parsed on its own. */
  | "end";

/** A multi-line message being collected (a thpool `Watchdog:` block, a profile table...). */
export interface Block {
  feed(line: LogLine): Feed;
  /** Closes the block. `cut` is true when the log ended or went quiet before the block's natural end. */
  close(cut: boolean): ParsedEvent[];
}

/** A family whose messages span several lines. */
export interface BlockFamily {
  name: string;
  keys: readonly string[];
  /**
   * Whole messages (trailing blanks ignored) that open a block though they hold no key: a stamped
   * line with nothing but a prefix, such as the `fit:` that starts the lost-CQE banner.
   */
  exact?: readonly string[];
  /** Opens a block when `line` starts one (the first line is already taken). */
  open(line: LogLine, base: EventBase): Block | null;
}

/** The fields every event copies from its first line. */
export function baseOf(line: LogLine): EventBase {
  return { node: line.node, ts: line.ts, line: line.lineNo, arrival: line.arrival, text: line.text };
}

/** An event's own fields: everything but the base and the type. */
export type FieldsOf<E extends ParsedEvent> = Omit<E, keyof EventBase | "type">;

/** One format of a line family: its regex, and the fields a match gives (null: not this one after all). */
export interface FormatRow<F> {
  re: RegExp;
  build(m: RegExpExecArray): F | null;
}

/** The fields the first row that matches `msg` and accepts the match gives, in table order. */
export function firstRow<F>(rows: readonly FormatRow<F>[], msg: string): F | null {
  for (const row of rows) {
    const m = row.re.exec(msg);
    if (!m) continue;
    const f = row.build(m);
    if (f) return f;
  }
  return null;
}

/**
 * The event `{ ...base, type, ...fields }`, with its keys in that order (the order `scan --json`
 * writes them in), built without object spread: V8 11 (Node 20) takes a slow path of several µs
 * for a spread followed by more properties, which made building events the parsers' main cost.
 */
export function eventOf<E extends ParsedEvent>(
  base: EventBase,
  type: E["type"],
  fields?: Partial<FieldsOf<E>>,
): E {
  const e: Record<string, unknown> = {
    node: base.node,
    ts: base.ts,
    line: base.line,
    arrival: base.arrival,
    text: base.text,
    type,
  };
  const src = fields as Record<string, unknown> | undefined;
  for (const k in src) putOwn(e, k, src[k]);
  return e as unknown as E;
}

/**
 * `o[k] = v` as spread would do it: a plain own key, even for `__proto__`, whose assignment would set
 * the prototype instead.
 */
export function putOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__")
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** `0x1f`, `1f` or `(null)` as printed by `%p`/`%#lx`, exact beyond 2^53. Null when not hex. */
export function hex(s: string): bigint | null {
  const t = s.trim();
  if (t === "(null)") return 0n;
  const body = t.startsWith("0x") || t.startsWith("0X") ? t.slice(2) : t;
  if (!/^[0-9a-fA-F]+$/.test(body)) return null;
  return BigInt(`0x${body}`);
}

/** The function of a `%pS` symbol: `fit_poll_cq+0x4ad/0x510` gives `fit_poll_cq`. */
export function fnOf(sym: string): string {
  const plus = sym.indexOf("+");
  return (plus === -1 ? sym : sym.slice(0, plus)).trim();
}
