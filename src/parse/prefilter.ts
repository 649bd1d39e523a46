/**
 * Finds the leftmost of many literal keys in a line, fast: the cheap test every console line pays
 * before any format table is tried. A Wu-Manber scan: it looks at the last two characters of a
 * window as long as the shortest key and skips ahead as far as no key can match, so most lines are
 * passed over in a few steps per word. One regex alternation of ~100 literals tries every key at
 * every position and costs about ten times as much here.
 */
export class KeyFinder {
  /** Keys shorter than this cannot be searched for at all. */
  static readonly MIN_KEY = 4;
  /** Keys at least this long are skipped over; the few shorter ones go to a small regex. */
  static readonly SKIP_KEY = 5;
  private readonly m: number;
  private readonly shift = new Uint8Array(65536);
  /** Keys by the hash of the last block of their first `m` characters. */
  private readonly candidates: (string[] | undefined)[] = new Array(65536);
  /** Hashes of the first two characters of every key: a quick check before comparing strings. */
  private readonly heads = new Uint8Array(65536);
  private readonly short: string[];
  private readonly hasLong: boolean;

  constructor(keys: Iterable<string>) {
    const all = [...new Set(keys)];
    if (all.length === 0) throw new Error("KeyFinder needs at least one key");
    for (const k of all) {
      if (k.length < KeyFinder.MIN_KEY)
        throw new Error(`key "${k}" is shorter than ${KeyFinder.MIN_KEY} characters`);
    }
    this.short = all.filter((k) => k.length < KeyFinder.SKIP_KEY).sort((a, b) => b.length - a.length);
    const list = all.filter((k) => k.length >= KeyFinder.SKIP_KEY);
    this.hasLong = list.length > 0;
    const m = list.length > 0 ? Math.min(...list.map((k) => k.length)) : 2;
    this.m = m;
    this.shift.fill(m - 1);
    for (const k of list) {
      for (let q = 2; q <= m; q++) {
        const h = hash(k.charCodeAt(q - 2), k.charCodeAt(q - 1));
        const s = m - q;
        if (s < this.shift[h]!) this.shift[h] = s;
      }
      const h = hash(k.charCodeAt(m - 2), k.charCodeAt(m - 1));
      const list = this.candidates[h] ?? [];
      list.push(k);
      this.candidates[h] = list;
      this.heads[hash(k.charCodeAt(0), k.charCodeAt(1))] = 1;
    }
    // Longer keys first, so that of two keys starting at one place the longer is reported.
    for (const c of this.candidates) c?.sort((a, b) => b.length - a.length);
  }

  /**
   * The leftmost key in `text` (the longest one at that place) that starts at `from` or after, or null.
   * `find(line.text, at)` reads the line as the framer made it, a flat string, which is faster than
   * reading `text.slice(at)`: V8 makes that a view into `text` and looks through it at each character.
   */
  find(text: string, from = 0): string | null {
    // The few short keys cost one native search each.
    let shortHit: string | null = null;
    let shortAt = text.length;
    for (const k of this.short) {
      const at = text.indexOf(k, from);
      // Longest first, so at one place the longer key stays.
      if (at !== -1 && at < shortAt) {
        shortAt = at;
        shortHit = k;
      }
    }
    // A long key found at or before the short one is leftmost, or at the same place and longer.
    return this.scan(text, from, shortAt) ?? shortHit;
  }

  /** Every key that occurs in `text`, each once (in no particular order). */
  findAll(text: string): string[] {
    const found: string[] = [];
    for (const k of this.short) if (text.includes(k)) found.push(k);
    if (!this.hasLong) return found;
    const m = this.m;
    const n = text.length;
    const shift = this.shift;
    // The same walk as `scan`, on to the end: a skip never passes over a place where a key starts.
    for (let pos = m - 1; pos < n; ) {
      const h = hash(text.charCodeAt(pos - 1), text.charCodeAt(pos));
      const s = shift[h]!;
      if (s > 0) {
        pos += s;
        continue;
      }
      const at = pos - m + 1;
      const cands = this.candidates[h];
      if (cands) for (const k of cands) if (text.startsWith(k, at) && !found.includes(k)) found.push(k);
      pos++;
    }
    return found;
  }

  /** The leftmost long key starting at or after `from` and at or before `maxStart`. */
  private scan(text: string, from: number, maxStart: number): string | null {
    const m = this.m;
    if (!this.hasLong) return null;
    const n = Math.min(text.length, maxStart + m);
    const heads = this.heads;
    const shift = this.shift;
    let pos = from + m - 1;
    while (pos < n) {
      const h = hash(text.charCodeAt(pos - 1), text.charCodeAt(pos));
      const s = shift[h]!;
      if (s > 0) {
        pos += s;
        continue;
      }
      const at = pos - m + 1;
      const cands = this.candidates[h];
      if (cands && heads[hash(text.charCodeAt(at), text.charCodeAt(at + 1))] === 1) {
        for (const k of cands) if (text.startsWith(k, at)) return k;
      }
      pos++;
    }
    return null;
  }
}

/** Two UTF-16 units to a table index; characters past Latin-1 share slots, which only costs a check. */
function hash(a: number, b: number): number {
  return ((a & 0xff) << 8) | (b & 0xff);
}
