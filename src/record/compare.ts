import { basename } from "node:path";
import { InputError } from "../headless/scan.js";
import type { ParsedEvent } from "../parse/events.js";
import { Pipeline } from "../pipeline.js";
import { replaySession } from "./replay.js";
import { openDecompressed, SESSION_FORMAT } from "./session.js";

/**
 * `legowatch compare`: are two groups of runs different? Every profile-point table and counter dump
 * of a run is one sample of each of its metrics; the two groups are compared metric by metric with
 * Welch's t-test (unequal variances, two-sided).
 *
 * The difference is group a relative to group b: `(mean a - mean b) / mean b * 100`, so a negative
 * figure means a is lower (faster, for a profile point's avg.ns) than b. The t statistic has the
 * same sign.
 */

/** What kind of metric: a profile point's avg.ns, or a value of a counter dump. */
export type MetricKind = "profile" | "counter";

/** One group's samples of one metric. */
export interface GroupStats {
  n: number;
  /** Null when the group has no sample. */
  mean: number | null;
  /** Sample standard deviation (n - 1); null when n < 2. */
  sd: number | null;
  /** The samples, in run order then table order. */
  values: number[];
}

/** One metric compared. */
export interface MetricComparison {
  /** A profile point's name (`pcache_miss`), or a counter as `set.name` (`pcache.nr_pgfault`). */
  metric: string;
  kind: MetricKind;
  a: GroupStats;
  b: GroupStats;
  /** `(mean a - mean b) / mean b * 100`; null when a group has no sample or mean b is 0. */
  diffPct: number | null;
  /** Welch's t, `(mean a - mean b) / sqrt(var a / n a + var b / n b)`; null when there is no test. */
  t: number | null;
  /** Welch-Satterthwaite degrees of freedom; null when there is no test. */
  df: number | null;
  /** Two-sided p-value from Student's t distribution; null when there is no test. */
  p: number | null;
  significant: boolean;
  /** Why there is no test: a group with fewer than 2 samples, or no variance in either group. */
  noTest?: "n<2" | "no-variance";
}

/** The result of {@link compareRuns}. */
export interface Comparison {
  /** The runs of each group, as given. */
  runs: { a: string[]; b: string[] };
  /** How many tables and dumps each group gave. */
  tables: { a: number; b: number };
  /** Profile points first, then counters, each in order of first appearance (a, then b). */
  metrics: MetricComparison[];
}

/** Options of {@link compareRuns}. */
export interface CompareOptions {
  /** Told about what was skipped or looks wrong: a run without tables, a bad session record. */
  onWarning?: (message: string) => void;
}

/** The significance level. */
export const ALPHA = 0.05;

/** How far to look for the end of a session file's first line. */
const HEADER_MAX = 64 * 1024;

/** Samples of one group: metric → values, with each metric's kind. */
interface GroupSamples {
  samples: Map<string, number[]>;
  kinds: Map<string, MetricKind>;
  tables: number;
}

/**
 * Reads every run of both groups and compares them metric by metric. Each run is a console log
 * (plain or gzip) or a legowatch session file (plain or gzip). Rejects with an {@link InputError}
 * naming the file when a run cannot be read.
 */
export async function compareRuns(a: string[], b: string[], opts: CompareOptions = {}): Promise<Comparison> {
  const warn = opts.onWarning ?? (() => {});
  const ga = await readGroup(a, warn);
  const gb = await readGroup(b, warn);
  const names: string[] = [];
  const kinds = new Map<string, MetricKind>();
  for (const g of [ga, gb]) {
    for (const [name, kind] of g.kinds) {
      if (kinds.has(name)) continue;
      kinds.set(name, kind);
      names.push(name);
    }
  }
  const order = (k: MetricKind) => (k === "profile" ? 0 : 1);
  // Array.prototype.sort is stable: first appearance within each kind.
  names.sort((x, y) => order(kinds.get(x)!) - order(kinds.get(y)!));
  const metrics = names.map((name) =>
    compareMetric(name, kinds.get(name)!, ga.samples.get(name) ?? [], gb.samples.get(name) ?? []),
  );
  return { runs: { a: [...a], b: [...b] }, tables: { a: ga.tables, b: gb.tables }, metrics };
}

