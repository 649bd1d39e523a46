import { Box, Text } from "ink";
import type { ReactNode } from "react";
import type { Alert, Severity } from "../../engine/alerts.js";
import { useModel } from "../hooks/use-model.js";
import { visibleAlerts } from "../select.js";

const TAG: Record<Severity, string> = { critical: "CRIT", error: "ERR ", warning: "WARN", info: "INFO" };
const TAG_COLOR: Record<Severity, string | undefined> = {
  critical: "red",
  error: "magenta",
  warning: "yellow",
  info: undefined,
};

/** Longest node column; longer names are cut. */
const MAX_NODE_WIDTH = 10;
/** Evidence lines shown under the selected alert, at most. */
const MAX_EVIDENCE_ROWS = 2;

/**
 * The alerts list: a title line with counts, then the visible alerts (firing first, newest first), one
 * row each `SEV rule node xN age message`; resolved ones dimmed, the selected one inverse when the panel
 * has focus, with its first evidence lines below it when there is room. Scrolls to keep `selected` shown.
 */
export function AlertsPanel({
  width,
  height,
  selected,
  focused,
}: {
  width: number;
  height: number;
  selected: number;
  focused: boolean;
}) {
  const model = useModel();
  const alerts = visibleAlerts(model);
  const rows = Math.max(0, height - 1);
  const now = model.clock();
  const firing = alerts.filter((a) => a.state === "firing").length;
  const acked = model.engine.all.length - alerts.length;
  const sel = Math.min(Math.max(0, selected), Math.max(0, alerts.length - 1));
  const current = alerts[sel];

  // Evidence rows: what is left over after every alert, and one anyway when the panel is tall enough.
  const evidence = current ? current.evidence.slice(0, MAX_EVIDENCE_ROWS) : [];
  const evRows = Math.max(0, Math.min(evidence.length, Math.max(rows - alerts.length, rows >= 4 ? 1 : 0)));
  const listRows = rows - evRows;
  const first = Math.max(0, sel - listRows + 1);
  const shown = listRows > 0 ? alerts.slice(first, first + listRows) : [];
  // Columns as wide as the rows on screen need, so that a narrow panel keeps room for the message.
  const cols: Columns = {
    rule: Math.max(0, ...shown.map((a) => a.rule.length)),
    node: Math.min(MAX_NODE_WIDTH, Math.max(1, ...shown.map((a) => a.node.length))),
    count: Math.max(0, ...shown.map((a) => countOf(a).length)),
    age: Math.max(0, ...shown.map((a) => ageOf(a, now).length)),
  };

  const title = titleOf(firing, alerts.length - firing, acked, width);
  const body: ReactNode[] = [];
  shown.forEach((a, i) => {
    const isSel = first + i === sel;
    body.push(
      <AlertRow
        key={a.id}
        alert={a}
        now={now}
        width={width}
        cols={cols}
        selected={isSel}
        focused={focused}
      />,
    );
    if (isSel) {
      evidence.slice(0, evRows).forEach((ev, k) => {
        const who = ev.node !== a.node ? `${ev.node}: ` : "";
        body.push(
          // biome-ignore lint/suspicious/noArrayIndexKey: evidence lines are positional
          <Text key={`${a.id}/ev${k}`} dimColor wrap="truncate">
            {`     ${who}${clip(ev.text, width)}`}
          </Text>,
        );
      });
    }
  });

  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {height > 0 && (
        <Text wrap="truncate" bold={focused} color={focused ? "cyan" : undefined} dimColor={!focused}>
          {title}
        </Text>
      )}
      {rows > 0 && alerts.length === 0 ? <Text dimColor>no alerts</Text> : body}
    </Box>
  );
}

/** `─ Alerts ─ 2 firing ─ 1 resolved ─ 1 acked ─────`, filled to `width`. */
function titleOf(firing: number, resolved: number, acked: number, width: number): string {
  const parts = ["Alerts", `${firing} firing`];
  if (resolved > 0) parts.push(`${resolved} resolved`);
  if (acked > 0) parts.push(`${acked} acked`);
  const head = `─ ${parts.join(" ─ ")} `;
  return head + "─".repeat(Math.max(0, width - head.length));
}

/** Widths of an alert row's columns. */
interface Columns {
  rule: number;
  node: number;
  count: number;
  age: number;
}

/** `x3` for an alert seen 3 times, nothing for once. */
const countOf = (a: Alert): string => (a.count > 1 ? `x${a.count}` : "");

/** One alert: severity tag, rule, node, repeat count, age and message. */
function AlertRow({
  alert: a,
  now,
  width,
  cols,
  selected,
  focused,
}: {
  alert: Alert;
  now: number;
  width: number;
  cols: Columns;
  selected: boolean;
  focused: boolean;
}) {
  const resolved = a.state === "resolved";
  const node = a.node.length > cols.node ? a.node.slice(0, cols.node) : a.node.padEnd(cols.node);
  const count = cols.count > 0 ? ` ${countOf(a).padStart(cols.count)}` : "";
  const rest = `${a.rule.padEnd(cols.rule)} ${node}${count} ${ageOf(a, now).padStart(cols.age)} ${clip(a.message, width)}`;
  return (
    <Text
      wrap="truncate"
      inverse={selected && focused}
      bold={selected && !focused}
      dimColor={resolved && !(selected && focused)}
    >
      <Text color={TAG_COLOR[a.severity]} dimColor={resolved || a.severity === "info"}>
        {TAG[a.severity]}
      </Text>
      {` ${rest}`}
    </Text>
  );
}

/** How long ago the alert last happened, by receive time: `12s`, `5m`, `3h`, `2d`, or `-` when unknown. */
export function ageOf(a: Alert, now: number): string {
  if (a.last.arrival === null) return "-";
  const s = Math.max(0, Math.floor((now - a.last.arrival) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** A single display line: cut long before layout, tabs as blanks. */
function clip(text: string, width: number): string {
  const cut = text.length > width + 8 ? text.slice(0, width + 8) : text;
  return cut.replaceAll("\t", " ");
}
