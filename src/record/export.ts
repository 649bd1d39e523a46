import { once } from "node:events";
import type { Writable } from "node:stream";
import type { Thresholds } from "../engine/thresholds.js";
import { alertJson, eventJson } from "../headless/json.js";
import { readSessionLines } from "./lines.js";
import { replaySession } from "./replay.js";
import { isHeader, type SessionHeader } from "./session.js";

/** What {@link exportSession} writes. */
export const EXPORT_FORMATS = ["text", "asciicast", "jsonl"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Options of {@link exportSession}. */
export interface ExportOptions {
  to: ExportFormat;
  /** Only this node's lines (text, asciicast) or events and alerts (jsonl). */
  node?: string;
  out: Writable;
  /** Torn or corrupt records that were skipped. */
  onWarning?: (message: string) => void;
  /** For `jsonl`: alert thresholds and node roles, as `scan` takes them. */
  thresholds?: Partial<Thresholds>;
  roles?: Record<string, "P" | "M" | "S">;
}

/** A `--node` that the session does not have. */
export class UnknownNodeError extends Error {
  override name = "UnknownNodeError";
}

/** The terminal size written into an asciicast header. */
export const ASCIICAST_WIDTH = 120;
export const ASCIICAST_HEIGHT = 40;

/**
 * Writes a recorded session in another format to `out` (which is not ended):
 *
 * - `text`: the console lines as a serial capture would hold them: every line received, in order, as
 *   received: escape sequences and control bytes are kept (it is the capture, not the screen), and so
 *   are the lines a reconnected source repeated. With `node`, that node's lines alone; without, every
 *   line is prefixed with its node as `NODE| `.
 * - `asciicast`: an asciinema v2 recording (`{"version":2,"width":120,"height":40,"timestamp","title"}`,
 *   then `[seconds, "o", "line\r\n"]` events at the receive times; times never go back). Lines are
 *   prefixed `NODE| ` when the recording shows several nodes.
 * - `jsonl`: what `scan --json` prints, from a replay at full speed: events as they are parsed, alerts
 *   as they resolve, then the alerts still firing. With `node`, that node's events and alerts (the replay
 *   still reads every node, so cross-node alerts are the same).
 *
 * Rejects with {@link UnknownNodeError} when `node` is not in the session.
 */
export async function exportSession(path: string, o: ExportOptions): Promise<void> {
  if (!EXPORT_FORMATS.includes(o.to))
    throw new RangeError(`cannot export to ${o.to}; use ${EXPORT_FORMATS.join(", ")}`);
  const out = new Output(o.out);
  if (o.to === "jsonl") return exportJsonl(path, o, out);
  let header: SessionHeader | null = null;
  let prefixed = true;
  let lastSeconds = 0;
  for await (const item of readSessionLines(path, o.onWarning)) {
    if (isHeader(item)) {
      header = item;
      checkNode(item, o.node);
      prefixed = o.node === undefined && (o.to === "text" || item.nodes.length !== 1);
      if (o.to === "asciicast") out.write(`${JSON.stringify(asciicastHeader(item, o.node))}\n`);
      continue;
    }
    if (o.node !== undefined && item.n !== o.node) continue;
    const text = prefixed ? `${item.n}| ${item.l}` : item.l;
    if (o.to === "text") {
      out.write(`${text}\n`);
    } else {
      // Records are in the order the pipeline saw them; a line drained at a stop can be stamped a little
      // before the status written just ahead of it, and players want times that never go back.
      const seconds = Math.max(lastSeconds, round3((item.t - header!.started) / 1000));
      lastSeconds = seconds;
      out.write(`${JSON.stringify([seconds, "o", `${text}\r\n`])}\n`);
    }
    await out.drainIfFull();
  }
  await out.drain();
}

/** The asciicast v2 header of a session. */
export function asciicastHeader(h: SessionHeader, node?: string): Record<string, unknown> {
  const names = node !== undefined ? node : h.nodes.map((n) => n.name).join(", ");
  return {
    version: 2,
    width: ASCIICAST_WIDTH,
    height: ASCIICAST_HEIGHT,
    timestamp: Math.floor(h.started / 1000),
    title: `legowatch: ${names}${h.host ? ` on ${h.host}` : ""}`,
  };
}

async function exportJsonl(path: string, o: ExportOptions, out: Output): Promise<void> {
  const mine = (node: string) => o.node === undefined || node === o.node;
  const pipeline = await replaySession(path, {
    speed: "max",
    thresholds: o.thresholds,
    roles: o.roles,
    onWarning: o.onWarning,
    onHeader: (h) => checkNode(h, o.node),
    onEvent: (e) => mine(e.node) && out.write(`${eventJson(e)}\n`),
    onAlert: (a, change) => change === "resolve" && mine(a.node) && out.write(`${alertJson(a)}\n`),
    throttle: () => out.drainIfFull(),
  });
  for (const a of pipeline.engine.alerts.active()) if (mine(a.node)) out.write(`${alertJson(a)}\n`);
  await out.drain();
}

function checkNode(h: SessionHeader, node: string | undefined): void {
  if (node === undefined || h.nodes.some((n) => n.name === node)) return;
  const known = h.nodes.map((n) => n.name).join(", ") || "none";
  throw new UnknownNodeError(`no node ${node} in this session (nodes: ${known})`);
}

const round3 = (x: number) => Math.round(Math.max(0, x) * 1000) / 1000;

/** Collects output and writes it in large pieces, waiting when the reader is slower. */
class Output {
  private buf: string[] = [];
  private size = 0;

  constructor(private readonly w: Writable) {}

  write(s: string): boolean {
    this.buf.push(s);
    this.size += s.length;
    return true;
  }

  drainIfFull(): Promise<void> | undefined {
    return this.size >= 1 << 16 ? this.drain() : undefined;
  }

  async drain(): Promise<void> {
    if (this.buf.length === 0) return;
    const text = this.buf.join("");
    this.buf = [];
    this.size = 0;
    if (!this.w.write(text)) await once(this.w, "drain");
  }
}
