import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { type CrashNotes, sourceOf } from "../../crash/knowledge.js";
import type { CrashEvent } from "../../parse/events.js";
import { useModel } from "../hooks/use-model.js";
import type { UiModel } from "../model.js";
import { crashOf } from "../select.js";
import { type Row, Rows } from "./rows.js";

/** Width of a 64-bit register in hex: the usual width of a register cell. */
const REG_VALUE = 16;

/**
 * The full-screen crash view: the report behind the alert `alertId`, its title and context on top,
 * then (scrolled by `scroll` rows) its details, registers, call trace and raw lines.
 */
export function CrashView({
  width,
  height,
  alertId,
  scroll,
}: {
  width: number;
  height: number;
  alertId: string;
  scroll: number;
}) {
  const model = useModel();
  const alert = model.engine.all.find((a) => a.id === alertId);
  const crash = alert ? crashOf(model, alert) : undefined;

  if (!alert || !crash) {
    return (
      <Box flexDirection="column" width={width} height={height}>
        <Heading width={width} title={alert ? alert.message : `Alert ${alertId}`} color="red" />
        <Box flexDirection="column" flexGrow={1}>
          <Text wrap="truncate">
            {alert
              ? "The report behind this alert is no longer held (the engine keeps the last 100 per node)."
              : `Alert ${alertId} is no longer known.`}
          </Text>
        </Box>
        <Text dimColor wrap="truncate">
          Esc back
        </Text>
      </Box>
    );
  }

  const rows = bodyRows(crash, width, model.knowledge?.get(crash));
  const bodyHeight = Math.max(0, height - 3);
  const top = Math.min(Math.max(0, scroll), Math.max(0, rows.length - bodyHeight));
  const shown = rows.slice(top, top + bodyHeight);
  const where = rows.length > bodyHeight ? `  ${top + 1}-${top + shown.length} of ${rows.length}` : "";

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Heading width={width} title={crash.title} color={crash.type === "crash" ? "red" : "yellow"} />
      <Text wrap="truncate">{contextLine(crash)}</Text>
      <Rows rows={shown} height={bodyHeight} />
      <Text dimColor wrap="truncate">
        ↑↓ PgUp PgDn scroll · Esc back{where}
      </Text>
    </Box>
  );
}

/**
 * The largest useful `scroll` of the crash view of `alertId` at this size: scrolling further shows
 * nothing new (the view clamps), so a reducer can clamp to it and Up moves at once.
 */
export function crashScrollMax(model: UiModel, alertId: string, width: number, height: number): number {
  const alert = model.engine.all.find((a) => a.id === alertId);
  const crash = alert ? crashOf(model, alert) : undefined;
  return crash
    ? Math.max(0, bodyRows(crash, width, model.knowledge?.get(crash)).length - Math.max(0, height - 3))
    : 0;
}

/** The top line: the title, bold and coloured, drawn as a border. */
function Heading({ width, title, color }: { width: number; title: string; color: string }) {
  const fill = Math.max(0, width - title.length - 4);
  return (
    <Text wrap="truncate">
      <Text dimColor>─ </Text>
      <Text bold color={color}>
        {title}
      </Text>
      <Text dimColor> {"─".repeat(fill + 1)}</Text>
    </Text>
  );
}

/** `node  function  CPU n  PID n  comm  kernel`, leaving out what the report did not say. */
function contextLine(c: CrashEvent): string {
  const parts = [c.node];
  if (c.function) parts.push(c.function);
  if (c.cpu !== undefined) parts.push(`CPU ${c.cpu}`);
  if (c.pid !== undefined) parts.push(`PID ${c.pid}`);
  if (c.comm) parts.push(c.comm);
  if (c.kernel) parts.push(c.kernel);
  return parts.join("  ");
}

