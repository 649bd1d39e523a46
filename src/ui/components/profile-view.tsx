import { Box, Text } from "ink";
import type { ProfileEvent } from "../../parse/events.js";
import { useModel } from "../hooks/use-model.js";
import { compareProfiles, type ProfileRowChange, profileHistoryOf } from "../profile-history.js";
import { type Row, Rows } from "./rows.js";

/**
 * The full-screen profile view: each node's latest Kernel Profile Points table, with the change of
 * every row's count and average against the node's previous table.
 */
export function ProfileView({ width, height }: { width: number; height: number }) {
  const model = useModel();
  const history = profileHistoryOf(model);
  const rows: Row[] = [];
  for (const [name, n] of model.engine.nodes) {
    if (!n.profile) continue;
    const prev = history.latest(name) === n.profile ? history.previous(name) : undefined;
    rows.push(...tableRows(name, n.profile, prev, width, rows.length > 0));
  }

  const bodyHeight = Math.max(0, height - 2);
  let shown = rows;
  if (rows.length === 0) {
    shown = [{ key: "none", node: <Text dimColor>No Kernel Profile Points table yet.</Text> }];
  } else if (rows.length > bodyHeight) {
    shown = rows.slice(0, Math.max(0, bodyHeight - 1));
    const more = rows.length - shown.length;
    if (bodyHeight > 0) {
      shown.push({ key: "more", node: <Text dimColor>{`… ${more} more lines`}</Text> });
    }
  }

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text dimColor wrap="truncate">
        {`─ Kernel Profile Points ${"─".repeat(Math.max(0, width - 25))}`}
      </Text>
      <Rows rows={shown} height={bodyHeight} />
      <Text dimColor wrap="truncate">
        p or Esc back
      </Text>
    </Box>
  );
}

/** The rows of one node's table: a heading, the column names, one row per profile point. */
function tableRows(
  node: string,
  latest: ProfileEvent,
  previous: ProfileEvent | undefined,
  width: number,
  gap: boolean,
): Row[] {
  const changes = compareProfiles(latest, previous);
  const cells = changes.map((c) => ({
    c,
    status: c.on ? "on" : "off",
    count: c.count.toString(),
    avg: c.avgNs.toString(),
    dCount: c.countDelta === undefined ? "" : signed(c.countDelta),
    dAvg: pct(c),
  }));
  const head = { status: "", count: "count", avg: "avg ns", dCount: "Δcount", dAvg: "Δavg" };
  const w = (f: keyof typeof head) => Math.max(head[f].length, ...cells.map((x) => x[f].length));
  const widths = { status: 3, count: w("count"), avg: w("avg"), dCount: w("dCount"), dAvg: w("dAvg") };
  const fixed = widths.status + widths.count + widths.avg + widths.dCount + widths.dAvg + 2 * 5;
  const longest = Math.max(4, ...cells.map((x) => x.c.name.length));
  const nameWidth = Math.max(4, Math.min(longest, width - fixed));
  const name = (s: string) => (s.length > nameWidth ? `${s.slice(0, nameWidth - 1)}…` : s.padEnd(nameWidth));

  const rows: Row[] = [];
  const key = (k: string) => `${node}-${k}`;
  if (gap) rows.push({ key: key("gap"), node: <Text> </Text> });
  const at = (e: ProfileEvent) => (e.ts !== null ? `${e.ts.toFixed(3)} s` : `line ${e.line}`);
  rows.push({
    key: key("title"),
    node: (
      <Text wrap="truncate">
        <Text bold>{node}</Text>
        <Text dimColor>
          {`  at ${at(latest)}`}
          {previous ? `, change since ${at(previous)}` : ", no earlier table"}
          {latest.truncated ? "  (table cut off)" : ""}
        </Text>
      </Text>
    ),
  });
  rows.push({
    key: key("head"),
    node: (
      <Text dimColor wrap="truncate">
        {[
          "name".padEnd(nameWidth),
          "   ",
          head.count.padStart(widths.count),
          head.avg.padStart(widths.avg),
          head.dCount.padStart(widths.dCount),
          head.dAvg.padStart(widths.dAvg),
        ].join("  ")}
      </Text>
    ),
  });
  for (const [i, x] of cells.entries()) {
    const p = x.c.avgChangePct;
    const trend = p === undefined || p === null || Math.abs(p) < 10 ? undefined : p > 0 ? "yellow" : "green";
    rows.push({
      key: key(`row-${i}`),
      node: (
        <Text wrap="truncate">
          {name(x.c.name)}
          {"  "}
          <Text dimColor={!x.c.on}>{x.status.padEnd(widths.status)}</Text>
          {"  "}
          {x.count.padStart(widths.count)}
          {"  "}
          {x.avg.padStart(widths.avg)}
          {"  "}
          <Text dimColor={x.c.countDelta === 0n}>{x.dCount.padStart(widths.dCount)}</Text>
          {"  "}
          <Text color={trend}>{x.dAvg.padStart(widths.dAvg)}</Text>
        </Text>
      ),
    });
  }
  return rows;
}

function signed(n: bigint): string {
  return n > 0n ? `+${n}` : n.toString();
}

/** The average's change: `+176.0%`, `-52.9%`, `new` when it was 0, empty when there is nothing to compare. */
function pct(c: ProfileRowChange): string {
  if (c.avgChangePct === undefined) return "";
  if (c.avgChangePct === null) return "new";
  const v = c.avgChangePct;
  const s = Math.abs(v) >= 1000 ? v.toFixed(0) : v.toFixed(1);
  return v > 0 && s !== "0.0" ? `+${s}%` : `${s === "-0.0" ? "0.0" : s}%`;
}
