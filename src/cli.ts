#!/usr/bin/env node
import { Command, CommanderError, Option } from "commander";
import { nodeAssignment } from "./config/node-arg.js";
import type { Config } from "./config/schema.js";
import type { CrashKnowledge } from "./crash/knowledge.js";
import type { CrashEntry } from "./crash/store.js";
import { SEVERITIES, type Severity } from "./engine/alerts.js";
import type { LiveNode } from "./live/monitor.js";
import type { LiveHooks } from "./live/watch.js";

// Every command loads what it needs when it runs: a `scan` then starts without the YAML and schema
// libraries, the SSH and serial stacks or the screen, which took longer to load than 10 MB of log to scan.

const EXIT_USAGE = 2;

/** The names of the errors of bad input (their classes load with their commands): told in one line. */
const USER_ERRORS = new Set([
  "InputError",
  "UriError",
  "SessionFormatError",
  "UnknownNodeError",
  "ConfigError",
]);

/** Commander's way to take an option once per use. */
const collect = (v: string, prev: string[] = []) => [...prev, v];

/** One line on stderr: a warning, a failure report. */
const warn = (message: string) => process.stderr.write(`legowatch: ${message}\n`);

function fail(message: string): never {
  warn(message);
  process.exit(EXIT_USAGE);
}

const DEFAULT_STORE = "$XDG_DATA_HOME/legowatch/crashes";

/** `--crash-store DIR`, for every command that reads or writes the crash store. */
const crashStoreOption = (what = "the crash store's folder") =>
  new Option("--crash-store <dir>", `${what} (default ${DEFAULT_STORE})`);

/** `--vmlinux NODE=PATH`, once per node. */
const vmlinuxOption = () =>
  new Option(
    "--vmlinux <NODE=PATH>",
    "a node's kernel image with debug info, crash frames resolved to file:line (repeat per node)",
  ).argParser(collect);

/** The crash store at `dir` (default: the user's), its warnings on stderr. */
async function openStore(dir?: string) {
  const { CrashStore } = await import("./crash/store.js");
  return new CrashStore(dir ?? CrashStore.defaultDir(), { onWarning: warn });
}

/**
 * The screen (Ink, React), loaded only when it is shown: `scan` and headless runs start faster. React
 * picks its build when first loaded; its development build checks and keeps far more per render.
 * Ink, when first loaded with CI set, draws only the final frame (for build logs); the screen is only
 * loaded for a terminal a person watches, so CI is hidden from it for that moment and given back.
 */
async function loadScreen(): Promise<typeof import("./ui/run.js")> {
  process.env.NODE_ENV ??= "production";
  const ci = { CI: process.env.CI, CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION };
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  try {
    return await import("./ui/run.js");
  } finally {
    for (const [k, v] of Object.entries(ci)) if (v !== undefined) process.env[k] = v;
  }
}

interface LiveOptions {
  config?: string;
  onAlert?: string;
  metrics?: string;
  record?: string;
  recordMaxSize?: string;
  headless?: boolean;
  bell?: boolean;
  json?: boolean;
  failOn?: Severity;
  acceptNewHostKey?: boolean;
  crashStore?: string;
  vmlinux?: string[];
}

/** The options of every watch, live or the demo: alert hooks, metrics, recording and the bell. */
function withWatchOptions(cmd: Command): Command {
  return cmd
    .option("--on-alert <command>", "run a command for each new alert, the alert as JSON on its stdin")
    .option("--metrics <host:port>", "serve Prometheus metrics (queues, events, alerts, sources) at /metrics")
    .option(
      "--record <file>",
      "record the session (every line, with its receive time) to FILE (.gz compresses)",
    )
    .option(
      "--record-max-size <size>",
      "with --record: start a new file (FILE.1, FILE.2...) past this size, e.g. 100M",
    )
    .option("--no-bell", "do not ring the bell on a new critical alert");
}

