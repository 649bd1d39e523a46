import { Box, Text } from "ink";

/** Every key of the screen and what it does. */
const KEYS: [string, string][] = [
  ["Tab", "focus alerts / log"],
  ["↑↓", "move or scroll"],
  ["PgUp PgDn", "page log or crash report"],
  ["End", "follow the log tail"],
  ["Enter", "crash report of an alert"],
  ["a", "acknowledge the alert"],
  ["/", "search the log"],
  ["n N", "next / previous match"],
  ["f", "cycle node filter"],
  ["s", "cycle minimum severity"],
  ["p", "profile view"],
  ["?", "help (this screen)"],
  ["q", "quit"],
];

const KEY_WIDTH = 11;

const LEGEND =
  "Nodes lists each console: its role (P processor, M memory, S storage), source status and when it " +
  "was last heard. Workers shows the M nodes' thread-pool workers: requests queued, " +
  "whether one is in its handler, and their recent history. Alerts lists the watchdog's alerts, " +
  "firing and newest first, coloured by severity " +
  "(critical red, error magenta, warning yellow); an acknowledged alert hides until its count changes. Log is the consoles' tail, event " +
  "lines marked by severity. The rules (defaults; a config changes them): " +
  "worker-stuck, a worker in its handler with no progress for 20 s or the kernel's report; " +
  "queue-growth, 4 or more requests queued for 5 s; rpc-timeout, an RPC without reply; " +
  "ib-error-storm, 5 IB errors within 10 s; crash and warning, a kernel report (Enter shows it); " +
  "stall, a lockup, hung task or RCU stall; ib-port-down, IB port down 30 s at boot; " +
  "segfault, a user program's fault; oom-kill, an OOM kill; reboot; node-silent, no line for a set time (off by default); " +
  "stalled-rpc, a timeout on one node while another node's worker was stuck.";

/** The full-screen help: the keys, then a legend of the panels and the alert rules. */
export function HelpView({ width, height }: { width: number; height: number }) {
  const colWidth = KEY_WIDTH + Math.max(...KEYS.map(([, d]) => d.length));
  const columns = width >= 2 * colWidth + 2 ? 2 : 1;
  const perColumn = Math.ceil(KEYS.length / columns);
  const keyRows: [string, string][][] = [];
  for (let i = 0; i < perColumn; i++) {
    const row: [string, string][] = [];
    for (let c = 0; c < columns; c++) {
      const k = KEYS[c * perColumn + i];
      if (k) row.push(k);
    }
    keyRows.push(row);
  }

  const bodyHeight = Math.max(0, height - 2);
  const legendRoom = Math.max(0, bodyHeight - keyRows.length - 1);
  const legend = wrapWords(LEGEND, Math.max(1, width));
  const legendShown = legend.slice(0, legendRoom);
  if (legend.length > legendRoom && legendShown.length > 0) {
    const lastLine = legendShown[legendShown.length - 1]!;
    legendShown[legendShown.length - 1] = `${lastLine.slice(0, Math.max(0, width - 1))}…`;
  }

  // Rows of a wrapped paragraph: their position is their identity.
  const legendRows = [];
  for (const [row, line] of legendShown.entries()) {
    legendRows.push(
      <Text key={`legend-${row}`} wrap="truncate">
        {line}
      </Text>,
    );
  }

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text dimColor wrap="truncate">
        {`─ Help ${"─".repeat(Math.max(0, width - 7))}`}
      </Text>
      <Box flexDirection="column" height={bodyHeight}>
        {keyRows.slice(0, bodyHeight).map((row, i) => (
          <Text key={row[0]?.[0] ?? i} wrap="truncate">
            {row.map(([key, what], c) => (
              <Text key={key}>
                {c > 0 ? "  " : ""}
                <Text bold>{key.padEnd(KEY_WIDTH)}</Text>
                {c < row.length - 1 ? what.padEnd(colWidth - KEY_WIDTH) : what}
              </Text>
            ))}
          </Text>
        ))}
        {legendShown.length > 0 ? <Text> </Text> : null}
        {legendRows}
      </Box>
      <Text dimColor wrap="truncate">
        ? or Esc back
      </Text>
    </Box>
  );
}

/** Splits `text` into lines of at most `width` columns at spaces (a longer word is cut by truncation). */
function wrapWords(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}
