import { type FramedLine, LineFramer } from "../sources/framer.js";
import {
  consoleBytes,
  isChunk,
  isHeader,
  isIdle,
  isLine,
  isReconnect,
  readSession,
  type SessionHeader,
} from "./session.js";

/** A physical console line of a session: its raw text (without its line end), node and receive time. */
export interface RecordedLine {
  t: number;
  n: string;
  l: string;
}

/**
 * A session's header, then its console lines, framed from the recorded lines and chunks as the live
 * pipeline framed them: pieces of a line are joined; a node's partial line is complete where it went
 * quiet or reconnected, or at the end.
 */
export async function* readSessionLines(
  path: string,
  onWarning?: (message: string) => void,
): AsyncGenerator<SessionHeader | RecordedLine> {
  const framers = new Map<string, { framer: LineFramer; t: number; lastNo: number }>();
  const lines = function* (n: string, t: number, framed: readonly FramedLine[]) {
    const f = framers.get(n)!;
    // Pieces of one physical line (split at an embedded stamp) share its line number and raw text.
    for (const l of framed) {
      if (l.lineNo === f.lastNo) continue;
      f.lastNo = l.lineNo;
      yield { t, n, l: l.raw };
    }
  };
  const framer = (n: string) => {
    let f = framers.get(n);
    if (!f) {
      f = { framer: new LineFramer(), t: 0, lastNo: 0 };
      framers.set(n, f);
    }
    return f;
  };
  for await (const item of readSession(path, onWarning)) {
    if (isHeader(item)) yield item;
    else if (isChunk(item) || isLine(item)) {
      const f = framer(item.n);
      f.t = item.t;
      yield* lines(item.n, item.t, f.framer.push(isChunk(item) ? item.b : consoleBytes(item)));
    } else if (isIdle(item) || isReconnect(item)) {
      const f = framers.get(item.n);
      if (f) yield* lines(item.n, item.t, f.framer.flush());
    }
  }
  for (const [n, f] of framers) yield* lines(n, f.t, f.framer.end());
}
