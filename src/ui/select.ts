import type { Alert } from "../engine/alerts.js";
import type { CrashEvent } from "../parse/events.js";
import type { UiModel } from "./model.js";

/** Alerts the Alerts panel lists: not acknowledged, firing first, newest first. */
export function visibleAlerts(model: UiModel): Alert[] {
  return model.engine.all
    .filter((a) => !model.isAcked(a))
    .sort((a, b) => (a.state === b.state ? 0 : a.state === "firing" ? -1 : 1) || seq(b) - seq(a));
}

function seq(a: Alert): number {
  return Number(a.id.slice(a.id.lastIndexOf("#") + 1));
}

/** The crash or warning report behind a `crash` or `warning` alert, if the engine still holds it. */
export function crashOf(model: UiModel, a: Alert): CrashEvent | undefined {
  if (a.rule !== "crash" && a.rule !== "warning") return undefined;
  const node = model.engine.nodes.get(a.node);
  return node?.crashes.find((c) => c.line === a.first.line && c.ts === a.first.ts);
}
