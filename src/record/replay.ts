import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { AlertSink } from "../engine/alerts.js";
import type { Thresholds } from "../engine/thresholds.js";
import type { NodeStatus } from "../live/monitor.js";
import type { ParsedEvent } from "../parse/events.js";
import type { LogLine } from "../parse/line.js";
import { Pipeline } from "../pipeline.js";
import type { SourceStatus } from "../sources/source.js";
import {
  consoleBytes,
  isChunk,
  isHeader,
  isIdle,
  isLine,
  isReconnect,
  type LineRecord,
  readSessionBatches,
  type SessionHeader,
  type SessionRecord,
} from "./session.js";

/** Options of {@link replaySession}. */
export interface ReplayOptions {
  /** How much faster than recorded time (2 = twice as fast), or `max`: no waiting at all. */
  speed: number | "max";
  /**
   * Start this many seconds after the recording started. What comes before is fed at full speed with
   * the callbacks silent, so that the pipeline's state at that moment is what it was live (a worker
   * already stuck, an alert already firing); then each node's last status is reported.
   */
  from?: number;
  onAlert?: AlertSink;
  onEvent?: (e: ParsedEvent) => void;
  /** Every line, as the screen's log tail sees it live. */
  onLine?: (l: LogLine) => void;
  /** Source status changes as the monitor reported them (with the gap after a drop), at their recorded time. */
  onStatus?: (s: NodeStatus, at: number) => void;
  /** The pipeline, before anything is fed to it: a screen needs its engine from the start. */
  onStart?: (pipeline: Pipeline) => void;
  /** The session's header, before any record. */
  onHeader?: (h: SessionHeader) => void;
  /** Torn or corrupt records that were skipped (see {@link readSession}). */
  onWarning?: (message: string) => void;
  thresholds?: Partial<Thresholds>;
  roles?: Record<string, "P" | "M" | "S">;
  /** Stops the replay; the promise then resolves with the pipeline as far as it got (ended). */
  signal?: AbortSignal;
  /** The clock step of the live monitor, ms; default 250. */
  tickMs?: number;
  /** Awaited after each record when it returns a promise: lets a slow consumer hold the replay back. */
  throttle?: () => Promise<void> | undefined;
}

/** What the monitor keeps per node to tell how long a node was cut off. */
interface Link {
  last: SourceStatus | null;
  lostSince: number | null;
  everConnected: boolean;
  /** When `last` was recorded. */
  at: number;
}

/**
 * Replays a recorded session into a new {@link Pipeline} (with `dedupReplays`, as live), exactly as the
 * live one was fed: each line with its receive time, each reconnect, and the clock ticking every
 * `tickMs` of recorded time (before a record, every step since the last tick), so that duration rules,
 * silences and idle flushes happen as they did live. Pipeline times come only from the recording; real
 * time is used only to pace the replay at `speed`. The pipeline is ended and returned (its
 * `engine.all` holds every alert).
 */
