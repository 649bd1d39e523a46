import type { Emit } from "./events.js";
import { type LogLine, Stamper } from "./line.js";
import { NodeParser } from "./parser.js";

interface NodeEntry {
  name: string;
  stamper: Stamper;
  parser: NodeParser;
}

/**
 * Parses the consoles of a whole cluster: one stamp reader and one {@link NodeParser} per node,
 * so lines of two nodes never mix. `onLine` sees every line before it is parsed.
 */
export class ConsoleParser {
  private readonly nodes = new Map<string, NodeEntry>();
  /** The node of the previous line: lines come in runs of one node, so most skip the map. */
  private last: NodeEntry | null = null;

  constructor(
    private readonly emit: Emit,
    private readonly onLine?: (l: LogLine) => void,
  ) {}

  /** Parses one framed line of `node`. `arrival` is the receive time in ms, null for files read after the fact. */
  line(node: string, text: string, lineNo: number, arrival: number | null, truncated?: boolean): void {
    const n = this.get(node);
    const l = n.stamper.line(text, lineNo, arrival, truncated);
    this.onLine?.(l);
    n.parser.push(l);
  }

  /** `node`'s parser has nothing half-read (see {@link NodeParser.quiet}). */
  quiet(node: string): boolean {
    return this.get(node).parser.quiet;
  }

  /**
   * `count` lines of `node` that no parser wants went by (see {@link NodeParser.passOver}); `lastTs` is
   * the stamp of the last stamped one, null when none was.
   */
  passOver(node: string, count: number, lastTs: number | null): void {
    const n = this.get(node);
    if (lastTs !== null) n.stamper.sawStamp();
    n.parser.passOver(count, lastTs);
  }

  /** A node went quiet: emit what it had half-printed. */
  flush(node: string): void {
    this.nodes.get(node)?.parser.flush();
  }

  /** The input ended: flush every node. */
  end(): void {
    for (const n of this.nodes.values()) n.parser.flush();
  }

  private get(node: string): NodeEntry {
    if (this.last?.name === node) return this.last;
    let n = this.nodes.get(node);
    if (!n) {
      n = { name: node, stamper: new Stamper(node), parser: new NodeParser(node, this.emit) };
      this.nodes.set(node, n);
    }
    this.last = n;
    return n;
  }
}
