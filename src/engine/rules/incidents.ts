import type { CrashEvent, OomEvent, RebootEvent, SegfaultEvent, TimeoutEvent } from "../../parse/events.js";
import { readStamp } from "../../parse/line.js";
import { evidenceOf, whenOf } from "../alerts.js";
import type { NodeState } from "../node-state.js";
import type { RuleContext } from "./context.js";

/** How a kernel ends an Oops it cannot return from: the panic is that report's end, not news of its own. */
const FATAL_EXCEPTION = /^Fatal exception/;
/** At most this many lines between a report's end and the panic that ends it. */
const PANIC_AFTER_LINES = 20;

/**
 * A kernel crash or warning report. Repeats of the same title on a node fold into one alert; so does
 * the `Kernel panic - not syncing: Fatal exception` right after a report (Linux prints it after the
 * report's `end trace`), which adds that the node died of it.
 */
export function onCrash(ctx: RuleContext, node: NodeState, e: CrashEvent): void {
  if (e.panic !== undefined && FATAL_EXCEPTION.test(e.panic)) {
    const before = node.crashes.at(-2);
    const end = before?.reportLines.at(-1) ?? before?.line;
    const alert = before && ctx.book.get(crashKey(node, before));
    if (alert && end !== undefined && e.line > end && e.line - end <= PANIC_AFTER_LINES) {
      const died = `; the node then panicked: ${e.panic}`;
      ctx.book.raise(
        crashKey(node, before),
        {
          rule: alert.rule,
          severity: alert.severity,
          node: alert.node,
          message: alert.message.endsWith(died) ? alert.message : `${alert.message}${died}`,
        },
        whenOf(e),
        [evidenceOf(e)],
        0,
      );
      return;
    }
  }
  const warning = e.type === "warning";
  const who =
    e.comm !== undefined ? ` (${e.comm}${e.pid !== undefined ? `[${e.pid}]` : ""}, CPU ${e.cpu ?? "?"})` : "";
  const cite = [evidenceOf(e)];
  const i = e.report.findIndex((l, k) => k > 0 && /\b(?:R?IP|WARNING): /.test(l));
  if (i > 0) {
    const text = e.report[i]!;
    cite.push({ node: e.node, line: e.reportLines[i] ?? e.line, ts: readStamp(text)?.ts ?? null, text });
  }
  ctx.book.raise(
    crashKey(node, e),
    {
      rule: warning ? "warning" : "crash",
      severity: warning ? "warning" : "critical",
      node: node.name,
      message: `${e.title}${who}${e.truncated ? ", report cut off" : ""}`,
    },
    whenOf(e),
    cite,
  );
}

const crashKey = (node: NodeState, e: CrashEvent) => `${e.type}:${node.name}:${e.title}`;

/** A user program died; on LegoOS often the last link of a chain that began on M. */
export function onSegfault(ctx: RuleContext, node: NodeState, e: SegfaultEvent): void {
  const who = `${e.comm ?? "?"}[${e.pid ?? "?"}]`;
  const detail =
    e.kind === "segfault"
      ? `segfault at 0x${(e.addr ?? 0n).toString(16)}${e.error !== undefined ? ` (error ${e.error.toString(16)})` : ""}`
      : e.kind === "trap"
        ? `trap ${e.trap ?? ""}`.trim()
        : e.kind === "general-protection"
          ? "general protection fault"
          : `fatal signal ${e.signal ?? "?"}`;
  ctx.book.raise(
    `segfault:${node.name}:${e.comm ?? ""}`,
    { rule: "segfault", severity: "error", node: node.name, message: `${who}: ${detail}` },
    whenOf(e),
    [evidenceOf(e)],
  );
}

/** The OOM killer killed a process: the node (or a cgroup) ran out of memory. Repeats of a comm fold. */
export function onOom(ctx: RuleContext, node: NodeState, e: OomEvent): void {
  const kb = e.anonRssKb;
  const size =
    kb === undefined ? "" : kb < 1024 ? `, ${kb} kB resident` : `, ${Math.round(kb / 1024)} MB resident`;
  ctx.book.raise(
    `oom-kill:${node.name}:${e.comm}`,
    {
      rule: "oom-kill",
      severity: "error",
      node: node.name,
      message: `${e.cgroup ? "memory cgroup out of memory" : "out of memory"}: the OOM killer killed ${e.comm}[${e.pid}]${size}`,
    },
    whenOf(e),
    [evidenceOf(e)],
  );
}

/** An RPC got no reply within its timeout: the peer's handler hung, or a message was lost. */
export function onTimeout(ctx: RuleContext, node: NodeState, e: TimeoutEvent): void {
  const who = e.cpu !== undefined ? ` (CPU ${e.cpu}, PID ${e.pid ?? "?"})` : "";
  ctx.book.raise(
    `rpc-timeout:${node.name}:${e.callerFn}`,
    {
      rule: "rpc-timeout",
      severity: "critical",
      node: node.name,
      message: `RPC got no reply in ${e.ms} ms, caller ${e.via ?? e.caller}${who}`,
    },
    whenOf(e),
    [evidenceOf(e)],
  );
}

/** The node booted again: what was firing about the old boot is over, and the reboot itself is news. */
export function onReboot(ctx: RuleContext, node: NodeState, e: RebootEvent): void {
  ctx.book.resolveNode(node.name, whenOf(e));
  node.reboot();
  ctx.book.raise(
    `reboot:${node.name}:${node.boots}`,
    { rule: "reboot", severity: "warning", node: node.name, message: `node rebooted (${e.reason})` },
    whenOf(e),
    [evidenceOf(e)],
  );
}