export async function replaySession(path: string, o: ReplayOptions): Promise<Pipeline> {
  if (o.speed !== "max" && !(o.speed > 0))
    throw new RangeError(`speed must be above 0 or "max", not ${o.speed}`);
  if (o.from !== undefined && !(o.from >= 0))
    throw new RangeError(`from must be 0 or more seconds, not ${o.from}`);
  const tickMs = o.tickMs ?? 250;
  // Callbacks are silent while fast-forwarding to `from`.
  let loud = false;
  const pipeline = new Pipeline({
    thresholds: o.thresholds,
    roles: o.roles,
    dedupReplays: true,
    onAlert: o.onAlert && ((a, change) => loud && o.onAlert!(a, change)),
    onEvent: o.onEvent && ((e) => loud && o.onEvent!(e)),
    onLine: o.onLine && ((l) => loud && o.onLine!(l)),
  });
  o.onStart?.(pipeline);
  const links = new Map<string, Link>();
  let nextTick = Number.POSITIVE_INFINITY;
  let fromAt = Number.NEGATIVE_INFINITY;
  /** Wall time (performance.now) and recorded time that correspond, once pacing began. */
  let origin: { wall: number; rec: number } | null = null;
  const aborted = () => o.signal?.aborted === true;

  const goLoud = (): void => {
    loud = true;
    origin = { wall: performance.now(), rec: fromAt };
    // After a fast-forward, the screen and the status lines start from where each source stood.
    for (const [node, l] of links) if (l.last) o.onStatus?.({ node, ...l.last }, l.at);
  };
  /**
   * Waits until recorded time `t` is due; false when stopped meanwhile. A plain boolean when there is
   * nothing to wait for: a replay at full speed takes no asynchronous step per record.
   */
  const pace = (t: number): boolean | Promise<boolean> => {
    if (!loud && t >= fromAt) goLoud();
    if (!loud || o.speed === "max" || !origin) return !aborted();
    const wait = origin.wall + (t - origin.rec) / o.speed - performance.now();
    if (wait < 1) return !aborted();
    return sleep(wait, undefined, { signal: o.signal }).then(
      () => !aborted(),
      () => false,
    );
  };

  // Since version 2 a session records where the live watch flushed a quiet node; older ones do not.
  let recordsIdle = true;
  // Lines of one node received together are fed together, as they came (framing does not depend on it).
  let run: { n: string; t: number; parts: (string | Buffer)[] } | null = null;
  const feedRun = () => {
    if (!run) return;
    const { n, t, parts } = run;
    run = null;
    pipeline.push(n, parts.every((p) => typeof p === "string") ? parts.join("") : joinBytes(parts), t);
  };
  try {
    records: for await (const batch of readSessionBatches(path, o.onWarning)) {
      for (const item of batch) {
        if (isLine(item) && run?.n === item.n && run.t === item.t) {
          run.parts.push(consoleBytes(item));
          continue;
        }
        feedRun();
        if (isHeader(item)) {
          recordsIdle = item.version >= 2;
          nextTick = item.started + tickMs;
          fromAt = item.started + (o.from ?? 0) * 1000;
          o.onHeader?.(item);
          if (fromAt === item.started) goLoud();
          continue;
        }
        // Ticks due strictly before the record: a tick at its very time comes after it, as live, where a
        // line flushed for being quiet is handed over before the engine's clock moves.
        while (nextTick < item.t) {
          let go = pace(nextTick);
          if (typeof go !== "boolean") go = await go;
          if (!go) break records;
          pipeline.tick(nextTick, !recordsIdle);
          nextTick += tickMs;
        }
        let go = pace(item.t);
        if (typeof go !== "boolean") go = await go;
        if (!go) break records;
        if (isLine(item)) run = { n: item.n, t: item.t, parts: [consoleBytes(item)] };
        else apply(pipeline, item, links, o.onStatus && ((s, at) => loud && o.onStatus!(s, at)));
        const held = o.throttle?.();
        if (held) await held;
      }
    }
    feedRun();
  } finally {
    pipeline.end();
  }
  return pipeline;
}

function joinBytes(parts: (string | Buffer)[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p)));
}

function apply(
  pipeline: Pipeline,
  r: Exclude<SessionRecord, LineRecord>,
  links: Map<string, Link>,
  onStatus: ((s: NodeStatus, at: number) => void) | undefined,
): void {
  if (isChunk(r)) {
    pipeline.push(r.n, r.b, r.t);
    return;
  }
  if (isIdle(r)) {
    pipeline.idle(r.n, r.t);
    return;
  }
  if (isReconnect(r)) {
    pipeline.reconnected(r.n, r.t);
    return;
  }
  let l = links.get(r.n);
  if (!l) {
    l = { last: null, lostSince: null, everConnected: false, at: r.t };
    links.set(r.n, l);
  }
  const s: SourceStatus = { ...r.s };
  const out: NodeStatus = { node: r.n, ...s };
  // As the monitor works it out: the time from losing the source to having it back.
  if (s.state === "connected") {
    if (l.lostSince !== null) out.gapMs = r.t - l.lostSince;
    l.lostSince = null;
    l.everConnected = true;
  } else if (l.last?.state === "connected" || (l.everConnected && l.lostSince === null)) {
    l.lostSince ??= r.t;
  }
  l.last = s;
  l.at = r.t;
  onStatus?.(out, r.t);
}
