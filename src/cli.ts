#!/usr/bin/env node
import { Command, CommanderError, Option } from "commander";
import { findConfig, loadConfig } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { SEVERITIES, type Severity } from "./engine/alerts.js";
import { runHeadless } from "./headless/live.js";
import { InputError, parseInput, scan } from "./headless/scan.js";
import { askHidden } from "./live/ask.js";
import type { LiveNode } from "./live/monitor.js";
import { createSource } from "./sources/create.js";
import { parseSourceUri, UriError } from "./sources/uri.js";
import { runTui } from "./ui/run.js";

const EXIT_USAGE = 2;

function fail(message: string): never {
  process.stderr.write(`legowatch: ${message}\n`);
  process.exit(EXIT_USAGE);
}

interface LiveOptions {
  config?: string;
  headless?: boolean;
  bell?: boolean;
  json?: boolean;
  failOn?: Severity;
  acceptNewHostKey?: boolean;
}

const program = new Command("legowatch")
  .description("Live monitor for the kernel consoles of a LegoOS cluster")
  .version("0.1.0")
  .exitOverride()
  .enablePositionalOptions()
  .configureOutput({ outputError: (s, write) => write(`legowatch: ${s.replace(/^error: /, "").trim()}\n`) });

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
  .option("--accept-new-host-key", "trust and remember the SSH host key of a host not in known_hosts")
  .option("--no-bell", "do not ring the bell on a new critical alert")
  .action(async (args: string[], opts: LiveOptions) => {
    const config = findConfig(opts.config);
    const nodes: LiveNode[] = [];
    const roles: Record<string, "P" | "M" | "S"> = { ...config?.roles };
    const ssh = {
      acceptNewHostKey: opts.acceptNewHostKey ?? false,
      passphrase: process.stdin.isTTY ? (prompt: string) => askHidden(prompt) : undefined,
    };
    for (const n of config?.nodes ?? []) {
      nodes.push({ name: n.name, source: createSource(parseSourceUri(n.source), ssh) });
      if (n.role) roles[n.name] = n.role;
    }
    for (const arg of args) {
      const m = /^([A-Za-z0-9_.:-]+)=(.+)$/.exec(arg);
      if (!m)
        fail(`${arg}: expected NAME=URI, e.g. M=ssh://console-host?cmd=tail -F /var/log/consoles/M.log`);
      nodes.push({ name: m[1]!, source: createSource(parseSourceUri(m[2]!), ssh) });
    }
    if (nodes.length === 0) fail("no nodes to watch: give NAME=URI arguments or a config file with nodes");
    await watch(nodes, opts, config?.alerts, roles);
  });

/** Runs the screen on a terminal, else headless; exits when done. */
async function watch(
  nodes: LiveNode[],
  opts: LiveOptions,
  thresholds: Config["alerts"],
  roles: Record<string, "P" | "M" | "S">,
): Promise<never> {
  if (!opts.headless && process.stdout.isTTY && process.stdin.isTTY) {
    process.exitCode = await runTui(nodes, { thresholds, roles, bell: opts.bell ?? true });
    process.exit();
  }
  const stopRequested = new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  process.exitCode = await runHeadless(nodes, {
    json: opts.json ?? false,
    failOn: opts.failOn,
    thresholds,
    roles,
    stdout: process.stdout,
    stderr: process.stderr,
    stopRequested,
  });
  // Sources are stopped; a stdin left open must not keep the process alive.
  process.exit();
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
  .option("--config <file>", "YAML config with alert thresholds and node roles")
  .action(
    async (files: string[], opts: { node?: string; json?: boolean; failOn?: Severity; config?: string }) => {
      const config = opts.config ? loadConfig(opts.config) : undefined;
      const code = await scan(
        files.map((f) => parseInput(f, opts.node)),
        {
          json: opts.json ?? false,
          failOn: opts.failOn,
          thresholds: config?.alerts,
          roles: config?.roles,
          stdout: process.stdout,
          stderr: process.stderr,
          stdin: process.stdin,
        },
      );
      process.exitCode = code;
    },
  );

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
  .option("--json", "with --headless: alerts as JSON lines")
  .option("--no-bell", "do not ring the bell on a new critical alert")
  .action(async (opts: LiveOptions & { speed?: string; loop?: boolean }) => {
    const screen = !opts.headless && process.stdout.isTTY && process.stdin.isTTY;
    const speed = opts.speed ?? (screen ? "2" : "max");
    const query = `?speed=${encodeURIComponent(speed)}${opts.loop ? "&loop=1" : ""}`;
    const nodes: LiveNode[] = ["P", "M"].map((name) => ({
      name,
      source: createSource(parseSourceUri(`sim:${name}${query}`)),
    }));
    await watch(nodes, opts, undefined, { P: "P", M: "M" });
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
  if (err instanceof InputError || err instanceof UriError) fail(err.message);
  if (err instanceof Error && err.name === "ConfigError") fail(err.message);
  throw err;
}
