import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import { InputError } from "../../src/headless/scan.js";
import {
  type Comparison,
  compareMetric,
  compareRuns,
  formatComparison,
  formatComparisonJson,
  incompleteBeta,
  type MetricComparison,
  tCdf,
  tTwoSided,
} from "../../src/record/compare.js";
import { SessionWriter } from "../../src/record/writer.js";

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/seed/${name}.log`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "legowatch-compare-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** With fit_nowait: the tables at 225.2 s, 374.8 s and 674.4 s. */
const WITH = ["b12", "b11", "b07"].map(fixture);
/** Without: the tables at 321.5 s, 428.5 s and 901.2 s. */
const WITHOUT = ["b10", "b08", "b09"].map(fixture);

function metric(c: Comparison, name: string): MetricComparison {
  const m = c.metrics.find((x) => x.metric === name);
  assert.ok(m, `no metric ${name}`);
  return m;
}

const near = (actual: number | null, expected: number, tol: number, what = "") =>
  assert.ok(
    actual !== null && Math.abs(actual - expected) <= tol,
    `${what} ${actual} is not ${expected} ± ${tol}`,
  );

/**
 * The two-sided tail of Student's t by plain numeric integration, independent of the incomplete beta:
 * with x = sqrt(df) tan θ the density is proportional to cos^(df-1) θ on [0, π/2], so
 * P(|T| >= t) = ∫[atan(t/sqrt(df)), π/2] cos^(df-1) / ∫[0, π/2] cos^(df-1) (Simpson's rule; df >= 1).
 */
function tailBySimpson(t: number, df: number, steps = 20000): number {
  const f = (th: number) => Math.max(0, Math.cos(th)) ** (df - 1);
  const simpson = (lo: number, hi: number) => {
    const h = (hi - lo) / steps;
    let s = f(lo) + f(hi);
    for (let i = 1; i < steps; i++) s += (i % 2 ? 4 : 2) * f(lo + i * h);
    return (s * h) / 3;
  };
  return simpson(Math.atan(Math.abs(t) / Math.sqrt(df)), Math.PI / 2) / simpson(0, Math.PI / 2);
}

/** Welch's t and df, worked out the long way for the hand checks. */
function byHand(a: number[], b: number[]) {
  const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const variance = (x: number[]) => x.reduce((s, v) => s + (v - mean(x)) ** 2, 0) / (x.length - 1);
  const qa = variance(a) / a.length;
  const qb = variance(b) / b.length;
  const t = (mean(a) - mean(b)) / Math.sqrt(qa + qb);
  const df = (qa + qb) ** 2 / (qa ** 2 / (a.length - 1) + qb ** 2 / (b.length - 1));
  return { t, df };
}

describe("Student's t distribution", () => {
  it("matches known values", () => {
    // df = 1 is the Cauchy distribution: P(|T| >= 1) = 1/2.
    near(tTwoSided(1, 1), 0.5, 1e-12);
    near(tTwoSided(-1, 1), 0.5, 1e-12);
    // Critical values from the t table (two-sided 5 %, 1 %, 2 %).
    near(tTwoSided(2.228, 10), 0.05, 2e-4);
    near(tTwoSided(12.706, 1), 0.05, 1e-4);
    near(tTwoSided(4.303, 2), 0.05, 1e-4);
    near(tTwoSided(6.965, 2), 0.02, 1e-4);
    near(tTwoSided(3.169, 10), 0.01, 1e-4);
    // df = 2 has a closed form: P(|T| >= t) = 1 - t / sqrt(2 + t^2).
    near(tTwoSided(3, 2), 1 - 3 / Math.sqrt(11), 1e-12);
    // Large df tends to the normal: P(|Z| >= 1.96) = 0.0500.
    near(tTwoSided(1.96, 1e6), 0.04999579, 1e-6);
    assert.equal(tTwoSided(0, 5), 1);
    near(tCdf(2.228, 10), 0.975, 1e-4);
    near(tCdf(-2.228, 10), 0.025, 1e-4);
  });

  it("agrees with numeric integration at fractional df", () => {
    for (const [t, df] of [
      [5.64, 2.014],
      [1.3, 3.7],
      [0.2, 1.5],
      [2.5, 17.25],
    ] as const) {
      near(tTwoSided(t, df), tailBySimpson(t, df), 1e-7, `t=${t} df=${df}`);
    }
  });

  it("has the incomplete beta's edges and symmetry", () => {
    assert.equal(incompleteBeta(0, 2, 3), 0);
    assert.equal(incompleteBeta(1, 2, 3), 1);
    // I_x(1, 1) = x; I_x(a, b) = 1 - I_(1-x)(b, a).
    near(incompleteBeta(0.3, 1, 1), 0.3, 1e-12);
    near(incompleteBeta(0.3, 2.5, 4) + incompleteBeta(0.7, 4, 2.5), 1, 1e-12);
  });
});

describe("compare, the issue's acceptance (April, fit_nowait)", async () => {
  const warnings: string[] = [];
  const c = await compareRuns(WITH, WITHOUT, { onWarning: (m) => warnings.push(m) });

  it("takes one sample per table per point", () => {
    const miss = metric(c, "pcache_miss");
    assert.deepEqual(miss.a.values, [8370, 8411, 8223]);
    assert.deepEqual(miss.b.values, [8653, 8655, 8664]);
    const flush = metric(c, "pcache_flush");
    assert.deepEqual(flush.a.values, [13212, 13379, 12748]);
    assert.deepEqual(flush.b.values, [14207, 14107, 14107]);
    assert.deepEqual(c.tables, { a: 4, b: 4 }); // three tables and one counter dump each
    assert.deepEqual(warnings, []);
  });

  it("pcache_miss: 8335 vs 8657, -3.7 %, significant", () => {
    const m = metric(c, "pcache_miss");
    assert.equal(m.a.n, 3);
    assert.equal(m.b.n, 3);
    assert.equal(Math.round(m.a.mean!), 8335);
    assert.equal(Math.round(m.b.mean!), 8657);
    // By hand: a deviations 35.33, 76.33, -111.67 → Σ² 19544.67 / 2 = 9772.33; b Σ² 68.67 / 2 = 34.33.
    near(m.a.sd, Math.sqrt(19544.6667 / 2), 1e-3, "sd a");
    near(m.b.sd, Math.sqrt(68.6667 / 2), 1e-3, "sd b");
    near(m.a.sd, 98.855, 1e-3);
    near(m.b.sd, 5.859, 1e-3);
    assert.equal(m.diffPct!.toFixed(1), "-3.7");
    near(m.diffPct, ((8334.6667 - 8657.3333) / 8657.3333) * 100, 1e-4);
    const h = byHand(m.a.values, m.b.values);
    near(m.t, h.t, 1e-9, "t");
    near(m.df, h.df, 1e-9, "df");
    near(m.t, -5.6436, 1e-4);
    near(m.df, 2.0141, 1e-4);
    // |t| lies between the df = 2 table values for 5 % (4.303) and 2 % (6.965): 0.02 < p < 0.05.
    assert.ok(m.p! > 0.02 && m.p! < 0.05, `p ${m.p}`);
    near(m.p, tailBySimpson(h.t, h.df), 1e-7, "p by integration");
    // SciPy's ttest_ind(equal_var=False) gives 0.029521942095754893 for these samples.
    near(m.p, 0.0295219421, 1e-9);
    assert.equal(m.significant, true);
  });

  it("pcache_flush: 13113 vs 14140, -7.3 %, significant", () => {
    const m = metric(c, "pcache_flush");
    assert.equal(Math.round(m.a.mean!), 13113);
    assert.equal(Math.round(m.b.mean!), 14140);
    // By hand: a deviations 99, 266, -365 → Σ² 213782 / 2; b 66.67, -33.33, -33.33 → Σ² 6666.67 / 2.
    near(m.a.sd, Math.sqrt(213782 / 2), 1e-6, "sd a");
    near(m.b.sd, Math.sqrt(6666.6667 / 2), 1e-3, "sd b");
    assert.equal(m.diffPct!.toFixed(1), "-7.3");
    const h = byHand(m.a.values, m.b.values);
    near(m.t, h.t, 1e-9, "t");
    near(m.df, h.df, 1e-9, "df");
    near(m.df, 2.1246, 1e-4);
    // t = -5.36 with df 2.12: beyond the 5 % value for df 2 (4.303), so p < 0.05.
    assert.ok(m.p! < 0.05, `p ${m.p}`);
    near(m.p, tailBySimpson(h.t, h.df), 1e-7, "p by integration");
    near(m.p, 0.0289927251, 1e-9); // SciPy
    assert.equal(m.significant, true);
  });

  it("flush_tlb_others does not differ", () => {
    const m = metric(c, "flush_tlb_others");
    assert.ok(m.p! > 0.5, `p ${m.p}`);
    assert.equal(m.significant, false);
  });

  it("a counter dumped once per group has no test", () => {
    const m = metric(c, "pcache.nr_pgfault");
    assert.equal(m.kind, "counter");
    assert.deepEqual([m.a.values, m.b.values], [[786513], [786515]]);
    assert.equal(m.a.sd, null);
    assert.equal(m.p, null);
    assert.equal(m.noTest, "n<2");
    assert.equal(m.significant, false);
    // All zero: no difference in percent.
    assert.equal(metric(c, "pcache.nr_pgfault_wp").diffPct, null);
  });

  it("lists profile points first, then counters", () => {
    const names = c.metrics.map((m) => m.metric);
    assert.deepEqual(names.slice(0, 4), [
      "flush_tlb_others",
      "__do_kmalloc_node",
      "pcache_miss",
      "pcache_flush",
    ]);
    assert.deepEqual(
      names.slice(4).filter((n) => !n.startsWith("pcache.")),
      [],
    );
  });

  it("prints an aligned table", () => {
    const text = formatComparison(c);
    const lines = text.trimEnd().split("\n");
    const miss = lines.find((l) => l.startsWith("pcache_miss "))!;
    assert.match(miss, /8335 ± 98\.9 \(3\)\s+8657 ± 5\.86 \(3\)\s+-3\.7%\s+0\.030\s+\*$/);
    assert.match(
      lines.find((l) => l.startsWith("pcache_flush "))!,
      /13113 ± 327 \(3\)\s+14140 ± 57\.7 \(3\)\s+-7\.3%.*\*$/,
    );
    assert.match(lines.find((l) => l.startsWith("flush_tlb_others "))!, /0\.794$/);
    assert.match(lines.find((l) => l.startsWith("pcache.nr_pgfault "))!, /n<2$/);
    // The p column ends at the same place on every row.
    const header = lines[1]!;
    const pEnd = header.indexOf(" p") + 2;
    for (const l of lines.slice(2, 6)) assert.equal(l.slice(0, pEnd).trimEnd().length, pEnd, l);
    assert.match(text, /a vs b: \(mean a - mean b\) \/ mean b/);
  });

  it("fits a width by cutting metric names", () => {
    const lines = formatComparison(c, 64).trimEnd().split("\n").slice(1, -2);
    assert.deepEqual(
      lines.filter((l) => [...l].length > 64),
      [],
    );
    assert.match(lines.find((l) => l.includes("8335"))!, /^pcache_\S*… /);
    // Never narrower than 8.
    assert.match(formatComparison(c, 20).split("\n")[3]!, /^__do_km… /);
  });

  it("writes one JSON object per metric", () => {
    const rows = formatComparisonJson(c)
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(rows.length, c.metrics.length);
    const miss = rows.find((r) => r.metric === "pcache_miss");
    assert.equal(miss.type, "compare");
    assert.equal(miss.kind, "profile");
    assert.deepEqual(miss.a.values, [8370, 8411, 8223]);
    assert.equal(miss.significant, true);
    assert.equal(typeof miss.p, "number");
    const pgfault = rows.find((r) => r.metric === "pcache.nr_pgfault");
    assert.equal(pgfault.p, null);
    assert.equal(pgfault.noTest, "n<2");
  });
});

describe("compare, inputs", () => {
  it("reads a legowatch session file, per node", async () => {
    // Two nodes interleaved, line by line: P prints b12's table while M prints unrelated lines.
    const p = readFileSync(fixture("b12"), "utf8").trimEnd().split("\n");
    const m = readFileSync(fixture("b14"), "utf8").trimEnd().split("\n");
    const record = async (path: string) => {
      const w = new SessionWriter(path, {
        nodes: [
          { name: "P", source: "serial:/dev/ttyS0" },
          { name: "M", source: "serial:/dev/ttyS1" },
        ],
        started: 1000,
      });
      for (let i = 0; i < Math.max(p.length, m.length); i++) {
        if (i < p.length) w.chunk(1000 + i, "P", `${p[i]}\n`);
        if (i < m.length) w.chunk(1000 + i, "M", `${m[i]}\n`);
      }
      w.reconnect(2000, "P");
      await w.close();
    };
    const session = join(dir, "with.session");
    await record(session);
    const sessionGz = join(dir, "with2.session.gz");
    await record(sessionGz);
    // The second one was cut off mid-record.
    const records = gunzipSync(readFileSync(sessionGz)).toString().trimEnd().split("\n").length;
    writeFileSync(sessionGz, gzipSync(`${gunzipSync(readFileSync(sessionGz))}{"t":3,"n":"P","b":"cut of`));
    const warnings: string[] = [];
    const c = await compareRuns([session, sessionGz], WITHOUT, { onWarning: (w) => warnings.push(w) });
    const miss = metric(c, "pcache_miss");
    assert.deepEqual(miss.a.values, [8370, 8370]);
    // No spread within a, but b has some: Welch's test still stands, with df = n b - 1.
    assert.equal(miss.a.sd, 0);
    near(miss.df, 2, 1e-12);
    assert.ok(miss.p !== null && miss.p < 0.001, `p ${miss.p}`);
    assert.deepEqual(warnings, [
      `${sessionGz}:${records + 1}: skipped a torn last record (the recording was cut off)`,
    ]);
  });

  it("reads a gzip console log", async () => {
    const gz = join(dir, "b11.log.gz");
    writeFileSync(gz, gzipSync(readFileSync(fixture("b11"))));
    const c = await compareRuns([gz, fixture("b12")], [fixture("b10"), fixture("b08")]);
    assert.deepEqual(metric(c, "pcache_miss").a.values, [8411, 8370]);
  });

  it("keeps a metric present in one group only, without a test", async () => {
    // b07 dumps its pcache counters; b09 and b10 have only profile tables.
    const c = await compareRuns([fixture("b07"), fixture("b12")], [fixture("b09"), fixture("b10")]);
    const m = metric(c, "pcache.nr_clflush");
    assert.deepEqual(m.a, { n: 1, mean: 262225, sd: null, values: [262225] });
    assert.deepEqual(m.b, { n: 0, mean: null, sd: null, values: [] });
    assert.equal(m.diffPct, null);
    assert.equal(m.p, null);
    assert.equal(m.t, null);
    assert.equal(m.significant, false);
    const line = formatComparison(c)
      .split("\n")
      .find((l) => l.startsWith("pcache.nr_clflush "))!;
    assert.match(line, /262225 ± — \(1\)\s+— \(0\)\s+—\s+n<2$/);
  });

  it("skips a point never hit (avg.ns 0) and warns about a run without tables", async () => {
    const warnings: string[] = [];
    // b06's pcache_flush has nr 0; b13 holds only excerpts of rows, no table.
    const c = await compareRuns([fixture("b06"), fixture("b13")], [fixture("b15"), fixture("b16")], {
      onWarning: (w) => warnings.push(w),
    });
    assert.equal(metric(c, "pcache_flush").a.n, 0);
    assert.deepEqual(metric(c, "flush_tlb_others").b.values, []);
    assert.deepEqual(warnings, [`${fixture("b13")}: no profile table or counter dump`]);
  });

  it("makes no test when neither group varies", () => {
    const m = compareMetric("x", "counter", [5, 5], [7, 7, 7]);
    assert.equal(m.noTest, "no-variance");
    assert.equal(m.p, null);
    near(m.diffPct, (-2 / 7) * 100, 1e-12);
  });

  it("rejects with the file's name when a run cannot be read", async () => {
    const missing = join(dir, "nope.log");
    await assert.rejects(compareRuns([missing], WITHOUT), (err: unknown) => {
      assert.ok(err instanceof InputError, String(err));
      assert.equal(err.message, `${missing}: no such file`);
      return true;
    });
  });
});
