import type { NodeStatus } from "../live/monitor.js";
import type { SessionWriter } from "./writer.js";

/**
 * The hooks a recorder needs: pass `onChunk`, `onIdle` and `onReconnect` to the Pipeline, `onStatus` to
 * the Monitor.
 */
export interface RecorderHooks {
  /** For `new Pipeline({ onChunk })`: every chunk as received, before it is framed. */
  onChunk: (node: string, chunk: Uint8Array | string, arrival: number | null) => void;
  /** For `new Pipeline({ onIdle })`. */
  onIdle: (node: string, arrival: number) => void;
  /** For `new Pipeline({ onReconnect })`. */
  onReconnect: (node: string, arrival: number | null) => void;
  /** For `new Monitor(..., { onStatus })`. */
  onStatus: (s: NodeStatus) => void;
}

/** Options of {@link attachRecorder}. */
export interface RecorderOptions {
  /**
   * The clock for status changes (which carry no time of their own) and for lines without a receive
   * time; pass the Monitor's clock when it has its own. Default `Date.now`.
   */
  now?: () => number;
}

/**
 * Records a live watch into `writer`: every chunk with its receive time, every quiet-node flush, every reconnect and every
 * source status change, in the order the pipeline and the monitor saw them, so that a replay feeds a
 * pipeline exactly what the live one got. The hooks only write; chain them with the front end's own
 * (see {@link chain}).
 */
export function attachRecorder(writer: SessionWriter, o: RecorderOptions = {}): RecorderHooks {
  const now = o.now ?? Date.now;
  return {
    onChunk: (node, chunk, arrival) => writer.chunk(arrival ?? now(), node, chunk),
    onIdle: (node, arrival) => writer.idle(arrival, node),
    onReconnect: (node, arrival) => writer.reconnect(arrival ?? now(), node),
    // The gap is left out: a replay works it out again from the statuses, as the monitor did.
    onStatus: (s) => writer.status(now(), s.node, s),
  };
}

/** One function calling each defined one in turn with the same arguments (hooks of a recorder and a UI). */
export function chain<A extends unknown[]>(
  ...fns: (((...args: A) => void) | undefined)[]
): ((...args: A) => void) | undefined {
  const defined = fns.filter((f): f is (...args: A) => void => f !== undefined);
  if (defined.length === 0) return undefined;
  if (defined.length === 1) return defined[0];
  return (...args: A) => {
    for (const f of defined) f(...args);
  };
}
