import { Box, Text } from "ink";
import type { Severity } from "../../engine/alerts.js";
import { useModel } from "../hooks/use-model.js";
import type { LogEntry, LogFilter } from "../log-store.js";
import type { UiState } from "../ui-state.js";

/** Colours a node name can get: none of them a severity colour, so a node never looks like an alert. */
const NODE_PALETTE = ["cyan", "green", "blue", "cyanBright", "greenBright", "blueBright"] as const;

/** Line colour by severity; plain (`info`) lines keep the terminal's colour. */
const SEVERITY_COLOR: Record<Severity, string | undefined> = {
  critical: "red",
  error: "magenta",
  warning: "yellow",
  info: undefined,
};

/** The longest node column; longer names are cut. */
const MAX_NODE_WIDTH = 12;

/** A stable colour for a node name (FNV-1a hash into {@link NODE_PALETTE}). */
export function nodeColor(name: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return NODE_PALETTE[(h >>> 0) % NODE_PALETTE.length]!;
}

/**
 * The merged log tail: a title line with the filter, search and scroll state, then exactly `height - 1`
 * rows of the newest matching lines (or older ones when scrolled up), each `NODE text`. Only the visible
 * rows are read from the store and rendered.
 */
export function LogPanel({
  width,
  height,
  state,
  focused,
}: {
  width: number;
  height: number;
  state: UiState["log"];
  focused: boolean;
}) {
  const model = useModel();
  const rows = Math.max(0, height - 1);
  const filter: LogFilter = { node: state.node ?? undefined, minSeverity: state.minSeverity ?? undefined };
  const entries = model.log.view(rows, filter, state.skip);
  const nodeWidth = Math.min(
    MAX_NODE_WIDTH,
    Math.max(1, ...[...model.engine.nodes.keys()].map((n) => n.length), ...entries.map((e) => e.node.length)),
  );
  const term = state.typing || state.search || null;
  const blank = rows - entries.length;
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      {height > 0 && (
        <Text wrap="truncate" bold={focused} color={focused ? "cyan" : undefined} dimColor={!focused}>
          {titleOf(state, width)}
        </Text>
      )}
      {entries.map((e) => (
        <LogRow key={e.seq} entry={e} width={width} nodeWidth={nodeWidth} term={term} />
      ))}
      {blank > 0 &&
        Array.from({ length: blank }, (_, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: blank filler rows have no identity
          <Text key={`blank-${i}`}> </Text>
        ))}
    </Box>
  );
}

/** `─ Log ─ node: M ─ ≥ error ─ search: stucked ─ paused (120 up) ─────`, filled to `width`. */
function titleOf(state: UiState["log"], width: number): string {
  const parts = ["Log"];
  if (state.node) parts.push(`node: ${state.node}`);
  if (state.minSeverity) parts.push(`≥ ${state.minSeverity}`);
  if (state.search) parts.push(`search: ${state.search}`);
  if (state.skip > 0) parts.push(`paused (${state.skip} up)`);
  const head = `─ ${parts.join(" ─ ")} `;
  return head + "─".repeat(Math.max(0, width - head.length));
}

/** One log row: the node name in its colour, then the text coloured by severity, the search term inverse. */
function LogRow({
  entry,
  width,
  nodeWidth,
  term,
}: {
  entry: LogEntry;
  width: number;
  nodeWidth: number;
  term: string | null;
}) {
  const name = entry.node.length > nodeWidth ? entry.node.slice(0, nodeWidth) : entry.node.padEnd(nodeWidth);
  // Cut before laying out (a line may be 64 KiB); Ink truncates what still overflows (wide characters).
  const text = displayText(entry.text, Math.max(0, width - nodeWidth - 1));
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate">
        <Text color={nodeColor(entry.node)}>{name} </Text>
        <Text color={SEVERITY_COLOR[entry.severity]} bold={entry.severity === "critical"}>
          {highlight(text, term).map((seg, i) =>
            seg.hit ? (
              // biome-ignore lint/suspicious/noArrayIndexKey: segments are positional
              <Text key={i} inverse>
                {seg.text}
              </Text>
            ) : (
              seg.text
            ),
          )}
        </Text>
      </Text>
    </Box>
  );
}

/** The first `width` columns' worth of a line, tabs expanded (Ink would measure a tab as nothing). */
export function displayText(text: string, width: number): string {
  const cut = text.length > width * 2 + 8 ? text.slice(0, width * 2 + 8) : text;
  if (!cut.includes("\t")) return cut;
  let out = "";
  for (const ch of cut) out += ch === "\t" ? " ".repeat(8 - (out.length % 8)) : ch;
  return out;
}

/** Splits `text` around case-insensitive occurrences of `term`. */
export function highlight(text: string, term: string | null): { text: string; hit: boolean }[] {
  if (!term) return [{ text, hit: false }];
  const hay = text.toLowerCase();
  const needle = term.toLowerCase();
  // Lower-casing changed some character's length: offsets would not map back, so show no highlight.
  if (hay.length !== text.length) return [{ text, hit: false }];
  const out: { text: string; hit: boolean }[] = [];
  let at = 0;
  for (let i = hay.indexOf(needle); i !== -1; i = hay.indexOf(needle, i + needle.length)) {
    if (i > at) out.push({ text: text.slice(at, i), hit: false });
    out.push({ text: text.slice(i, i + needle.length), hit: true });
    at = i + needle.length;
  }
  if (at < text.length) out.push({ text: text.slice(at), hit: false });
  return out;
}
