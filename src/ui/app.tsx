import { Box, Text, useApp, useInput, useStdout } from "ink";
import { useEffect, useReducer, useRef } from "react";
import { AlertsPanel } from "./components/alerts-panel.js";
import { CrashView, crashScrollMax } from "./components/crash-view.js";
import { HelpView } from "./components/help-view.js";
import { LogPanel } from "./components/log-panel.js";
import { NodesPanel, nodesPanelHeight } from "./components/nodes-panel.js";
import { ProfileView } from "./components/profile-view.js";
import { WorkersPanel } from "./components/workers-panel.js";
import { useModel } from "./hooks/use-model.js";
import { useTerminalSize } from "./hooks/use-terminal-size.js";
import { crashOf, visibleAlerts } from "./select.js";
import { INITIAL_STATE, reduce } from "./ui-state.js";

/** Options of the screen. */
export interface AppProps {
  /** Ring the terminal bell on a new critical alert. */
  bell?: boolean;
}

/** The whole screen: nodes on top, workers beside alerts, the log tail below, and the full-screen views. */
export function App({ bell = true }: AppProps) {
  const model = useModel();
  const { exit } = useApp();
  const { stdout } = useStdout();
  const { columns, rows } = useTerminalSize();
  const [s, dispatch] = useReducer(reduce, INITIAL_STATE);
  const alerts = visibleAlerts(model);
  const rang = useRef(model.bell);

  useEffect(() => {
    if (bell && model.bell > rang.current) stdout.write("\u0007");
    rang.current = model.bell;
  });

  const nodes = [...model.engine.nodes.keys()];
  const middle = Math.max(6, Math.floor((rows - 8) * 0.4));
  const logHeight = Math.max(4, rows - nodesPanelHeight(nodes.length) - middle - 1);

  useInput((input, key) => {
    if (s.log.typing !== null) {
      if (key.return) dispatch({ type: "search-end", commit: true });
      else if (key.escape) dispatch({ type: "search-end", commit: false });
      else if (key.backspace || key.delete)
        dispatch({ type: "search-type", text: s.log.typing.slice(0, -1) });
      else if (input && !key.ctrl && !key.meta) {
        // A pasted term arrives in one piece, maybe with its Enter.
        const cr = input.search(/[\r\n]/);
        dispatch({ type: "search-type", text: s.log.typing + (cr === -1 ? input : input.slice(0, cr)) });
        if (cr !== -1) dispatch({ type: "search-end", commit: true });
      }
      return;
    }
    if (input === "q" || (key.ctrl && input === "c")) {
      exit();
      return;
    }
    if (input === "?") return dispatch({ type: "view", view: "help" });
    if (s.view !== "main") {
      if (key.escape || key.return || input === "p" || input === "?")
        return dispatch({ type: "view", view: s.view });
      if (s.view === "crash" && (key.upArrow || key.downArrow || key.pageUp || key.pageDown)) {
        const step = key.pageUp || key.pageDown ? rows - 4 : 1;
        const max = s.crashAlert ? crashScrollMax(model, s.crashAlert, columns, rows) : 0;
        return dispatch({ type: "crash-scroll", delta: key.upArrow || key.pageUp ? -step : step, max });
      }
      return;
    }
    if (key.tab) return dispatch({ type: "focus-next" });
    if (input === "p") return dispatch({ type: "view", view: "profile" });
    if (input === "/") return dispatch({ type: "search-start" });
    if (input === "f") return dispatch({ type: "log-node", nodes });
    if (input === "s") return dispatch({ type: "log-severity" });
    if (s.focus === "alerts") {
      if (key.upArrow || key.downArrow)
        return dispatch({ type: "select-alert", delta: key.upArrow ? -1 : 1, count: alerts.length });
      const selected = alerts[Math.min(s.alert, alerts.length - 1)];
      if (input === "a" && selected) return model.acknowledge(selected);
      if (key.return && selected && crashOf(model, selected))
        return dispatch({ type: "open-crash", alertId: selected.id });
      return;
    }
    const filter = { node: s.log.node ?? undefined, minSeverity: s.log.minSeverity ?? undefined };
    const max = model.log.count(filter) - (logHeight - 2);
    if (key.upArrow || key.downArrow)
      return dispatch({ type: "log-scroll", delta: key.upArrow ? 1 : -1, max });
    if (key.pageUp || key.pageDown)
      return dispatch({ type: "log-scroll", delta: (key.pageUp ? 1 : -1) * (logHeight - 2), max });
    if (key.end) return dispatch({ type: "log-follow" });
    if ((input === "n" || input === "N") && s.log.search) {
      const at = model.log.find(s.log.search, s.log.skip, input === "n", filter);
      if (at !== null) dispatch({ type: "log-skip", skip: at });
    }
  });

  if (s.view === "help") return <HelpView width={columns} height={rows} />;
  if (s.view === "profile") return <ProfileView width={columns} height={rows} />;
  if (s.view === "crash" && s.crashAlert) {
    return <CrashView width={columns} height={rows} alertId={s.crashAlert} scroll={s.crashScroll} />;
  }

  const workersWidth = Math.floor(columns * 0.45);
  return (
    <Box flexDirection="column" width={columns} height={rows}>
      <NodesPanel width={columns} />
      <Box height={middle}>
        <WorkersPanel width={workersWidth} height={middle} />
        <AlertsPanel
          width={columns - workersWidth}
          height={middle}
          selected={Math.min(s.alert, Math.max(0, alerts.length - 1))}
          focused={s.focus === "alerts"}
        />
      </Box>
      <LogPanel width={columns} height={logHeight} state={s.log} focused={s.focus === "log"} />
      <Text dimColor wrap="truncate">
        {s.log.typing !== null
          ? `/${s.log.typing}`
          : "Tab focus  ↑↓ move  Enter crash  a ack  / search  f node  s severity  p profile  ? help  q quit"}
      </Text>
    </Box>
  );
}
