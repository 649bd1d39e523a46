/**
 * Benchmark: `legowatch scan --json` against `grep -cE <family pattern>` on synthetic consoles of
 * 1M and 4M lines. Reports time, throughput and the scanner's peak RSS, then checks the targets.
 *
 * Run by `npm run bench` (which builds first). It is a report: a missed target does not fail the run,
 * but a scan command that fails does. `LEGOWATCH_CLI` points it at another build of the CLI.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { familyPattern, generateLog } from "./gen.js";
import { generateLinuxLog, type LinuxGenStats, linuxReportPattern } from "./gen-linux.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = process.env.LEGOWATCH_CLI
  ? path.resolve(process.env.LEGOWATCH_CLI)
  : path.join(ROOT, "dist", "cli.js");
const RSS_WRAPPER = path.join(ROOT, "bench", "rss.mjs");
const SIZES = [1_000_000, 4_000_000];
const RUNS = 3;

// Targets: the scanner keeps up with a third of grep's speed, in bounded and size-independent memory.
const MIN_SPEED_RATIO = 1 / 3;
const MAX_RSS_MB = 200;
const MAX_RSS_GROWTH = 1.25;

interface Result {
  lines: number;
  bytes: number;
  familyLines: number;
  grepSeconds: number;
  grepCount: number;
  /** grep in the locale the bench runs in, when that is not C. */
  localGrepSeconds?: number;
  scanSeconds?: number;
  scanRssMB?: number;
}

/** Thrown when the scan command cannot run or fails: the bench then exits non-zero. */
class ScanFailed extends Error {}