/** Every row of the scrolling body; `notes` adds the crash's history and its frames' source lines. */
function bodyRows(c: CrashEvent, width: number, notes: CrashNotes | undefined): Row[] {
  const rows: Row[] = [];
  const text = (key: string, node: ReactNode) => rows.push({ key, node });
  const blank = (key: string) => text(key, <Text> </Text>);
  const field = (label: string, value: string | undefined) => {
    if (value === undefined || value === "") return;
    text(
      `f-${label}`,
      <Text wrap="truncate">
        <Text dimColor>{label.padEnd(9)}</Text>
        {value}
      </Text>,
    );
  };

  const at = c.ts !== null ? `${c.ts.toFixed(6)} s, ` : "";
  field("at", `${at}line ${c.line} (${c.kind})`);
  field("address", c.address);
  const ipLoc = notes?.symbolized?.ip?.locs[0];
  field("ip", c.ip && ipLoc ? `${c.ip}  ${sourceOf(ipLoc)}` : c.ip);
  field("where", c.where);
  field("panic", c.panic);
  field("oops", c.die !== undefined ? `[#${c.die}]` : undefined);
  field("history", notes?.history ?? notes?.storeError);
  const s = notes?.symbolized;
  field("guilty", s?.guilty ? `${s.guilty.fn}  ${sourceOf(s.guilty)}` : undefined);
  field("symbols", s?.note);
  if (c.truncated) {
    text(
      "cut",
      <Text color="yellow" wrap="truncate">
        (report cut off)
      </Text>,
    );
  }
  if (c.corrupted) {
    text(
      "corrupted",
      <Text color="yellow" wrap="truncate">
        (corrupted: {c.corruptedReason})
      </Text>,
    );
  }

  const regs = Object.entries(c.registers);
  if (regs.length > 0) {
    blank("b-regs");
    text(
      "h-regs",
      <Text bold wrap="truncate">
        Registers
      </Text>,
    );
    registerRows(regs, width).forEach((line, i) => {
      text(
        `r-${i}`,
        <Text wrap="truncate">
          {line.map(([name, value, pad], j) => (
            <Text key={name}>
              {j > 0 ? "  " : ""}
              <Text dimColor>{name}</Text> {j < line.length - 1 ? value.padEnd(pad) : value}
            </Text>
          ))}
        </Text>,
      );
    });
  }

  if (c.frames.length > 0) {
    blank("b-trace");
    text(
      "h-trace",
      <Text bold wrap="truncate">
        Call trace
      </Text>,
    );
    const symWidth = Math.max(...c.frames.map((f) => f.sym.length));
    c.frames.forEach((f, i) => {
      // Innermost first, as a call trace reads: the functions inlined into this frame, then the frame's own
      // function at its call site.
      const locs = s?.frames[i]?.locs ?? [];
      const own = locs.at(-1);
      const source = own ? `  ${sourceOf(own)}` : "";
      for (const [j, l] of locs.slice(0, -1).entries()) {
        text(
          `t-${i}-${j}`,
          <Text dimColor wrap="truncate">
            {"  (inlined) "}
            {l.fn}
            <Text color="cyan">{`  ${sourceOf(l)}`}</Text>
          </Text>,
        );
      }
      text(
        `t-${i}`,
        <Text dimColor={!f.reliable} wrap="truncate">
          {f.reliable ? "  " : "? "}
          {f.addr || source ? f.sym.padEnd(symWidth) : f.sym}
          {f.addr ? <Text dimColor>{`  ${f.addr}`}</Text> : null}
          {source ? <Text color="cyan">{source}</Text> : null}
        </Text>,
      );
    });
  }

  if (c.report.length > 0) {
    blank("b-report");
    text(
      "h-report",
      <Text bold wrap="truncate">
        Report
      </Text>,
    );
    const last = c.reportLines[c.reportLines.length - 1] ?? c.report.length;
    const gutter = String(last).length;
    c.report.forEach((line, i) => {
      const no = c.reportLines[i];
      text(
        `l-${i}`,
        <Text wrap="truncate">
          <Text dimColor>{`${no ?? ""}`.padStart(gutter)} </Text>
          {line}
        </Text>,
      );
    });
  }
  return rows;
}

/**
 * Registers packed into rows, as many per row as fit, on a grid: a cell is `NAME value`, names padded
 * to the longest and values to the width of a 64-bit register; a longer value spans several cells.
 * Returns each row's cells with the width to pad each value to.
 */
function registerRows(regs: [string, string][], width: number): [string, string, number][][] {
  const nameWidth = Math.max(...regs.map(([n]) => n.length));
  const unit = nameWidth + 1 + REG_VALUE;
  const perRow = Math.max(1, Math.floor((width + 2) / (unit + 2)));
  const out: [string, string, number][][] = [];
  let line: [string, string, number][] = [];
  let used = 0;
  for (const [name, value] of regs) {
    const span = Math.min(perRow, Math.ceil((nameWidth + 1 + value.length + 2) / (unit + 2)));
    if (line.length > 0 && used + span > perRow) {
      out.push(line);
      line = [];
      used = 0;
    }
    line.push([name.padEnd(nameWidth), value, span * (unit + 2) - 2 - nameWidth - 1]);
    used += span;
  }
  if (line.length > 0) out.push(line);
  return out;
}
