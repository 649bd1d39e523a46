import { render } from "ink";
import type { Thresholds } from "../engine/thresholds.js";
import { type LiveNode, Monitor } from "../live/monitor.js";
import { Pipeline } from "../pipeline.js";
import { App } from "./app.js";
import { ModelContext } from "./hooks/use-model.js";
import { UiModel } from "./model.js";

/** Options of {@link runTui}. */
export interface TuiOptions {
  thresholds?: Partial<Thresholds>;
  roles?: Record<string, "P" | "M" | "S">;
  /** Ring the bell on a new critical alert. */
  bell?: boolean;
}

// The alternate screen keeps the user's scrollback intact and is left on every way out.
const ENTER_SCREEN = "\u001b[?1049h\u001b[H";
const LEAVE_SCREEN = "\u001b[?1049l";

/**
 * Watches the nodes on the screen until the user quits. The terminal is restored on quit, on
 * SIGTERM, and when legowatch itself fails, before the error is printed.
 */
export async function runTui(nodes: readonly LiveNode[], o: TuiOptions = {}): Promise<number> {
  let model: UiModel | null = null;
  const pipeline = new Pipeline({
    thresholds: o.thresholds,
    roles: o.roles,
    dedupReplays: true,
    onLine: (l) => model?.onLine(l),
    onEvent: (e) => model?.onEvent(e),
    onAlert: (a) => model?.onAlert(a),
  });
  const ui = new UiModel(pipeline.engine);
  model = ui;
  const monitor = new Monitor(nodes, pipeline, { onStatus: ui.onStatus });
  process.stdout.write(ENTER_SCREEN);
  let left = false;
  const leave = () => {
    if (left) return;
    left = true;
    process.stdout.write(LEAVE_SCREEN);
  };
  process.once("exit", leave);
  const app = render(
    <ModelContext.Provider value={ui}>
      <App bell={o.bell ?? true} />
    </ModelContext.Provider>,
    { maxFps: 15, incrementalRendering: true, exitOnCtrlC: false, patchConsole: true },
  );
  const fail = (err: unknown) => {
    app.unmount();
    leave();
    process.stderr.write(`legowatch: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(70);
  };
  process.once("uncaughtException", fail);
  process.once("unhandledRejection", fail);
  process.once("SIGTERM", () => app.unmount());
  monitor.start();
  // Ages and countdowns move on with no new line.
  const clock = setInterval(() => ui.touch(), 1000);
  try {
    await app.waitUntilExit();
  } finally {
    clearInterval(clock);
    leave();
  }
  await monitor.stop();
  return 0;
}
