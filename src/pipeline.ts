import { Engine, type EngineOptions } from "./engine/engine.js";
import { ConsoleParser } from "./parse/console.js";
import type { ParsedEvent } from "./parse/events.js";
import { LineFramer } from "./sources/framer.js";

/** Options of a {@link Pipeline}. */
export interface PipelineOptions extends EngineOptions {
  /** Sees every parsed event after the engine took it. */
  onEvent?: (e: ParsedEvent) => void;
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

  constructor(options: PipelineOptions = {}) {
    this.engine = new Engine(options);
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

  /** The clock moved (ms since the epoch). */
  tick(now: number): void {
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
