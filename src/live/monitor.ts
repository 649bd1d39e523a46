import type { Pipeline } from "../pipeline.js";
import type { Source, SourceStatus } from "../sources/source.js";

/** A node being watched live. */
export interface LiveNode {
  name: string;
  source: Source;
}

/** A status change, with how long the node was cut off when it comes back. */
export interface NodeStatus extends SourceStatus {
  node: string;
  /** With `connected` after a drop: how long no bytes could flow, ms. */
  gapMs?: number;
}

/** Options of a {@link Monitor}. */
export interface MonitorOptions {
  /** How often the engine's clock ticks, ms. */
  tickMs?: number;
  /** The clock; tests pass their own. */
  now?: () => number;
  onStatus?: (s: NodeStatus) => void;
  /** Lines a node lost because its queue overflowed (the monitor fell behind a flood). */
  onDropped?: (node: string, lines: number) => void;
  /**
   * Bytes one node may have waiting before new bytes are dropped (and counted): the last resort, for
   * sources that cannot pause or bytes that keep coming after a pause.
   */
  maxQueuedBytes?: number;
  /** Bytes waiting above which a node's source is paused (if it can be); at most half of `maxQueuedBytes`. */
  pauseAboveBytes?: number;
  /** Bytes waiting below which a paused source is resumed; at most half of the pause mark. */
  resumeBelowBytes?: number;
}

/** Bytes handled per node per turn: small enough that a flood cannot hold the others up for long. */
const SLICE_BYTES = 256 * 1024;
const MAX_QUEUED_BYTES = 32 * 1024 * 1024;
/**
 * Well above what a turn takes, so that a busy but keeping-up source is not paused and resumed every few
 * turns, and well below the bound, so that what a paused source still delivers (an SSH window, socket
 * buffers) fits.
 */
const PAUSE_ABOVE_BYTES = 8 * 1024 * 1024;
const RESUME_BELOW_BYTES = 1024 * 1024;

interface Queue {
  chunks: { data: Uint8Array; at: number }[];
  bytes: number;
  droppedLines: number;
  lostSince: number | null;
  everConnected: boolean;
  source: Source;
  /** Whether the monitor paused the source because this queue grew past the pause mark. */
  paused: boolean;
}

/**
 * Runs sources into the pipeline: each chunk is stamped with its receive time when it arrives, queued
 * per node, and handed to the parser round-robin in bounded slices, so one flooding source never delays
 * the others. A source whose queue grows past the pause mark is paused until the queue drains below the
 * resume mark, so a flood is slowed down at its sender instead of lost; a queue over its hard bound (a
 * source that cannot pause) drops new bytes and says how many lines it lost. The clock ticks on its own,
 * so silence, stuck workers and cut-off crash reports are noticed with no new line.
 */
export class Monitor {
  private readonly queues = new Map<string, Queue>();
  /** The last status of each node. */
  readonly statuses = new Map<string, SourceStatus>();
  private timer: NodeJS.Timeout | null = null;
  private scheduled = false;
  private readonly now: () => number;
  private readonly maxQueued: number;
  private readonly pauseAbove: number;
  private readonly resumeBelow: number;

  constructor(
    private readonly nodes: readonly LiveNode[],
    private readonly pipeline: Pipeline,
    private readonly o: MonitorOptions = {},
  ) {
    this.now = o.now ?? Date.now;
    this.maxQueued = o.maxQueuedBytes ?? MAX_QUEUED_BYTES;
    this.pauseAbove = Math.min(o.pauseAboveBytes ?? PAUSE_ABOVE_BYTES, this.maxQueued / 2);
    this.resumeBelow = Math.min(o.resumeBelowBytes ?? RESUME_BELOW_BYTES, this.pauseAbove / 2);
  }

  /** Starts every source and the clock. */
  start(): void {
    for (const n of this.nodes) {
      const q: Queue = {
        chunks: [],
        bytes: 0,
        droppedLines: 0,
        lostSince: null,
        everConnected: false,
        source: n.source,
        paused: false,
      };
      this.queues.set(n.name, q);
      n.source.start({
        data: (chunk) => this.enqueue(q, chunk),
        status: (s) => this.changed(n.name, q, s),
        reconnected: () => {
          this.drain(n.name, q);
          this.pipeline.reconnected(n.name, this.now());
        },
        dropped: (bytes) => this.o.onDropped?.(n.name, Math.max(1, Math.round(bytes / 100))),
      });
    }
    this.timer = setInterval(() => this.tick(), this.o.tickMs ?? 250);
    this.timer.unref();
  }

  /** Stops every source, then lets the parser finish what it holds. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.nodes.map((n) => n.source.stop()));
    for (const [name, q] of this.queues) {
      // Stopped sources are not resumed.
      q.paused = false;
      this.drain(name, q);
    }
    this.pipeline.end();
  }

  private changed(node: string, q: Queue, s: SourceStatus): void {
    const prev = this.statuses.get(node);
    this.statuses.set(node, s);
    const out: NodeStatus = { node, ...s };
    if (s.state === "connected") {
      if (q.lostSince !== null) out.gapMs = this.now() - q.lostSince;
      q.lostSince = null;
      q.everConnected = true;
    } else if (prev?.state === "connected" || (q.everConnected && q.lostSince === null)) {
      q.lostSince ??= this.now();
    }
    this.o.onStatus?.(out);
  }

  /** True when every source has closed for good. */
  get allClosed(): boolean {
    return this.nodes.length > 0 && this.nodes.every((n) => this.statuses.get(n.name)?.state === "closed");
  }

  private enqueue(q: Queue, data: Uint8Array): void {
    if (q.bytes + data.length > this.maxQueued) {
      let lines = 0;
      for (const b of data) if (b === 10) lines++;
      q.droppedLines += Math.max(lines, 1);
      return;
    }
    q.chunks.push({ data, at: this.now() });
    q.bytes += data.length;
    if (!q.paused && q.bytes > this.pauseAbove && q.source.pause) {
      q.paused = true;
      q.source.pause();
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.turn());
    }
  }

  /** One round-robin turn: every node gets up to a slice; more turns follow while bytes wait. */
  private turn(): void {
    this.scheduled = false;
    let more = false;
    for (const [node, q] of this.queues) {
      let budget = SLICE_BYTES;
      while (q.chunks.length > 0 && budget > 0) {
        const c = q.chunks.shift()!;
        q.bytes -= c.data.length;
        budget -= c.data.length;
        this.pipeline.push(node, c.data, c.at);
      }
      if (q.chunks.length > 0) more = true;
      this.resumeIfDrained(q);
      this.reportDrops(node, q);
    }
    if (more && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.turn());
    }
  }

  /** Hands a node's queue to the parser now (before a reconnect or a stop). */
  private drain(node: string, q: Queue): void {
    for (const c of q.chunks) this.pipeline.push(node, c.data, c.at);
    q.chunks = [];
    q.bytes = 0;
    this.resumeIfDrained(q);
    this.reportDrops(node, q);
  }

  /** Resumes a source the monitor paused once its queue is below the resume mark. */
  private resumeIfDrained(q: Queue): void {
    if (!q.paused || q.bytes >= this.resumeBelow) return;
    q.paused = false;
    q.source.resume?.();
  }

  private reportDrops(node: string, q: Queue): void {
    if (q.droppedLines === 0) return;
    this.o.onDropped?.(node, q.droppedLines);
    q.droppedLines = 0;
  }

  private tick(): void {
    this.pipeline.tick(this.now());
  }
}
