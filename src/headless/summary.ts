import type { Alert } from "../engine/alerts.js";
import type { Engine } from "../engine/engine.js";
import { formatStamp } from "../parse/line.js";

/** The human summary `scan` prints: per-node counts, then alerts with their evidence, then crash titles. */
export function summary(engine: Engine): string {
  const out: string[] = [];
  for (const n of engine.nodes.values()) {
    const counts = Object.entries(n.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    const role = n.role === "unknown" || n.role === n.name ? "" : ` (${n.role})`;
    const down = n.panicked
      ? `; down at the end: kernel panic at line ${n.panicked.line} (${n.panicked.reason})`
      : "";
    out.push(`${n.name}${role}: ${n.lines} lines${counts ? `; ${counts}` : ""}${down}`);
  }
  const alerts = engine.all;
  out.push("");
  out.push(alerts.length === 0 ? "No alerts." : `${alerts.length} alert${alerts.length === 1 ? "" : "s"}:`);
  for (const a of alerts) out.push(...alertLines(a));
  const crashes = [...engine.nodes.values()].flatMap((n) => n.crashes.map((c) => ({ n: n.name, c })));
  if (crashes.length > 0) {
    out.push("", "Crash reports:");
    for (const { n, c } of crashes) {
      const at = c.ts !== null ? `${formatStamp(c.ts)} ` : "";
      const notes = [c.truncated ? "cut off" : "", c.corrupted ? `corrupted: ${c.corruptedReason}` : ""];
      const said = notes.filter(Boolean).join("; ");
      out.push(`  ${n}:${c.line} ${at}${c.title}${said ? ` (${said})` : ""}`);
    }
  }
  return `${out.join("\n")}\n`;
}

function alertLines(a: Alert): string[] {
  const count = a.count > 1 ? ` x${a.count}` : "";
  const state = a.state === "resolved" ? " (resolved)" : "";
  const lines = [
    `  ${a.severity.toUpperCase().padEnd(8)} ${a.rule} on ${a.node}${count}${state}: ${a.message}`,
  ];
  for (const e of a.evidence) lines.push(`      ${e.node}:${e.line}  ${e.text}`);
  return lines;
}