const program = new Command("legowatch")
  .description("Live monitor for the kernel consoles of a LegoOS cluster")
  .version("0.1.0")
  .exitOverride()
  .enablePositionalOptions()
  .configureOutput({ outputError: (s, write) => write(`legowatch: ${s.replace(/^error: /, "").trim()}\n`) });

withWatchOptions(
  program
    .argument("[nodes...]", "consoles to watch, each NAME=URI (serial:, ssh://, tcp://, cmd:, file:, -)")
    .option("--config <file>", "YAML config: nodes, alert thresholds (default ./legowatch.yaml when present)")
    .option("--headless", "no screen: print alerts as they fire (the default when stdout is not a terminal)")
    .option("--json", "with --headless: alerts as JSON lines, the schema of scan --json")
    .addOption(
      new Option("--fail-on <severity>", "exit 1 as soon as an alert this severe or worse fires").choices(
        SEVERITIES,
      ),
    )
    .option("--accept-new-host-key", "trust and remember the SSH host key of a host not in known_hosts"),
)
  .addOption(crashStoreOption("where every crash and warning seen is kept"))
  .addOption(vmlinuxOption())
  .action(async (args: string[], opts: LiveOptions) => {
    const [{ createSource }, { parseSourceUri }, { findConfig }, { askHidden }] = await Promise.all([
      import("./sources/create.js"),
      import("./sources/uri.js"),
      import("./config/load.js"),
      import("./live/ask.js"),
    ]);
    const config = findConfig(opts.config);
    const nodes: LiveNode[] = [];
    const roles: Record<string, "P" | "M" | "S"> = { ...config?.roles };
    const ssh = {
      acceptNewHostKey: opts.acceptNewHostKey ?? false,
      passphrase: process.stdin.isTTY ? (prompt: string) => askHidden(prompt) : undefined,
    };
    const sources: { name: string; source: string }[] = [];
    for (const n of config?.nodes ?? []) {
      nodes.push({ name: n.name, source: createSource(parseSourceUri(n.source), ssh) });
      sources.push({ name: n.name, source: n.source });
      if (n.role) roles[n.name] = n.role;
    }
    for (const arg of args) {
      const m = nodeAssignment(arg);
      if (!m)
        fail(`${arg}: expected NAME=URI, e.g. M=ssh://console-host?cmd=tail -F /var/log/consoles/M.log`);
      nodes.push({ name: m.name, source: createSource(parseSourceUri(m.value), ssh) });
      sources.push({ name: m.name, source: m.value });
    }
    if (nodes.length === 0) fail("no nodes to watch: give NAME=URI arguments or a config file with nodes");
    await watch(nodes, sources, opts, config, roles, true);
  });

