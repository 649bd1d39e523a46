import { Engine, type EngineOptions } from "./engine/engine.js";
import { ConsoleParser } from "./parse/console.js";
import type { ParsedEvent } from "./parse/events.js";
import type { LogLine } from "./parse/line.js";
import { PassOver } from "./pass-over.js";
import { type FramedLine, LineFramer } from "./sources/framer.js";
import { ReplayFilter } from "./sources/replay-filter.js";

/** Options of a {@link Pipeline}. */
export interface PipelineOptions extends EngineOptions {
  /** Sees every parsed event after the engine took it. */
  onEvent?: (e: ParsedEvent) => void;
  /** Sees every line, before it is parsed (the screen's log tail). */
  onLine?: (l: LogLine) => void;
  /**
   * Sees every chunk of a node's console as it was received, before it is framed (recorders): what a
   * replay pushes again to get the same lines.
   */
  onChunk?: (node: string, chunk: Uint8Array | string, arrival: number | null) => void;
  /**
   * A quiet node is about to have its partial line and half-printed blocks completed, on
   * {@link Pipeline.tick} (recorders: a replay must complete them at the same place, whatever its own ticks).
   */
  onIdle?: (node: string, arrival: number) => void;
  /** Sees every reconnect of a node's source (recorders, so that a replay drops the same lines). */
  onReconnect?: (node: string, arrival: number | null) => void;
  /**
   * A node quiet this long (ms, on {@link Pipeline.tick}) has its partial line and half-printed blocks
   * emitted: a kernel that died mid-report still gets its crash. Default 1000.
   */
  idleMs?: number;
  /** Drop lines a reconnected source prints again (live sources); see {@link ReplayFilter}. */
  dedupReplays?: boolean;
  /**
   * Count the lines no parser wants without reading them ({@link PassOver}); the events and alerts are
   * the same. Default true; always off with `onLine` or `dedupReplays`, which see every line.
   */
  passOver?: boolean;
}

/**
 * The one-way flow every front end shares: bytes of a node's console → lines → events → engine.
 * Sources push chunks with their receive time; a front end (scan, the TUI, a recorder) reads the
 * engine's state and the events it is handed.
 */
export class Pipeline {
  readonly engine: Engine;
  private readonly parser: ConsoleParser;
  private readonly framers = new Map<string, LineFramer>();
  /** Receive time of each node's last chunk, until the node is flushed for being quiet. */
  private readonly heardAt = new Map<string, number>();
  private readonly idleMs: number;
  private readonly onChunk: PipelineOptions["onChunk"];
  private readonly onIdle: PipelineOptions["onIdle"];
  private readonly onReconnect: PipelineOptions["onReconnect"];
  private readonly filters: Map<string, ReplayFilter> | null;
  private readonly pass: PassOver | null;

  constructor(options: PipelineOptions = {}) {
    this.engine = new Engine(options);
    this.idleMs = options.idleMs ?? 1000;
    this.onChunk = options.onChunk;
    this.onIdle = options.onIdle;
    this.onReconnect = options.onReconnect;
    this.filters = options.dedupReplays ? new Map() : null;
    const onEvent = options.onEvent;
    this.parser = new ConsoleParser(
      (e) => {
        this.engine.event(e);
        onEvent?.(e);
      },
      options.onLine
        ? (l) => {
            this.engine.line(l);
            options.onLine!(l);
          }
        : (l) => this.engine.line(l),
    );
    const pass = (options.passOver ?? true) && !options.onLine && !options.dedupReplays;
    this.pass = pass ? new PassOver(this.parser, this.engine) : null;
  }

  /** Bytes (or text) from `node`'s console, received at `arrival` (ms; null when unknown). */
  push(node: string, chunk: Uint8Array | string, arrival: number | null = null): void {
    if (arrival !== null) this.heardAt.set(node, arrival);
    this.onChunk?.(node, chunk, arrival);
    const pass = this.pass;
    if (!pass) {
      this.lines(node, this.framer(node).push(chunk), arrival);
      return;
    }
    pass.begin(node, arrival, (l) => this.parser.line(node, l.text, l.lineNo, arrival, l.truncated));
    this.framer(node).each(chunk, pass);
    pass.finish();
  }

  /**
   * `node`'s source connected again: its partial line is complete as far as it goes, and what the
   * new session repeats is dropped (with `dedupReplays`).
   */
  reconnected(node: string, arrival: number | null = null): void {
    this.idle(node, arrival);
    this.onReconnect?.(node, arrival);
    this.filter(node)?.reconnected();
  }

  /** `node` has been quiet for a while: its partial line and half-printed blocks are emitted. */
  idle(node: string, arrival: number | null = null): void {
    this.lines(node, this.framer(node).flush(), arrival);
    this.parser.flush(node);
  }

  /** `node`'s stream ended. */
  endNode(node: string, arrival: number | null = null): void {
    this.lines(node, this.framer(node).end(), arrival);
    this.framers.delete(node);
    this.parser.flush(node);
  }

  /**
   * The clock moved (ms since the epoch): quiet nodes are flushed (unless `quiet` is false: a replay
   * flushes where the recording says the live watch did), then duration rules run.
   */
  tick(now: number, quiet = true): void {
    for (const [node, at] of quiet ? [...this.heardAt] : []) {
      if (now - at < this.idleMs) continue;
      this.heardAt.delete(node);
      this.onIdle?.(node, now);
      this.idle(node, now);
    }
    this.engine.tick(now);
  }

  /** Everything ended. */
  end(): void {
    for (const node of [...this.framers.keys()]) this.endNode(node);
    this.parser.end();
  }

  private lines(node: string, framed: readonly FramedLine[], arrival: number | null): void {
    if (framed.length === 0) return;
    const filter = this.filter(node);
    for (const l of framed) {
      if (!filter) {
        this.parser.line(node, l.text, l.lineNo, arrival, l.truncated);
        continue;
      }
      for (const text of filter.line(l.text)) this.parser.line(node, text, l.lineNo, arrival, l.truncated);
    }
  }

  private filter(node: string): ReplayFilter | null {
    if (!this.filters) return null;
    let f = this.filters.get(node);
    if (!f) {
      f = new ReplayFilter();
      this.filters.set(node, f);
    }
    return f;
  }

  private framer(node: string): LineFramer {
    let f = this.framers.get(node);
    if (!f) {
      f = new LineFramer();
      this.framers.set(node, f);
    }
    return f;
  }
}
