import { Engine, type EngineOptions } from "./engine/engine.js";
import { ConsoleParser } from "./parse/console.js";
import type { ParsedEvent } from "./parse/events.js";
import { LineFramer } from "./sources/framer.js";

/** Options of a {@link Pipeline}. */
export interface PipelineOptions extends EngineOptions {
  /** Sees every parsed event after the engine took it. */
  onEvent?: (e: ParsedEvent) => void;
  /**
   * A node quiet this long (ms, on {@link Pipeline.tick}) has its partial line and half-printed blocks
   * emitted: a kernel that died mid-report still gets its crash. Default 1000.
   */
  idleMs?: number;
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

  constructor(options: PipelineOptions = {}) {
    this.engine = new Engine(options);
    this.idleMs = options.idleMs ?? 1000;
    const onEvent = options.onEvent;
    this.parser = new ConsoleParser(
      (e) => {
        this.engine.event(e);
        onEvent?.(e);
      },
      (l) => this.engine.line(l),
    );
  }

  /** Bytes (or text) from `node`'s console, received at `arrival` (ms; null when unknown). */
  push(node: string, chunk: Uint8Array | string, arrival: number | null = null): void {
    if (arrival !== null) this.heardAt.set(node, arrival);
    for (const l of this.framer(node).push(chunk))
      this.parser.line(node, l.text, l.lineNo, arrival, l.truncated);
  }

  /** `node` has been quiet for a while: its partial line and half-printed blocks are emitted. */
  idle(node: string, arrival: number | null = null): void {
    for (const l of this.framer(node).flush()) this.parser.line(node, l.text, l.lineNo, arrival, l.truncated);
    this.parser.flush(node);
  }

  /** `node`'s stream ended. */
  endNode(node: string, arrival: number | null = null): void {
    for (const l of this.framer(node).end()) this.parser.line(node, l.text, l.lineNo, arrival, l.truncated);
    this.framers.delete(node);
    this.parser.flush(node);
  }

  /** The clock moved (ms since the epoch): quiet nodes are flushed, then duration rules run. */
  tick(now: number): void {
    for (const [node, at] of [...this.heardAt]) {
      if (now - at < this.idleMs) continue;
      this.heardAt.delete(node);
      this.idle(node, now);
    }
    this.engine.tick(now);
  }

  /** Everything ended. */
  end(): void {
    for (const node of [...this.framers.keys()]) this.endNode(node);
    this.parser.end();
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
