import { readdirSync, readFileSync } from "node:fs";
import type { CrashEvent, ParsedEvent } from "../src/parse/events.js";
import type { Block, BlockFamily, LineFamily } from "../src/parse/family.js";
import { baseOf } from "../src/parse/family.js";
import { type LogLine, Stamper } from "../src/parse/line.js";
import { Pipeline } from "../src/pipeline.js";

/** Lines of one node from console text, numbered from 1, as the parser would see them. */
export function lines(text: string, node = "T"): LogLine[] {
  const stamper = new Stamper(node);
  return text
    .replace(/\n$/, "")
    .split("\n")
    .map((t, i) => stamper.line(t, i + 1, null));
}

/** One line, as the only line of its node. */
export function line(text: string, node = "T"): LogLine {
  return lines(text, node)[0]!;
}

/** Runs a one-line family over each line and returns what it parsed. */
export function parseLines(family: LineFamily, text: string): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  for (const l of lines(text)) {
    const hit = family.keys.some((k) => l.msg.includes(k));
    if (!hit) continue;
    const e = family.parse(l, baseOf(l));
    if (e) out.push(e);
  }
  return out;
}

/**
 * Runs a block family over console text the way the parser does: a line opens a block, the block is
 * fed until it says `done` or `end` (then the line is offered again), and the log's end closes it.
 */
export function parseBlocks(family: BlockFamily, text: string): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  let open: Block | null = null;
  for (const l of lines(text)) {
    if (open) {
      const r = open.feed(l);
      if (r === "take") continue;
      out.push(...open.close(false));
      open = null;
      if (r === "done") continue;
    }
    if (family.keys.some((k) => l.msg.includes(k)) || family.exact?.includes(l.msg.trimEnd())) {
      open = family.open(l, baseOf(l));
    }
  }
  if (open) out.push(...open.close(true));
  return out;
}

const SEED = new URL("./fixtures/seed/", import.meta.url);

/** Every unstamped line of the seed fixtures but b02p's (which are real kernel output): the author's notes. */
export function seedNotes(): { file: string; text: string }[] {
  return readdirSync(SEED)
    .filter((f) => f !== "b02p.log")
    .map((f) => ({
      file: f,
      text: readFileSync(new URL(f, SEED), "utf8")
        .split("\n")
        .filter((t) => !/^\[\s*\d+\.\d{6}\]/.test(t))
        .join("\n"),
    }));
}

/** An event without the fields every event copies from its line. */
export function body(e: ParsedEvent): Record<string, unknown> {
  const { node: _n, ts: _t, line: _l, arrival: _a, text: _x, ...rest } = e;
  return rest;
}

/** The crash and warning reports of one node's console text, through the whole pipeline as `scan` reads it. */
export function reportsOf(log: string, node = "S"): CrashEvent[] {
  const out: ParsedEvent[] = [];
  const p = new Pipeline({ onEvent: (e) => out.push(e) });
  p.push(node, log);
  p.end();
  return out.filter((e): e is CrashEvent => e.type === "crash" || e.type === "warning");
}