/** Compares one metric's two sample sets. */
export function compareMetric(metric: string, kind: MetricKind, a: number[], b: number[]): MetricComparison {
  const sa = stats(a);
  const sb = stats(b);
  const diffPct =
    sa.mean !== null && sb.mean !== null && sb.mean !== 0 ? ((sa.mean - sb.mean) / sb.mean) * 100 : null;
  const out: MetricComparison = {
    metric,
    kind,
    a: sa,
    b: sb,
    diffPct,
    t: null,
    df: null,
    p: null,
    significant: false,
  };
  const w = welch(a, b);
  if ("noTest" in w) {
    out.noTest = w.noTest;
    return out;
  }
  out.t = w.t;
  out.df = w.df;
  out.p = w.p;
  out.significant = w.p < ALPHA;
  return out;
}

/** n, mean and sample standard deviation. */
export function stats(values: number[]): GroupStats {
  const n = values.length;
  if (n === 0) return { n, mean: null, sd: null, values: [...values] };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const sd = n < 2 ? null : Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd, values: [...values] };
}

/** Welch's unequal-variance t-test of a against b, two-sided. */
export function welch(
  a: number[],
  b: number[],
): { t: number; df: number; p: number } | { noTest: "n<2" | "no-variance" } {
  if (a.length < 2 || b.length < 2) return { noTest: "n<2" };
  const sa = stats(a);
  const sb = stats(b);
  const va = sa.sd! ** 2 / a.length;
  const vb = sb.sd! ** 2 / b.length;
  const se2 = va + vb;
  if (!(se2 > 0)) return { noTest: "no-variance" };
  const t = (sa.mean! - sb.mean!) / Math.sqrt(se2);
  const df = se2 ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return { t, df, p: tTwoSided(t, df) };
}

/** Two-sided p-value of Student's t distribution: P(|T| >= |t|) with `df` degrees of freedom. */
export function tTwoSided(t: number, df: number): number {
  if (!(df > 0) || Number.isNaN(t)) return Number.NaN;
  if (!Number.isFinite(t)) return 0;
  return Math.min(1, Math.max(0, incompleteBeta(df / (df + t * t), df / 2, 0.5)));
}

/** The cumulative distribution function of Student's t distribution. */
export function tCdf(t: number, df: number): number {
  const tail = tTwoSided(t, df) / 2;
  return t < 0 ? tail : 1 - tail;
}

/** The regularized incomplete beta function I_x(a, b) (Numerical Recipes 6.4). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a;
  return 1 - (front * betaFraction(1 - x, b, a)) / b;
}

/** The continued fraction of the incomplete beta function, by the modified Lentz method. */
function betaFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  const EPS = 1e-15;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) s += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

// ---------------------------------------------------------------------------------------------------
// Reading runs

async function readGroup(runs: readonly string[], warn: (m: string) => void): Promise<GroupSamples> {
  const g: GroupSamples = { samples: new Map(), kinds: new Map(), tables: 0 };
  for (const path of runs) {
    let tables = 0;
    const take = (e: ParsedEvent): void => {
      if (e.type === "profile") {
        tables++;
        if (e.truncated) warn(`${path}:${e.line}: profile table cut off; its rows are used`);
        const seen = new Set<string>();
        for (const r of e.rows) {
          // A point never hit prints avg.ns 0, which is no measurement; one sample per table per point.
          if (r.count === 0n || seen.has(r.name)) continue;
          seen.add(r.name);
          add(g, r.name, "profile", Number(r.avgNs));
        }
      } else if (e.type === "counters") {
        if (e.set === "freeram" || e.set === "cache") return;
        tables++;
        for (const [name, v] of Object.entries(e.values)) add(g, `${e.set}.${name}`, "counter", Number(v));
      }
    };
    try {
      await readRun(path, take, warn);
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(`${path}: ${describe(err)}`);
    }
    if (tables === 0) warn(`${path}: no profile table or counter dump`);
    g.tables += tables;
  }
  return g;
}

function add(g: GroupSamples, name: string, kind: MetricKind, v: number): void {
  let s = g.samples.get(name);
  if (!s) {
    s = [];
    g.samples.set(name, s);
    g.kinds.set(name, kind);
  }
  s.push(v);
}

/** Feeds one run through its own pipeline: a session replayed at full speed, or a console log as one node. */
async function readRun(
  path: string,
  onEvent: (e: ParsedEvent) => void,
  warn: (m: string) => void,
): Promise<void> {
  const { stream } = await openDecompressed(path);
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // Look at the first line: a session file says so there.
  let head = Buffer.alloc(0);
  let done = false;
  while (!done && head.indexOf(0x0a) < 0 && head.length < HEADER_MAX) {
    const r = await chunks.next();
    if (r.done) done = true;
    else head = Buffer.concat([head, r.value]);
  }
  const nl = head.indexOf(0x0a);
  if (isSessionHeader(head.subarray(0, nl < 0 ? head.length : nl).toString("utf8"))) {
    stream.destroy();
    await replaySession(path, { speed: "max", onEvent, onWarning: warn });
    return;
  }
  const pipeline = new Pipeline({ onEvent });
  const node = nodeName(path);
  if (head.length > 0) pipeline.push(node, head);
  if (!done) for (let r = await chunks.next(); !r.done; r = await chunks.next()) pipeline.push(node, r.value);
  pipeline.end();
}

