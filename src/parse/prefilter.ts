/**
 * Finds the leftmost of many literal keys in a line, fast: the cheap test every console line pays
 * before any format table is tried. A Wu-Manber scan: it looks at the last two characters of a
 * window as long as the shortest key and skips ahead as far as no key can match, so most lines are
 * passed over in a few steps per word. One regex alternation of ~100 literals tries every key at
 * every position and costs about ten times as much here.
 */
export class KeyFinder {
  /** Keys shorter than this cannot be searched for with a useful skip. */
  static readonly MIN_KEY = 4;
  private readonly m: number;
  private readonly shift = new Uint8Array(65536);
  private readonly candidates = new Map<number, string[]>();

  constructor(keys: Iterable<string>) {
    const list = [...new Set(keys)];
    if (list.length === 0) throw new Error("KeyFinder needs at least one key");
    for (const k of list) {
      if (k.length < KeyFinder.MIN_KEY) throw new Error(`key "${k}" is shorter than ${KeyFinder.MIN_KEY} characters`);
    }
    const m = Math.min(...list.map((k) => k.length));
    this.m = m;
    this.shift.fill(m - 1);
    for (const k of list) {
      for (let q = 2; q <= m; q++) {
        const h = hash(k.charCodeAt(q - 2), k.charCodeAt(q - 1));
        const s = m - q;
        if (s < this.shift[h]!) this.shift[h] = s;
      }
      const h = hash(k.charCodeAt(m - 2), k.charCodeAt(m - 1));
      const c = this.candidates.get(h);
      if (c) c.push(k);
      else this.candidates.set(h, [k]);
    }
    // Longer keys first, so that of two keys starting at one place the longer is reported.
    for (const c of this.candidates.values()) c.sort((a, b) => b.length - a.length);
  }

  /** The leftmost key in `text` (the longest one at that place), or null. */
  find(text: string): string | null {
    const m = this.m;
    const n = text.length;
    const shift = this.shift;
    let pos = m - 1;
    while (pos < n) {
      const h = hash(text.charCodeAt(pos - 1), text.charCodeAt(pos));
      const s = shift[h]!;
      if (s > 0) {
        pos += s;
        continue;
      }
      const cands = this.candidates.get(h);
      if (cands) {
        const at = pos - m + 1;
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
