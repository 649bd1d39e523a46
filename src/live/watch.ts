import type { CrashKnowledge } from "../crash/knowledge.js";
import type { Thresholds } from "../engine/thresholds.js";
import type { Pipeline, PipelineOptions } from "../pipeline.js";
import type { NodeStatus } from "./monitor.js";

/** Hooks a caller adds to a live watch: the pipeline's and the monitor's. */
export interface LiveHooks {
  onChunk?: PipelineOptions["onChunk"];
  onIdle?: PipelineOptions["onIdle"];
  onReconnect?: PipelineOptions["onReconnect"];
  onAlert?: PipelineOptions["onAlert"];
  onStatus?: (s: NodeStatus) => void;
  /** The pipeline, before any source starts (metrics read its engine). */
  onStart?: (pipeline: Pipeline) => void;
}

/** What a live watch is given whatever shows it (the screen or headless output). */
export interface WatchOptions {
  thresholds?: Partial<Thresholds>;
  roles?: Record<string, "P" | "M" | "S">;
  /** More hooks on the same pipeline and monitor (a recorder, alert hooks). */
  hooks?: LiveHooks;
  /** Symbolizes crashes and keeps their history. */
  knowledge?: CrashKnowledge;
}

/**
 * The pipeline options of every live watch: its thresholds and roles, the recorder's hooks, and
 * replayed lines dropped (a reconnected `dmesg -w` prints the ring buffer again).
 */
export function watchPipelineOptions(o: WatchOptions): PipelineOptions {
  return {
    thresholds: o.thresholds,
    roles: o.roles,
    dedupReplays: true,
    onChunk: o.hooks?.onChunk,
    onIdle: o.hooks?.onIdle,
    onReconnect: o.hooks?.onReconnect,
  };
}