/** Runs the screen on a terminal, else headless; exits when done. */
async function watch(
  nodes: LiveNode[],
  sources: { name: string; source: string }[],
  opts: LiveOptions,
  config: Config | undefined,
  roles: Record<string, "P" | "M" | "S">,
  keepHistory: boolean,
): Promise<never> {
  const thresholds = config?.alerts;
  const recordTo = opts.record ?? config?.record?.file;
  const session = recordTo ?? `live on ${new Date().toISOString().slice(0, 16).replace("T", " ")}`;
  const [knowledge, { SessionWriter }, { attachRecorder }, { AlertHook }] = await Promise.all([
    crashKnowledge(opts, config, session, keepHistory),
    import("./record/writer.js"),
    import("./record/recorder.js"),
    import("./integrations/on-alert.js"),
  ]);
  const writer = recordTo
    ? new SessionWriter(recordTo, {
        nodes: sources,
        maxBytes: parseSize(opts.recordMaxSize ?? config?.record?.maxSize),
        onError: (err) =>
          process.stderr.write(`legowatch: recording to ${recordTo} failed: ${err.message}\n`),
      })
    : null;
  const recorder = writer ? attachRecorder(writer) : null;
  const onAlert = opts.onAlert ? new AlertHook({ command: opts.onAlert, onError: warn }) : null;
  const statuses = new Map<string, { state: string }>();
  let metrics: Promise<{ url: string; close(): Promise<void> }> | null = null;
  const hooks: LiveHooks = {
    onChunk: recorder?.onChunk,
    onIdle: recorder?.onIdle,
    onReconnect: recorder?.onReconnect,
    onAlert: onAlert ? (a, change) => onAlert.alert(a, change) : undefined,
    onStatus: (st) => {
      statuses.set(st.node, st);
      recorder?.onStatus(st);
    },
    onStart: (pipeline) => {
      if (!opts.metrics) return;
      const at = parseHostPort(opts.metrics);
      metrics = import("./integrations/metrics.js").then(({ startMetrics }) =>
        startMetrics({ ...at, engine: pipeline.engine, statuses: () => statuses }),
      );
      metrics.then(
        (m) => {
          if (!process.stdout.isTTY || opts.headless) warn(`metrics at ${m.url}`);
        },
        (err: Error) => warn(err.message),
      );
    },
  };
  const finish = async (code: number): Promise<never> => {
    await onAlert?.close();
    await (metrics as Promise<{ close(): Promise<void> }> | null)?.then((m) => m.close()).catch(() => {});
    await writer?.close();
    process.exitCode = code;
    // Sources are stopped; a stdin left open must not keep the process alive.
    process.exit();
  };
  // Recording runs before the first line arrives, so that its 200 ms promise holds from the start.
  await writer?.ready;
  if (!opts.headless && process.stdout.isTTY && process.stdin.isTTY) {
    const { runTui } = await loadScreen();
    return finish(await runTui(nodes, { thresholds, roles, bell: opts.bell ?? true, hooks, knowledge }));
  }
  const stopRequested = new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  const { runHeadless } = await import("./headless/live.js");
  const code = await runHeadless(nodes, {
    json: opts.json ?? false,
    failOn: opts.failOn,
    thresholds,
    roles,
    stdout: process.stdout,
    stderr: process.stderr,
    stopRequested,
    hooks,
    knowledge,
  });
  return finish(code);
}

/** `HOST:PORT` or `PORT` (loopback). */
function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (!m || port > 65535) fail(`--metrics ${text}: expected HOST:PORT, e.g. 127.0.0.1:9464`);
  return { host: m[1] || "127.0.0.1", port };
}

interface ScanCliOptions {
  node?: string;
  json?: boolean;
  failOn?: Severity;
  config?: string;
  store?: boolean;
  crashStore?: string;
  vmlinux?: string[];
}

/**
 * What learns about crashes for a run: kernel images from `--vmlinux NODE=PATH` and the config, and the
 * crash store when `store` is set. Undefined when there is nothing to learn.
 */
async function crashKnowledge(
  opts: { crashStore?: string; vmlinux?: string[] },
  config: Config | undefined,
  session: string,
  store: boolean,
): Promise<CrashKnowledge | undefined> {
  const vmlinux: Record<string, string> = {};
  for (const n of config?.nodes ?? []) if (n.vmlinux) vmlinux[n.name] = n.vmlinux;
  for (const v of opts.vmlinux ?? []) {
    const m = nodeAssignment(v);
    if (!m) fail(`--vmlinux ${v}: expected NODE=PATH, e.g. M=build/vmImage`);
    vmlinux[m.name] = m.value;
  }
  if (!store && Object.keys(vmlinux).length === 0) return undefined;
  const { CrashKnowledge } = await import("./crash/knowledge.js");
  return new CrashKnowledge({
    vmlinux,
    store: store ? await openStore(opts.crashStore) : undefined,
    session,
  });
}

