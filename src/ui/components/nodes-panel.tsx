import { Box, Text } from "ink";
import type { Alert, Severity } from "../../engine/alerts.js";
import type { NodeState } from "../../engine/node-state.js";
import { useModel } from "../hooks/use-model.js";
import type { StatusView } from "../model.js";

/** A piece of a row: its text, already cut and padded to its column, and how it is drawn. */
export interface Cell {
  text: string;
  color?: string;
  bold?: boolean;
  dim?: boolean;
}

/** One line of cells, cut to the panel's width. */
export function Row({ cells }: { cells: readonly Cell[] }) {
  return (
    <Text wrap="truncate">
      {cells.map((c, i) => (
        <Text
          // biome-ignore lint/suspicious/noArrayIndexKey: cells are positional and never reordered.
          key={i}
          color={c.color}
          bold={c.bold}
          dimColor={c.dim}
        >
          {c.text}
        </Text>
      ))}
    </Text>
  );
}

/** `text` cut to `width` characters (an ellipsis marks the cut) and padded to exactly `width`. */
export function fit(text: string, width: number, align: "left" | "right" = "left"): string {
  if (width <= 0) return "";
  const chars = [...text];
  const cut = chars.length > width ? `${chars.slice(0, width - 1).join("")}…` : text;
  const pad = " ".repeat(Math.max(0, width - Math.min(chars.length, width)));
  return align === "right" ? pad + cut : cut + pad;
}

/** A duration in seconds, in at most six characters: `42s`, `5m03s`, `8h35m`, `3d04h`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n: number) => String(n).padStart(2, "0");
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor(s / 3600) % 24)}h`;
}

/** Ink colour of a severity. */
export const SEVERITY_COLOR: Record<Severity, string | undefined> = {
  critical: "red",
  error: "magenta",
  warning: "yellow",
  info: undefined,
};

/** A column of a table panel: its title label, width and alignment. */
export interface Column {
  key: string;
  label: string;
  width: number;
  align: "left" | "right";
}

/**
 * The title line of a table panel: the panel's name over the first column (filled with `─`), the
 * other columns' labels above them, and `─` to the end of the line.
 */
export function titleCells(name: string, cols: readonly Column[], width: number): Cell[] {
  const [first, ...rest] = cols;
  const lead = `─ ${name} ${"─".repeat(width)}`.slice(0, Math.min(first?.width ?? width, width));
  let labels = "";
  for (const c of rest) {
    if (lead.length + labels.length + 1 + c.width > width) break;
    labels += ` ${fit(c.label, c.width, c.align)}`;
  }
  labels = labels.trimEnd();
  const used = lead.length + labels.length;
  const fill = used < width ? ` ${"─".repeat(width - used - 1)}` : "";
  return [{ text: lead, bold: true }, { text: labels, dim: true }, { text: fill }];
}

const ROLE: Record<NodeState["role"], string> = { P: "P", M: "M", S: "S", unknown: "?" };

/** Severities in the order the alert counts are shown, with their letters. */
const COUNTED: readonly [Severity, string][] = [
  ["critical", "C"],
  ["error", "E"],
  ["warning", "W"],
  ["info", "I"],
];

/** Firing alerts of one node, counted by severity. */
function alertCounts(alerts: readonly Alert[], node: string): Map<Severity, number> {
  const counts = new Map<Severity, number>();
  for (const a of alerts) {
    if (a.node !== node || a.state !== "firing") continue;
    counts.set(a.severity, (counts.get(a.severity) ?? 0) + 1);
  }
  return counts;
}

/** The status of a node's source as shown: state, live retry countdown, then the error or detail. */
export function statusText(
  s: StatusView | undefined,
  now: number,
): { text: string; color?: string; dim?: boolean } {
  if (!s) return { text: "-", dim: true };
  const why = s.error ?? (s.state === "waiting" || s.state === "connecting" ? s.detail : undefined);
  const tail = why ? `: ${why}` : "";
  switch (s.state) {
    case "connected":
      return { text: "connected", color: "green" };
    case "retrying": {
      const left = s.retryInMs === undefined ? null : Math.ceil(Math.max(0, s.at + s.retryInMs - now) / 1000);
      const when = left === null ? "" : left > 0 ? ` ${left}s` : " now";
      return { text: `retrying${when}${tail}`, color: "red" };
    }
    case "closed":
      return { text: `closed${tail}`, dim: true };
    default:
      return { text: `${s.state}${tail}`, color: "yellow" };
  }
}

/** Node rows the panel shows at most, after its title line. */
const MAX_ROWS = 7;

/** The height of the Nodes panel for `count` nodes: its title line and one row per node, at most eight. */
export function nodesPanelHeight(count: number): number {
  return 1 + Math.min(Math.max(count, 1), MAX_ROWS);
}

/**
 * One row per node, in the order they were first seen: name, role, source status (with a live retry
 * countdown), kernel uptime, age of the last line, boots and firing alerts by severity. Columns that do
 * not fit the width are left out, least useful first; with more nodes than rows, those with the worst
 * alerts are kept and the rest counted on a `+N more` line.
 */
