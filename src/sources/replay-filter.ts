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
  /** Remembered lines and how many times each is in `order`. */
  private readonly seen = new Map<string, number>();
  private readonly order: string[] = [];
  private head = 0;
  private replaying = false;
  private held: string[] = [];
  private replayStartTs: number | null = null;
  private lastTs: number | null = null;

  /** A new session began; what follows may repeat what came before. */
  reconnected(): void {
    this.replaying = this.order.length - this.head > 0;
    this.held = [];
    this.replayStartTs = null;
  }

  /** Returns the lines to deliver for one incoming line (none, the line, or held lines and the line). */
  line(text: string): string[] {
    const ts = readStamp(text)?.ts ?? null;
    if (this.replaying) {
      if (this.replayStartTs === null && ts !== null) this.replayStartTs = ts;
      if (this.seen.has(text)) {
        this.held.push(text);
        if (this.held.length > REMEMBERED_LINES) this.held.shift();
        return [];
      }
      const behind = ts !== null && this.lastTs !== null && ts < this.lastTs;
      if (behind && this.replayStartTs !== 0) return []; // same boot, older than what is remembered
      if (ts !== null && ts === this.lastTs) {
        // The whole of a line the last session delivered only in part: new, but the replay goes on.
        this.remember(text, ts);
        return [text];
      }
      this.replaying = false;
      const out = behind ? [...this.held, text] : [text];
      this.held = [];
      for (const l of out) this.remember(l, readStamp(l)?.ts ?? null);
      return out;
    }
    this.remember(text, ts);
    return [text];
  }

  private remember(text: string, ts: number | null): void {
    if (ts !== null) this.lastTs = ts;
    if (text.length === 0) return;
    this.seen.set(text, (this.seen.get(text) ?? 0) + 1);
    this.order.push(text);
    if (this.order.length - this.head > REMEMBERED_LINES) {
      const old = this.order[this.head]!;
      const n = this.seen.get(old)!;
      if (n > 1) this.seen.set(old, n - 1);
      else this.seen.delete(old);
      this.head++;
      if (this.head > REMEMBERED_LINES) {
        this.order.splice(0, this.head);
        this.head = 0;
      }
    }
  }
}
