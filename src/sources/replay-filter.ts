import { readStamp } from "../parse/line.js";

/** Lines remembered per node to recognise a replay: more than `dmesg -w` can print of its ring at once. */
export const REMEMBERED_LINES = 20_000;

/**
 * Drops the lines a reconnected source prints again. A new `dmesg -w` prints the whole kernel ring
 * buffer before it follows; `tail -F` prints the last lines. After {@link ReplayFilter.reconnected},
 * lines already delivered are held back until the first line not seen before; then:
 *
 * - the same boot: that line continues where the last session stopped, and what was held is dropped;
 * - the node rebooted while we were away: the replay began at `[    0.000000]` and the new line's stamp
 *   is behind the last one delivered, so the held lines belong to the new boot and are delivered too.
 *
 * Lines older than what is remembered (a ring that wrapped) are recognised by their stamp.
 */
export class ReplayFilter {
  /**
   * The last lines delivered, oldest first from `next`: a ring, so that remembering costs one store per
   * line. The lookup map is built from it only when a source reconnects, and dropped when the replay is over.
   */
  private readonly ring: string[] = [];
  private next = 0;
  /** Remembered lines and how many times each is in the ring, while replaying. */
  private seen: Map<string, number> | null = null;
  private replaying = false;
  private held: string[] = [];
  private replayStartTs: number | null = null;
  /** The stamp of the last stamped line delivered, as of the last reconnect (kept up while replaying). */
  private lastTs: number | null = null;

  /** A new session began; what follows may repeat what came before. */
  reconnected(): void {
    this.replaying = this.ring.length > 0;
    this.held = [];
    this.replayStartTs = null;
    this.seen = null;
    if (!this.replaying) return;
    const seen = new Map<string, number>();
    for (const l of this.ring) seen.set(l, (seen.get(l) ?? 0) + 1);
    this.seen = seen;
    for (let k = 1; k <= this.ring.length; k++) {
      const i = (this.next - k + this.ring.length) % this.ring.length;
      const ts = readStamp(this.ring[i]!)?.ts;
      if (ts !== undefined) {
        this.lastTs = ts;
        break;
      }
    }
  }

  /** Returns the lines to deliver for one incoming line (none, the line, or held lines and the line). */
  line(text: string): string[] {
    if (!this.replaying) {
      this.remember(text);
      return [text];
    }
    const ts = readStamp(text)?.ts ?? null;
    if (this.replayStartTs === null && ts !== null) this.replayStartTs = ts;
    if (this.seen?.has(text)) {
      this.held.push(text);
      if (this.held.length > REMEMBERED_LINES) this.held.shift();
      return [];
    }
    const behind = ts !== null && this.lastTs !== null && ts < this.lastTs;
    if (behind && this.replayStartTs !== 0) return []; // same boot, older than what is remembered
    if (ts !== null && ts === this.lastTs) {
      // The whole of a line the last session delivered only in part: new, but the replay goes on.
      this.remember(text);
      return [text];
    }
    this.replaying = false;
    const out = behind ? [...this.held, text] : [text];
    this.held = [];
    this.seen = null;
    for (const l of out) this.remember(l);
    return out;
  }

  private remember(text: string): void {
    if (text.length === 0) return;
    const seen = this.seen;
    if (seen) {
      const ts = readStamp(text)?.ts;
      if (ts !== undefined) this.lastTs = ts;
      seen.set(text, (seen.get(text) ?? 0) + 1);
    }
    if (this.ring.length < REMEMBERED_LINES) {
      this.ring.push(text);
      return;
    }
    const old = this.ring[this.next]!;
    this.ring[this.next] = text;
    this.next = (this.next + 1) % REMEMBERED_LINES;
    if (seen) {
      const n = seen.get(old)!;
      if (n > 1) seen.set(old, n - 1);
      else seen.delete(old);
    }
  }
}
