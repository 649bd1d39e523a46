/**
 * Finds every place in a chunk of console bytes where one of the parsers' keys starts, before the
 * chunk is cut into lines: lines holding none of them, most of a console, need never become strings.
 *
 * Long keys go through one Wu-Manber walk over the bytes: it reads the last two bytes of an 8-byte
 * window and skips as far as no key can start. Each key is entered by the 8 bytes of it whose last
 * two are least common in console text, so that common pairs (`: `, `n `, `00`) skip instead of
 * stopping the walk. Shorter keys are searched natively, each from a rare byte of it on.
 */
export class KeyScanner {
  /** The window of the Wu-Manber walk; keys shorter than this are searched on their own. */
  static readonly WINDOW = 8;
  private readonly shift = new Uint8Array(65536);
  /** Keys by the pair of bytes that ends their window, with where that window starts in them. */
  private readonly entries: ({ key: Uint8Array; at: number }[] | undefined)[] = new Array(65536);
  private readonly short: { key: Uint8Array; anchor: Uint8Array; at: number }[] = [];
  private readonly hasLong: boolean;

  constructor(keys: Iterable<string>) {
    const m = KeyScanner.WINDOW;
    this.shift.fill(m - 1);
    let long = 0;
    for (const k of new Set(keys)) {
      const key = Buffer.from(k, "latin1");
      if (key.length < m) {
        const at = rareStart(key);
        this.short.push({ key, anchor: key.subarray(at), at });
        continue;
      }
      long++;
      const at = rareWindow(key, m);
      for (let q = 2; q <= m; q++) {
        const h = (key[at + q - 2]! << 8) | key[at + q - 1]!;
        if (m - q < this.shift[h]!) this.shift[h] = m - q;
      }
      const h = (key[at + m - 2]! << 8) | key[at + m - 1]!;
      const list = this.entries[h] ?? [];
      list.push({ key, at });
      this.entries[h] = list;
    }
    this.hasLong = long > 0;
  }

  /** Where a key starts in `buf[start, end)`, each place once, in increasing order. */
  scan(buf: Uint8Array, start: number, end: number): number[] {
    const found: number[] = [];
    if (this.hasLong) this.walk(buf, start, end, found);
    // A view that ends where the range ends, so that a native search never runs on past it.
    const b = Buffer.from(buf.buffer, buf.byteOffset, end);
    for (const { key, anchor, at } of this.short) {
      for (let p = b.indexOf(anchor, start + at); p !== -1; p = b.indexOf(anchor, p + 1)) {
        if (matches(b, p - at, key, start, end)) found.push(p - at);
      }
    }
    // The walk finds keys in the order their windows end, and short keys come after: sort.
    found.sort((x, y) => x - y);
    let n = 0;
    for (let i = 0; i < found.length; i++) if (n === 0 || found[i] !== found[n - 1]) found[n++] = found[i]!;
    found.length = n;
    return found;
  }

  private walk(buf: Uint8Array, start: number, end: number, found: number[]): void {
    const m = KeyScanner.WINDOW;
    const shift = this.shift;
    const entries = this.entries;
    for (let pos = start + m - 1; pos < end; ) {
      const h = (buf[pos - 1]! << 8) | buf[pos]!;
      const s = shift[h]!;
      if (s > 0) {
        pos += s;
        continue;
      }
      const list = entries[h];
      if (list !== undefined) {
        for (let i = 0; i < list.length; i++) {
          const e = list[i]!;
          const from = pos - (m - 1) - e.at;
          if (matches(buf, from, e.key, start, end)) found.push(from);
        }
      }
      pos++;
    }
  }
}

function matches(buf: Uint8Array, at: number, key: Uint8Array, start: number, end: number): boolean {
  if (at < start || at + key.length > end) return false;
  for (let j = 0; j < key.length; j++) if (buf[at + j] !== key[j]) return false;
  return true;
}

/**
 * How common a byte is in console text, roughly: blanks, digits and the stamp's brackets are on
 * every line, then the usual letters of English; capitals and most punctuation are rare.
 */
function commonness(b: number): number {
  if (b === 32) return 8;
  if ((b >= 48 && b <= 57) || b === 91 || b === 93 || b === 46) return 6;
  if (b === 58 || b === 61) return 5;
  if (b >= 97 && b <= 122) return "etaoinsrhldcu".includes(String.fromCharCode(b)) ? 4 : 3;
  if (b === 95) return 3;
  return 2;
}

/** Where the `m`-byte window of `key` starts whose last two bytes are least common. */
function rareWindow(key: Uint8Array, m: number): number {
  let best = 0;
  let bestCost = Number.POSITIVE_INFINITY;
  for (let at = 0; at + m <= key.length; at++) {
    const cost = commonness(key[at + m - 2]!) + commonness(key[at + m - 1]!);
    if (cost < bestCost) {
      bestCost = cost;
      best = at;
    }
  }
  return best;
}

/**
 * Where to start the native search for a short key: at its least common byte among those that leave
 * at least three bytes to search for (a native search is fastest when its first byte is rare).
 */
function rareStart(key: Uint8Array): number {
  let best = 0;
  for (let at = 1; at + 3 <= key.length; at++) {
    if (commonness(key[at]!) < commonness(key[best]!)) best = at;
  }
  return best;
}