function isSessionHeader(line: string): boolean {
  if (!line.trimStart().startsWith("{")) return false;
  try {
    const h = JSON.parse(line) as unknown;
    return typeof h === "object" && h !== null && (h as { format?: unknown }).format === SESSION_FORMAT;
  } catch {
    return false;
  }
}

function nodeName(path: string): string {
  return (
    basename(path)
      .replace(/\.gz$/, "")
      .replace(/\.log$/, "") || "run"
  );
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === "ENOENT") return "no such file";
  if (e?.code === "EISDIR") return "is a directory";
  if (e?.code === "EACCES") return "permission denied";
  return e instanceof Error ? e.message : String(err);
}

// ---------------------------------------------------------------------------------------------------
// Output

/**
 * The comparison as an aligned text table: metric, mean ± sd (n) of each group, a relative to b in
 * percent, the p-value and `*` when p < 0.05. With `width`, metric names are cut to fit.
 */
export function formatComparison(c: Comparison, width?: number): string {
  const header = ["metric", "a: mean ± sd (n)", "b: mean ± sd (n)", "a vs b", "p", ""];
  const rows = c.metrics.map((m) => [
    m.metric,
    group(m.a),
    group(m.b),
    m.diffPct === null ? "—" : pct(m.diffPct),
    m.p === null ? (m.noTest ?? "—") : m.p < 0.001 ? "<0.001" : m.p.toFixed(3),
    m.significant ? "*" : "",
  ]);
  const all = [header, ...rows];
  const w = header.map((_, i) => Math.max(...all.map((r) => len(r[i]!))));
  if (width !== undefined) {
    // Columns are joined by two spaces; the last one (`*`) is one character.
    const others = w.slice(1).reduce((s, x) => s + x, 0) + 2 * (w.length - 1);
    w[0] = Math.max(8, Math.min(w[0]!, width - others));
  }
  const right = [false, true, true, true, true, false];
  const out: string[] = [];
  out.push(
    `a: ${plural(c.runs.a.length, "run")}, ${plural(c.tables.a, "table")}; ` +
      `b: ${plural(c.runs.b.length, "run")}, ${plural(c.tables.b, "table")} (profile tables and counter dumps)`,
  );
  for (const r of all) {
    const cells = r.map((cell, i) => {
      const text = i === 0 ? cut(cell, w[0]!) : cell;
      const pad = " ".repeat(Math.max(0, w[i]! - len(text)));
      return right[i] ? pad + text : text + pad;
    });
    out.push(cells.join("  ").trimEnd());
  }
  out.push("a vs b: (mean a - mean b) / mean b.  p: Welch's t-test, two-sided; * p < 0.05.");
  out.push("Profile points: avg.ns, one sample per table; counters: one sample per dump.");
  return `${out.join("\n")}\n`;
}

/**
 * The comparison for `--json`: one JSON object per line, one per metric, with `type: "compare"`,
 * `metric`, `kind`, `a` and `b` (`{n, mean, sd, values}`), `diffPct` (a relative to b), `t`, `df`,
 * `p`, `significant` and, when there is no test, `noTest` (`n<2` or `no-variance`). Absent figures
 * are null.
 */
export function formatComparisonJson(c: Comparison): string {
  return c.metrics.map((m) => `${JSON.stringify({ type: "compare", ...m })}\n`).join("");
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

/** Signed, one decimal; a figure that rounds to zero has no sign. */
function pct(x: number): string {
  const s = x.toFixed(1);
  if (Number(s) === 0) return "0.0%";
  return `${x > 0 ? "+" : ""}${s}%`;
}

function group(s: GroupStats): string {
  if (s.mean === null) return "— (0)";
  return `${num(s.mean)} ± ${s.sd === null ? "—" : num(s.sd)} (${s.n})`;
}

/** Integers from 100 up, three significant digits below. */
function num(x: number): string {
  if (Math.abs(x) >= 100) return Math.round(x).toString();
  if (x === 0) return "0";
  return Number(x.toPrecision(3)).toString();
}

function len(s: string): number {
  return [...s].length;
}

function cut(s: string, w: number): string {
  const chars = [...s];
  return chars.length <= w ? s : `${chars.slice(0, w - 1).join("")}…`;
}
