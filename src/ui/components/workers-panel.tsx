import { Box, Text } from "ink";
import type { Alert } from "../../engine/alerts.js";
import type { NodeState, WorkerState } from "../../engine/node-state.js";
import { useModel } from "../hooks/use-model.js";
import { sparkline } from "../sparkline.js";
import { type Cell, type Column, duration, fit, Row, titleCells } from "./nodes-panel.js";

/** A worker in its handler with no progress this long is stuck: the kernel's own threshold. */
const STUCK_SECONDS = 20;
/** The sparkline is given up, and then the handled count, below this many samples. */
const MIN_SPARK = 6;
const MARK = " STUCK";

/** One row of the panel: a worker, or an M node that has printed no thread-pool sample yet. */
interface Item {
  node: NodeState;
  id: string;
  worker?: WorkerState;
  stuck: boolean;
  /** Seconds without progress, when the worker is stalled. */
  stalled: number | null;
}

/** Worker numbers of a node's firing `worker-stuck` alerts (their messages start `worker N `). */
function stuckWorkers(alerts: readonly Alert[], node: string): Set<number> {
  const out = new Set<number>();
  for (const a of alerts) {
    if (a.rule !== "worker-stuck" || a.node !== node || a.state !== "firing") continue;
    const m = /^worker (\d+)\b/.exec(a.message);
    if (m) out.add(Number(m[1]));
  }
  return out;
}

/** The rows: per M node (or node with workers), its workers by number, kernel-reported ones included. */
function items(nodes: Iterable<NodeState>, alerts: readonly Alert[]): Item[] {
  const out: Item[] = [];
  for (const n of nodes) {
    const reported = stuckWorkers(alerts, n.name);
    if (n.role !== "M" && n.workers.size === 0 && reported.size === 0) continue;
    const ids = [...new Set([...n.workers.keys(), ...reported])].sort((a, b) => a - b);
    if (ids.length === 0) out.push({ node: n, id: n.name, stuck: false, stalled: null });
    for (const id of ids) {
      const w = n.workers.get(id);
      const stalled =
        w && w.stallSince !== null && w.stallRun >= 2 && n.lastTs !== null
          ? Math.max(0, n.lastTs - w.stallSince)
          : null;
      out.push({
        node: n,
        id: `${n.name}:${id}`,
        worker: w,
        stuck: reported.has(id) || (stalled !== null && stalled > STUCK_SECONDS),
        stalled,
      });
    }
  }
  return out;
}

/** A handled count in at most seven characters. */
function count(n: bigint): string {
  if (n < 10_000_000n) return n.toString();
  const units: [bigint, string][] = [
    [1_000_000_000_000n, "T"],
    [1_000_000_000n, "G"],
    [1_000_000n, "M"],
  ];
  for (const [u, suffix] of units) {
    if (n >= u) return `${(Number((n * 10n) / u) / 10).toFixed(1).replace(/\.0$/, "")}${suffix}`;
  }
  return n.toString();
}

/**
 * The M nodes' thread-pool workers, one row each: `node:worker`, requests queued now, whether it is in
 * its handler, requests handled so far, time since it last made progress, and a sparkline of its queue
 * (newest at the right, scaled to the largest value in view). A worker the kernel reported stuck, or
 * without progress for over 20 s, is red with a `STUCK` mark. Rows that do not fit are counted on a
 * `+N more` line; stuck workers are always among the rows shown.
 */
export function WorkersPanel({ width, height }: { width: number; height: number }) {
  const model = useModel();
  const all = items(model.engine.nodes.values(), model.engine.all);

  const room = Math.max(0, height - 1);
  const capacity = all.length > room ? Math.max(0, room - 1) : room;
  const keep = new Set(
    all
      .map((it, i) => ({ i, stuck: it.stuck }))
      .sort((a, b) => Number(b.stuck) - Number(a.stuck) || a.i - b.i)
      .slice(0, capacity)
      .map((r) => r.i),
  );
  const shown = all.filter((_, i) => keep.has(i));
  const hidden = all.length - shown.length;
  const hiddenStuck = all.filter((it, i) => it.stuck && !keep.has(i)).length;

  const cols = layout(width, shown);
  const spark = cols.find((c) => c.key === "spark");
  const top = spark
    ? Math.max(
        0,
        ...shown.flatMap((it) => (it.worker?.history ?? []).slice(-spark.width).map((s) => s.queued)),
      )
    : 0;

  return (
    <Box flexDirection="column" width={width} height={height}>
      {height > 0 && <Row cells={titleCells("Workers", cols, width)} />}
      {height > 1 && all.length === 0 && (
        <Text dimColor wrap="truncate">
          {fit(" no memory node yet", width)}
        </Text>
      )}
      {shown.map((it) => (
        <Row key={it.id} cells={rowCells(it, cols, top)} />
      ))}
      {hidden > 0 && height > 1 && (
        <Text dimColor={hiddenStuck === 0} color={hiddenStuck > 0 ? "red" : undefined} wrap="truncate">
          {fit(` +${hidden} more${hiddenStuck > 0 ? ` (${hiddenStuck} STUCK)` : ""}`, width)}
        </Text>
      )}
    </Box>
  );
}