function progress(msg: string, done: boolean): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${msg}${done ? "\n" : ""}`);
  else if (done) process.stderr.write(`${msg}\n`);
}

/** Streams a generated console to `file` in chunks, so memory stays flat whatever the size. */
function writeLog(file: string, lines: number, seed: number): { bytes: number; familyLines: number } {
  const stats = { family: 0 };
  const bytes = writeLines(file, lines, generateLog({ lines, seed, node: "mixed", stats }));
  return { bytes, familyLines: stats.family };
}

function writeLines(file: string, lines: number, source: Iterable<string>): number {
  const fd = openSync(file, "w");
  const started = performance.now();
  const label = `${lines / 1e6}M`;
  let chunk: string[] = [];
  let n = 0;
  try {
    for (const line of source) {
      chunk.push(line);
      if (++n % 8192 === 0) {
        writeSync(fd, `${chunk.join("\n")}\n`);
        chunk = [];
        if (n % 262144 === 0) progress(`generating ${label}: ${Math.round((n / lines) * 100)}%`, false);
      }
    }
    if (chunk.length > 0) writeSync(fd, `${chunk.join("\n")}\n`);
  } finally {
    closeSync(fd);
  }
  const bytes = statSync(file).size;
  const secs = (performance.now() - started) / 1000;
  progress(
    `generated ${label} lines in ${secs.toFixed(1)} s: ${(bytes / 1e6).toFixed(1)} MB, ${(bytes / lines).toFixed(1)} bytes/line`,
    true,
  );
  return bytes;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs a command to completion; stdout is discarded (to /dev/null) unless `keepStdout`. */
function run(cmd: string, args: string[], keepStdout: boolean, env?: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, {
      stdio: ["ignore", keepStdout ? "pipe" : "ignore", "pipe"],
      env: env ?? process.env,
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      // Only the tail matters (the RSS line, an error message); a chatty stderr must not grow without bound.
      stderr = (stderr + d).slice(-16384);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolve({ code, signal, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** Best of {@link RUNS} runs of the scan; peak RSS is the highest seen, to stay on the safe side. */
async function timeScan(file: string): Promise<{ seconds: number; rssMB: number }> {
  let best = Number.POSITIVE_INFINITY;
  let rssKiB = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = await run(process.execPath, [RSS_WRAPPER, CLI, "scan", "--json", file], false);
    if (r.code !== 0) {
      throw new ScanFailed(
        `scan failed (${r.signal ? `signal ${r.signal}` : `exit ${r.code}`}): node ${CLI} scan --json ${file}\n${r.stderr.trim()}`,
      );
    }
    const m = /maxrss_kib=(\d+)/.exec(r.stderr);
    if (!m) throw new ScanFailed(`scan printed no maxrss_kib line on stderr:\n${r.stderr.trim()}`);
    rssKiB = Math.max(rssKiB, Number(m[1]));
    best = Math.min(best, r.seconds);
    progress(
      `  scan run ${i + 1}/${RUNS}: ${r.seconds.toFixed(2)} s, ${(Number(m[1]) / 1024).toFixed(1)} MB`,
      true,
    );
  }
  return { seconds: best, rssMB: rssKiB / 1024 };
}

/**
 * The locale grep runs in when not told: a UTF-8 one on most machines, where this pattern (with `.`
 * and anchored classes) makes GNU grep an order of magnitude slower than in C. Null when that is C.
 */
function ambientLocale(): string | null {
  const l = process.env.LC_ALL || process.env.LC_CTYPE || process.env.LANG || "C";
  return l === "C" || l === "POSIX" ? null : l;
}

/**
 * Best of {@link RUNS} runs of grep. The target is against the C locale, grep's fast path (the logs are
 * ASCII); `locale` times it as a user's shell would run it too.
 */
async function timeGrep(
  file: string,
  locale = "C",
  pattern = familyPattern(),
): Promise<{ seconds: number; count: number }> {
  let best = Number.POSITIVE_INFINITY;
  let count = 0;
  const env = { ...process.env, LC_ALL: locale };
  for (let i = 0; i < RUNS; i++) {
    const r = await run("grep", ["-cE", pattern, file], true, env);
    // grep exits 1 when nothing matched; only 2 (or a signal) is an error.
    if (r.code !== 0 && r.code !== 1) throw new Error(`grep failed (exit ${r.code}): ${r.stderr.trim()}`);
    count = Number(r.stdout.trim());
    best = Math.min(best, r.seconds);
    progress(`  grep (LC_ALL=${locale}) run ${i + 1}/${RUNS}: ${r.seconds.toFixed(2)} s`, true);
  }
  return { seconds: best, count };
}

function perSecond(lines: number, seconds: number | undefined): string {
  return seconds === undefined ? "n/a" : String(Math.round(lines / seconds));
}

function table(results: Result[]): string {
  const label = (r: Result) => `${r.lines / 1e6}M`;
  const rows: [string, ...string[]][] = [
    ["", ...results.map(label)],
    ["lines", ...results.map((r) => String(r.lines))],
    ["scan seconds", ...results.map((r) => r.scanSeconds?.toFixed(3) ?? "n/a")],
    ["scan lines/s", ...results.map((r) => perSecond(r.lines, r.scanSeconds))],
    ["grep seconds", ...results.map((r) => r.grepSeconds.toFixed(3))],
    ["grep lines/s", ...results.map((r) => perSecond(r.lines, r.grepSeconds))],
    [
      "ratio scan/grep speed",
      ...results.map((r) =>
        r.scanSeconds === undefined ? "n/a" : (r.grepSeconds / r.scanSeconds).toFixed(3),
      ),
    ],
    ["scan peak RSS MB", ...results.map((r) => r.scanRssMB?.toFixed(1) ?? "n/a")],
  ];
  const local = ambientLocale();
  if (local !== null) {
    rows.push(
      [`grep seconds, LC_ALL=${local}`, ...results.map((r) => r.localGrepSeconds?.toFixed(3) ?? "n/a")],
      [
        `ratio scan/grep speed, ${local}`,
        ...results.map((r) =>
          r.scanSeconds === undefined || r.localGrepSeconds === undefined
            ? "n/a"
            : (r.localGrepSeconds / r.scanSeconds).toFixed(3),
        ),
      ],
    );
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!)))
        .join("   "),
    )
    .join("\n");
}

function targets(results: Result[]): string {
  const scanned = results.every((r) => r.scanSeconds !== undefined && r.scanRssMB !== undefined);
  const ratios = results.map((r) => r.grepSeconds / (r.scanSeconds ?? Number.NaN));
  const rss = results.map((r) => r.scanRssMB ?? Number.NaN);
  const growth = rss[rss.length - 1]! / rss[0]!;
  const checks: [ok: boolean, text: string, detail: string][] = [
    [
      ratios.every((x) => x >= MIN_SPEED_RATIO),
      "scan speed >= 1/3 of grep's (LC_ALL=C)",
      `ratios ${ratios.map((x) => x.toFixed(3)).join(", ")}`,
    ],
    [
      rss.every((x) => x < MAX_RSS_MB),
      `scan peak RSS < ${MAX_RSS_MB} MB`,
      `max ${Math.max(...rss).toFixed(1)} MB`,
    ],
    [
      growth <= MAX_RSS_GROWTH,
      "scan RSS flat from 1M to 4M lines",
      `4M/1M = ${growth.toFixed(3)}, limit ${MAX_RSS_GROWTH}`,
    ],
  ];
  return checks
    .map(([ok, text, detail]) =>
      scanned ? `  ${ok ? "PASS" : "FAIL"}  ${text} (${detail})` : `  n/a   ${text} (scan not run)`,
    )
    .join("\n");
}

/** Kernel reports in `scan --json` output, as counted from its event lines. */
async function reportsFound(file: string): Promise<number> {
  const r = await run(process.execPath, [CLI, "scan", "--json", file], true);
  if (r.code !== 0) throw new ScanFailed(`scan failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout.split("\n").filter((l) => /^\{"type":"(?:crash|warning)"/.test(l)).length;
}