export function NodesPanel({ width }: { width: number }) {
  const model = useModel();
  const now = model.clock();
  const nodes = [...model.engine.nodes.values()];
  const alerts = model.engine.all;

  const rows = nodes.map((n) => {
    const counts = alertCounts(alerts, n.name);
    const worst = COUNTED.find(([sev]) => counts.has(sev))?.[0];
    const source = statusText(model.statuses.get(n.name), now);
    // A console still connected to a kernel that panicked shows a dead node, not a healthy link.
    const status =
      n.panicked && (source.text === "connected" || source.text === "-")
        ? { text: "down: panic", color: "red" }
        : source;
    const alertCells: Cell[] = [];
    for (const [sev, letter] of COUNTED) {
      const k = counts.get(sev);
      if (k)
        alertCells.push({
          text: `${k}${letter}`,
          color: SEVERITY_COLOR[sev],
          bold: sev === "critical",
          dim: sev === "info",
        });
    }
    return {
      n,
      worst,
      status,
      alertCells,
      alertsWidth: alertCells.reduce((w, c) => w + c.text.length + 1, -1),
      up: n.lastTs === null ? "-" : duration(n.lastTs),
      age: n.lastArrival === null ? "-" : duration((now - n.lastArrival) / 1000),
    };
  });

  const cols = layout(
    width,
    Math.max(0, ...rows.map((r) => [...r.n.name].length)),
    Math.max(0, ...rows.map((r) => [...r.status.text].length)),
    Math.max(0, ...rows.map((r) => r.alertsWidth)),
  );

  const capacity = rows.length > MAX_ROWS ? MAX_ROWS - 1 : MAX_ROWS;
  const rank = (sev: Severity | undefined) => (sev ? COUNTED.findIndex(([s]) => s === sev) : COUNTED.length);
  const keep = new Set(
    rows
      .map((r, i) => ({ i, rank: rank(r.worst) }))
      .sort((a, b) => a.rank - b.rank || a.i - b.i)
      .slice(0, capacity)
      .map((r) => r.i),
  );
  const shown = rows.filter((_, i) => keep.has(i));
  const hidden = rows.length - shown.length;

  return (
    <Box flexDirection="column" width={width} height={nodesPanelHeight(nodes.length)}>
      <Row cells={titleCells("Nodes", cols, width)} />
      {rows.length === 0 && (
        <Text dimColor wrap="truncate">
          {fit(" no console has printed yet", width)}
        </Text>
      )}
      {shown.map((r) => {
        const cells: Cell[] = [];
        for (const c of cols) {
          if (cells.length > 0) cells.push({ text: " " });
          switch (c.key) {
            case "name":
              cells.push({
                text: fit(r.n.name, c.width),
                bold: true,
                color: r.worst === "critical" ? "red" : undefined,
              });
              break;
            case "role":
              cells.push({ text: fit(ROLE[r.n.role], c.width), dim: r.n.role === "unknown" });
              break;
            case "source":
              cells.push({ ...r.status, text: fit(r.status.text, c.width) });
              break;
            case "up":
              cells.push({ text: fit(r.up, c.width, "right") });
              break;
            case "age":
              cells.push({ text: fit(r.age, c.width, "right") });
              break;
            case "boots":
              cells.push({
                text: fit(String(r.n.boots), c.width, "right"),
                color: r.n.boots > 1 ? "yellow" : undefined,
              });
              break;
            case "alerts":
              cells.push(...alertsCells(r.alertCells, c.width));
              break;
          }
        }
        return <Row key={r.n.name} cells={cells} />;
      })}
      {hidden > 0 && (
        <Text dimColor wrap="truncate">
          {fit(` +${hidden} more`, width)}
        </Text>
      )}
    </Box>
  );
}

/** The alert counts cut to a column: the most severe first, `-` when none fire. */
function alertsCells(counts: readonly Cell[], width: number): Cell[] {
  if (counts.length === 0) return [{ text: fit("-", width), dim: true }];
  const out: Cell[] = [];
  let used = 0;
  for (const c of counts) {
    const gap = out.length > 0 ? 1 : 0;
    if (used + gap + c.text.length > width) break;
    if (gap) out.push({ text: " " });
    out.push(c);
    used += gap + c.text.length;
  }
  if (used < width) out.push({ text: " ".repeat(width - used) });
  return out;
}

/**
 * The columns for a width: fixed ones while they fit (boots, then age, uptime and role are left out
 * first), then spare room to the source status, the names and the alert counts, as far as they need.
 */
function layout(width: number, nameLen: number, statusLen: number, alertsLen: number): Column[] {
  const col = (key: string, label: string, w: number, align: "left" | "right" = "left"): Column => ({
    key,
    label,
    width: w,
    align,
  });
  const name = col("name", "", Math.max(4, Math.min(nameLen, 8)));
  const source = col("source", "source", 11);
  const alerts = col("alerts", "alerts", 6);
  const optional = [
    col("role", "role", 4),
    col("up", "up", 6, "right"),
    col("age", "last", 6, "right"),
    col("boots", "boots", 5, "right"),
  ];
  const total = (cs: Column[]) => cs.reduce((w, c) => w + c.width, 0) + cs.length - 1;
  let cols = [name, ...optional.slice(0, 1), source, ...optional.slice(1), alerts];
  for (const drop of ["boots", "age", "up", "role"]) {
    if (total(cols) <= width) break;
    cols = cols.filter((c) => c.key !== drop);
  }
  let spare = width - total(cols);
  const grow = (c: Column, want: number) => {
    const add = Math.max(0, Math.min(spare, want - c.width));
    c.width += add;
    spare -= add;
  };
  grow(name, Math.min(Math.max(nameLen, 7), 20));
  grow(alerts, Math.min(alertsLen, 15));
  grow(source, Math.min(statusLen, 60));
  grow(name, Math.min(nameLen, 40));
  if (spare < 0) name.width = Math.max(1, name.width + spare);
  return cols;
}
