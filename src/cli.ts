#!/usr/bin/env node
import { fileURLToPath } from "node:url";
import { Command, CommanderError, Option } from "commander";
import { loadConfig } from "./config/load.js";
import { SEVERITIES, type Severity } from "./engine/alerts.js";
import { InputError, parseInput, scan } from "./headless/scan.js";

const EXIT_USAGE = 2;

function fail(message: string): never {
  process.stderr.write(`legowatch: ${message}\n`);
  process.exit(EXIT_USAGE);
}

const program = new Command("legowatch")
  .description("Live monitor for the kernel consoles of a LegoOS cluster")
  .version("0.1.0")
  .exitOverride()
  .configureOutput({ outputError: (s, write) => write(`legowatch: ${s.replace(/^error: /, "").trim()}\n`) });

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
  .command("demo", { isDefault: false })
  .description("scan the built-in demo: a P and an M console telling the classic stalled-handler story")
  .action(async () => {
    const dir = fileURLToPath(new URL("../demo/", import.meta.url));
    process.exitCode = await scan(
      [
        { node: "P", path: `${dir}P.log` },
        { node: "M", path: `${dir}M.log` },
      ],
      { json: false, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
    );
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
  if (err instanceof InputError) fail(err.message);
  if (err instanceof Error && err.name === "ConfigError") fail(err.message);
  throw err;
}