/**
 * A Linux machine's console with reports sprinkled in: scan against grep of the report headers, and
 * how many of the reports scan found. Printed as its own table.
 */
async function linuxConsole(dir: string): Promise<string> {
  const lines = 1_000_000;
  const file = path.join(dir, "linux-1M.log");
  const stats: LinuxGenStats = { reports: 0 };
  const bytes = writeLines(file, lines, generateLinuxLog(lines, 7, stats));
  const grep = await timeGrep(file, "C", linuxReportPattern());
  const local = ambientLocale();
  const localGrep = local !== null ? await timeGrep(file, local, linuxReportPattern()) : null;
  const scan = await timeScan(file);
  const found = await reportsFound(file);
  rmSync(file, { force: true });
  const rows: [string, string][] = [
    ["lines", String(lines)],
    ["MB", (bytes / 1e6).toFixed(1)],
    ["reports written / grep count", `${stats.reports} / ${grep.count}`],
    ["reports scan found (crash + warning events)", String(found)],
    ["scan lines/s", perSecond(lines, scan.seconds)],
    ["grep lines/s (LC_ALL=C)", perSecond(lines, grep.seconds)],
    ["ratio scan/grep speed (LC_ALL=C)", (grep.seconds / scan.seconds).toFixed(3)],
  ];
  if (localGrep !== null) {
    rows.push(
      [`grep lines/s (LC_ALL=${local})`, perSecond(lines, localGrep.seconds)],
      [`ratio scan/grep speed (${local})`, (localGrep.seconds / scan.seconds).toFixed(3)],
    );
  }
  rows.push(["scan peak RSS MB", scan.rssMB.toFixed(1)]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return ["Linux console with reports", ...rows.map(([k, v]) => `${k.padEnd(w)}   ${v}`)].join("\n");
}

async function main(): Promise<number> {
  const cliMissing = !existsSync(CLI);
  if (cliMissing) {
    process.stderr.write(
      `error: ${CLI} does not exist; build it first (npm run bench builds it). Timing grep only.\n`,
    );
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "legowatch-bench-"));
  const cleanUp = () => rmSync(dir, { recursive: true, force: true });
  const onSignal = () => {
    cleanUp();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const results: Result[] = [];
  let failure: string | null = cliMissing ? `scan not run: ${CLI} is missing` : null;
  let linux = "";
  try {
    for (const [i, lines] of SIZES.entries()) {
      const file = path.join(dir, `mixed-${lines / 1e6}M.log`);
      const { bytes, familyLines } = writeLog(file, lines, 1 + i);
      const grep = await timeGrep(file);
      const result: Result = { lines, bytes, familyLines, grepSeconds: grep.seconds, grepCount: grep.count };
      const local = ambientLocale();
      if (local !== null) result.localGrepSeconds = (await timeGrep(file, local)).seconds;
      if (failure === null) {
        try {
          const scan = await timeScan(file);
          result.scanSeconds = scan.seconds;
          result.scanRssMB = scan.rssMB;
        } catch (e) {
          if (!(e instanceof ScanFailed)) throw e;
          failure = e.message;
          process.stderr.write(`error: ${e.message}\n`);
        }
      }
      results.push(result);
      rmSync(file, { force: true });
    }
    if (failure === null) {
      try {
        linux = await linuxConsole(dir);
      } catch (e) {
        if (!(e instanceof ScanFailed)) throw e;
        failure = e.message;
      }
    }
  } finally {
    cleanUp();
  }

  console.log(table(results));
  if (linux) console.log(`\n${linux}`);
  console.log("");
  console.log("targets");
  console.log(targets(results));
  for (const r of results) {
    // The pattern and the generator are kept in step; a mismatch means grep is timed on a different job.
    if (r.grepCount !== r.familyLines) {
      console.log(
        `note: at ${r.lines / 1e6}M grep matched ${r.grepCount} lines but the generator emitted ${r.familyLines} family lines`,
      );
    }
  }
  if (failure !== null) {
    console.log(`\nscan failed: ${failure.split("\n")[0]}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