/** The crash store as a table, last seen first. */
function formatCrashes(
  entries: readonly CrashEntry[],
  dir: string,
  localMinute: (at: number) => string,
): string {
  if (entries.length === 0) return `no crash recorded in ${dir}\n`;
  const rows = entries.map((e) => [
    String(e.count),
    localMinute(e.first.at),
    localMinute(e.last.at),
    e.nodes.join(","),
    e.title,
  ]);
  const head = ["count", "first seen", "last seen", "nodes", "title"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === r.length - 1 ? c : i === 0 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join("  ");
  return `${[head, ...rows].map(line).join("\n")}\n`;
}

/** `100M`, `2G`, `500k` or a byte count. */
function parseSize(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)i?[bB]?$/.exec(text.trim());
  if (!m) fail(`--record-max-size ${text}: expected a size such as 100M`);
  const bytes = Number(m[1]) * 1024 ** " kmg".indexOf((m[2] || " ").toLowerCase());
  if (bytes < 64 * 1024)
    fail(`--record-max-size ${text}: at least 64k, so that a file holds more than a few lines`);
  return Math.round(bytes);
}

program
  .command("scan")
  .description("parse console logs after the fact: events, alerts and crash reports")
  .argument("<files...>", "logs to read, each [NAME=]FILE (plain or .gz; - for standard input)")
  .option("--node <name>", "node name for files given without NAME=")
  .option("--json", "one JSON object per line: every event, then every alert")
  .addOption(
    new Option("--fail-on <severity>", "exit 1 when an alert this severe or worse fired").choices(SEVERITIES),
  )
  .option("--config <file>", "YAML config with alert thresholds, node roles and kernel images")
  .option("--store", "record every crash and warning in the crash store (see `legowatch crashes`)")
  .addOption(crashStoreOption())
  .addOption(vmlinuxOption())
  .action(async (files: string[], opts: ScanCliOptions) => {
    const config = opts.config ? (await import("./config/load.js")).loadConfig(opts.config) : undefined;
    const { parseInput, scan } = await import("./headless/scan.js");
    const inputs = files.map((f) => parseInput(f, opts.node));
    const knowledge = await crashKnowledge(
      opts,
      config,
      inputs.map((i) => i.path).join(" "),
      opts.store ?? false,
    );
    const code = await scan(inputs, {
      json: opts.json ?? false,
      failOn: opts.failOn,
      thresholds: config?.alerts,
      roles: config?.roles,
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      knowledge,
    });
    process.exitCode = code;
  });

program
  .command("crashes")
  .description("list the crash store: every crash and warning seen, last seen first, with counts")
  .option("--json", "one JSON object per entry")
  .addOption(crashStoreOption())
  .action(async (opts: { json?: boolean; crashStore?: string }) => {
    const [store, { localMinute }] = await Promise.all([
      openStore(opts.crashStore),
      import("./crash/store.js"),
    ]);
    const entries = await store.list();
    if (opts.json) {
      for (const e of entries) process.stdout.write(`${JSON.stringify(e)}\n`);
      return;
    }
    process.stdout.write(formatCrashes(entries, store.dir, localMinute));
  });

withWatchOptions(
  program
    .command("demo")
    .description(
      "watch a built-in simulated P and M pair tell the classic story: a stalled M handler, a P timeout, a crash",
    )
    .option(
      "--speed <n>",
      "how much faster than real time (a number, or max); default 2 on a terminal, max headless",
    )
    .option("--loop", "start over (a reboot) after the crash")
    .option("--headless", "no screen: print alerts as they fire")
    .option("--json", "with --headless: alerts as JSON lines"),
).action(async (opts: LiveOptions & { speed?: string; loop?: boolean }) => {
  const [{ createSource }, { parseSourceUri }] = await Promise.all([
    import("./sources/create.js"),
    import("./sources/uri.js"),
  ]);
  const screen = !opts.headless && process.stdout.isTTY && process.stdin.isTTY;
  const speed = opts.speed ?? (screen ? "2" : "max");
  const query = `?speed=${encodeURIComponent(speed)}${opts.loop ? "&loop=1" : ""}`;
  const sources = ["P", "M"].map((name) => ({ name, source: `sim:${name}${query}` }));
  const nodes: LiveNode[] = sources.map((n) => ({
    name: n.name,
    source: createSource(parseSourceUri(n.source)),
  }));
  // The simulated crashes are no history of anybody's cluster: the demo keeps none.
  await watch(nodes, sources, opts, undefined, { P: "P", M: "M" }, false);
});