/** The cells of one row, one per column. */
function rowCells(it: Item, cols: readonly Column[], top: number): Cell[] {
  const w = it.worker;
  const red = it.stuck ? "red" : undefined;
  const cells: Cell[] = [];
  for (const c of cols) {
    if (cells.length > 0) cells.push({ text: " " });
    if (!w && c.key !== "id") {
      if (c.key === "q") {
        cells.push({ text: fit("no thread-pool samples yet", spanFrom(cols, c)), dim: true });
        break;
      }
      cells.push({ text: fit(c.key === "spark" ? "" : "-", c.width, c.align), dim: true });
      continue;
    }
    switch (c.key) {
      case "id": {
        const mark = it.stuck && c.width > MARK.length ? MARK : "";
        cells.push({ text: fit(it.id, c.width - mark.length), bold: true, color: red });
        if (mark) cells.push({ text: mark, bold: true, color: "red" });
        break;
      }
      case "q":
        cells.push({ text: fit(String(w!.queued), c.width, "right"), bold: w!.queued > 0, color: red });
        break;
      case "hnd":
        cells.push({ text: fit(w!.inHandler ? "yes" : "no", c.width), dim: !w!.inHandler, color: red });
        break;
      case "done":
        cells.push({
          text: fit(w!.handled === undefined ? "-" : count(w!.handled), c.width, "right"),
          color: red,
        });
        break;
      case "stall":
        cells.push({
          text: fit(it.stalled === null ? "-" : duration(it.stalled), c.width, "right"),
          color: red ?? (it.stalled !== null && it.stalled >= STUCK_SECONDS / 2 ? "yellow" : undefined),
          bold: it.stuck,
        });
        break;
      case "spark": {
        const line = sparkline(
          w!.history.map((s) => s.queued),
          c.width,
          top,
        );
        cells.push({ text: fit(line, c.width, "right"), color: red ?? "cyan" });
        break;
      }
    }
  }
  return cells;
}

/** Width from the start of column `from` to the end of the line. */
function spanFrom(cols: readonly Column[], from: Column): number {
  const i = cols.indexOf(from);
  return cols.slice(i).reduce((w, c) => w + c.width, 0) + cols.length - 1 - i;
}

/**
 * The columns for a width and the rows shown: the id (wide enough for the title, and for the `STUCK`
 * mark when a row needs it), queue, handler, handled (only when some worker reports it), stall, and
 * the sparkline in the rest.
 */
function layout(total: number, shown: readonly Item[]): Column[] {
  const col = (key: string, label: string, w: number, align: "left" | "right" = "left"): Column => ({
    key,
    label,
    width: w,
    align,
  });
  const ws = shown.flatMap((it) => (it.worker ? [it.worker] : []));
  const idLen = Math.max(0, ...shown.map((it) => [...it.id].length + (it.stuck ? MARK.length : 0)));
  const id = col("id", "", Math.min(Math.max(idLen, "─ Workers".length), Math.max(1, Math.floor(total / 3))));
  const q = col("q", "q", Math.max(1, ...ws.map((w) => String(w.queued).length)), "right");
  const hnd = col("hnd", "hnd", 3);
  const done = col(
    "done",
    "done",
    Math.max(4, ...ws.map((w) => (w.handled === undefined ? 1 : count(w.handled).length))),
    "right",
  );
  const stall = col("stall", "stall", 5, "right");
  const used = (cs: Column[]) => cs.reduce((w, c) => w + c.width, 0) + cs.length;
  let cols = [id, q, hnd, stall];
  if (ws.some((w) => w.handled !== undefined) && total - used([...cols, done]) >= MIN_SPARK) {
    cols = [id, q, hnd, done, stall];
  }
  const rest = total - used(cols);
  if (rest >= MIN_SPARK) cols.push(col("spark", "queue", rest));
  return cols;
}
