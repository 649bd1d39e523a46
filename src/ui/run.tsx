import { render } from "ink";
import type { CrashKnowledge } from "../crash/knowledge.js";
import type { Thresholds } from "../engine/thresholds.js";
import { type LiveNode, Monitor } from "../live/monitor.js";
import { type WatchOptions, watchPipelineOptions } from "../live/watch.js";
import { Pipeline } from "../pipeline.js";
import { replaySession } from "../record/replay.js";
import { App } from "./app.js";
import { ModelContext } from "./hooks/use-model.js";
import { UiModel } from "./model.js";

/** Options of {@link runTui}; the crash view shows what its `knowledge` learnt. */
export interface TuiOptions extends WatchOptions {
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
    ...watchPipelineOptions(o),
    onLine: (l) => model?.onLine(l),
    onEvent: (e) => {
      model?.onEvent(e);
      o.knowledge?.offer(e);
    },
    onAlert: (a, change) => {
      o.hooks?.onAlert?.(a, change);
      model?.onAlert(a);
    },
  });
  const ui = new UiModel(pipeline.engine);
  model = ui;
  ui.learnFrom(o.knowledge);
  o.hooks?.onStart?.(pipeline);
  const monitor = new Monitor(nodes, pipeline, {
    onStatus: (st) => {
      o.hooks?.onStatus?.(st);
      ui.onStatus(st);
    },
  });
  const { app, leave } = show(ui, o.bell ?? true);
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

/** Options of {@link replayTui}. */
export interface ReplayTuiOptions {
  speed: number | "max";
  from?: number;
  thresholds?: Partial<Thresholds>;
  bell?: boolean;
  /** Symbolizes the replayed crashes and records them in the crash store (`--store`). */
  knowledge?: CrashKnowledge;
}

/**
 * Plays a recorded session on the screen as it looked live. The screen stays up after the end of the
 * session until the user quits.
 */
export async function replayTui(path: string, o: ReplayTuiOptions): Promise<number> {
  let ui: UiModel | null = null;
  const abort = new AbortController();
  let app: ReturnType<typeof render> | null = null;
  let leave = () => {};
  const done = replaySession(path, {
    speed: o.speed,
    from: o.from,
    thresholds: o.thresholds,
    signal: abort.signal,
    onStart: (pipeline) => {
      ui = new UiModel(pipeline.engine);
      ui.learnFrom(o.knowledge);
      const screen = show(ui, o.bell ?? true);
      app = screen.app;
      leave = screen.leave;
      // Quitting before the end stops the replay.
      void screen.app.waitUntilExit().then(() => abort.abort());
    },
    onLine: (l) => ui?.onLine(l),
    onEvent: (e) => {
      ui?.onEvent(e);
      o.knowledge?.offer(e);
    },
    onAlert: (a) => ui?.onAlert(a),
    onStatus: (s) => ui?.onStatus(s),
    onWarning: () => {},
  });
  await done.catch((err) => {
    leave();
    throw err;
  });
  const shown = app as ReturnType<typeof render> | null;
  if (shown && !abort.signal.aborted) {
    (ui as UiModel | null)?.flush();
    await shown.waitUntilExit();
  }
  leave();
  return 0;
}

/** Renders the screen for a model on the alternate screen; `leave` restores the terminal. */
function show(ui: UiModel, bell: boolean): { app: ReturnType<typeof render>; leave: () => void } {
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
      <App bell={bell} />
    </ModelContext.Provider>,
    { maxFps: 15, incrementalRendering: true, exitOnCtrlC: false, patchConsole: true },
  );
  return { app, leave };
}