program
  .command("replay")
  .description("play a recorded session as it was live: the screen, or headless output, with the same alerts")
  .argument("<file>", "a session recorded with --record")
  .option("--speed <n>", "how much faster than it was recorded (a number, or max)", "1")
  .option(
    "--from <seconds>",
    "start this many seconds into the session (what came before is replayed silently)",
  )
  .option("--headless", "no screen: print alerts as they fire")
  .option("--json", "with --headless: alerts as JSON lines")
  .addOption(
    new Option("--fail-on <severity>", "exit 1 if an alert this severe or worse fired").choices(SEVERITIES),
  )
  .option("--no-bell", "do not ring the bell on a new critical alert")
  .option("--store", "record the session's crashes and warnings in the crash store")
  .addOption(crashStoreOption())
  .addOption(vmlinuxOption())
  .action(async (file: string, opts: LiveOptions & { speed: string; from?: string; store?: boolean }) => {
    const knowledge = await crashKnowledge(opts, undefined, file, opts.store ?? false);
    const speed = opts.speed === "max" ? "max" : Number(opts.speed);
    if (speed !== "max" && !(speed > 0)) fail(`--speed ${opts.speed}: a positive number, or max`);
    const from = opts.from === undefined ? undefined : Number(opts.from);
    if (from !== undefined && !(from >= 0)) fail(`--from ${opts.from}: seconds from the start, 0 or more`);
    if (!opts.headless && process.stdout.isTTY && process.stdin.isTTY) {
      const { replayTui } = await loadScreen();
      process.exitCode = await replayTui(file, { speed, from, bell: opts.bell ?? true, knowledge });
      process.exit();
    }
    const abort = new AbortController();
    process.once("SIGINT", () => abort.abort());
    process.once("SIGTERM", () => abort.abort());
    const { replayHeadless } = await import("./headless/replay.js");
    process.exitCode = await replayHeadless(file, {
      speed,
      from,
      json: opts.json ?? false,
      failOn: opts.failOn,
      stdout: process.stdout,
      stderr: process.stderr,
      signal: abort.signal,
      knowledge,
    });
  });

program
  .command("export")
  .description("turn a recorded session into console logs, an asciinema cast, or the scan --json stream")
  .argument("<file>", "a session recorded with --record")
  .addOption(
    new Option("--to <format>", "what to write")
      .choices(["text", "asciicast", "jsonl"])
      .makeOptionMandatory(),
  )
  .option("--node <name>", "only this node")
  .action(async (file: string, opts: { to: "text" | "asciicast" | "jsonl"; node?: string }) => {
    const { exportSession } = await import("./record/export.js");
    await exportSession(file, {
      to: opts.to,
      node: opts.node,
      out: process.stdout,
      onWarning: warn,
    });
  });

program
  .command("compare")
  .description("compare profile points and counters of two groups of runs (Welch's t-test)")
  .requiredOption("--a <runs...>", "the first group: console logs or recorded sessions")
  .requiredOption("--b <runs...>", "the second group")
  .option("--json", "one JSON object per metric")
  .action(async (opts: { a: string[]; b: string[]; json?: boolean }) => {
    const { compareRuns, formatComparison, formatComparisonJson } = await import("./record/compare.js");
    const c = await compareRuns(opts.a, opts.b, {
      onWarning: warn,
    });
    process.stdout.write(opts.json ? formatComparisonJson(c) : formatComparison(c, process.stdout.columns));
  });

process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  // A reader that stopped early (`| head`) is not an error of ours.
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) process.exit(0);
    process.exit(EXIT_USAGE);
  }
  // What the user can fix (a path, a URI, a file's contents) is one line, not a stack trace.
  if (err instanceof Error && USER_ERRORS.has(err.name)) fail(err.message);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "EACCES" || code === "EISDIR") fail((err as Error).message);
  throw err;
}
