import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startMetrics } from "../../src/integrations/metrics.js";
import { Pipeline } from "../../src/pipeline.js";

/** The value of one sample line (`name{labels}`), or undefined when the scrape has none. */
function sample(text: string, series: string): number | undefined {
  for (const l of text.split("\n")) {
    if (l.startsWith(`${series} `)) return Number(l.slice(series.length + 1));
  }
  return undefined;
}

describe("--metrics endpoint", () => {
  it("serves the engine's state of a real pipeline as Prometheus text", async () => {
    const p = new Pipeline();
    const statuses = new Map([
      ["M", { state: "connected" }],
      ["P", { state: "retrying" }],
    ]);
    const m = await startMetrics({ host: "127.0.0.1", port: 0, engine: p.engine, statuses: () => statuses });
    try {
      assert.match(m.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      assert.notEqual(new URL(m.url).port, "0");

      p.push(
        "M",
        [
          "[  100.000000] hb: worker[2] max_nr_queued=5 nr_queued=5 in_handler=yes nr_thpool_reqs=500",
          "[  110.000000] hb: worker[2] max_nr_queued=5 nr_queued=5 in_handler=yes nr_thpool_reqs=500",
          "[  121.000000] watchdog: worker[2] CPU 5 stucked",
          "[  121.100000] watchdog:  common_header [op=0x20000000 src_nid:0]",
          "",
        ].join("\n"),
        1_000,
      );
      p.idle("M", 3_000);
      p.push("P", "[    5.000000] some line of P\n", 1_000);

      const res = await fetch(m.url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await res.text();

      assert.ok(text.includes('\nlegowatch_nr_queued{node="M",worker="2"} 5\n'), text);
      assert.equal(sample(text, 'legowatch_worker_in_handler{node="M",worker="2"}'), 1);
      assert.equal(sample(text, 'legowatch_alerts_firing{rule="worker-stuck",severity="critical"}'), 1);
      assert.equal(sample(text, 'legowatch_alerts_total{rule="worker-stuck",severity="critical"}'), 1);
      assert.equal(sample(text, 'legowatch_lines_total{node="M"}'), 4);
      assert.equal(sample(text, 'legowatch_lines_total{node="P"}'), 1);
      assert.equal(sample(text, 'legowatch_events_total{node="M",type="thpool"}'), 2);
      assert.equal(sample(text, 'legowatch_events_total{node="M",type="stuck_worker"}'), 1);
      assert.equal(sample(text, 'legowatch_source_up{node="M"}'), 1);
      assert.equal(sample(text, 'legowatch_source_up{node="P"}'), 0);
      assert.match(text, /^# TYPE legowatch_nr_queued gauge$/m);
      assert.match(text, /^# TYPE legowatch_lines_total counter$/m);
      assert.match(text, /^process_resident_memory_bytes \d+/m);
      assert.ok(!text.includes("legowatch_bytes_total"));

      // The next scrape sees the worker get going again: the alert resolves, its count stays.
      p.push(
        "M",
        "[  125.000000] hb: worker[2] max_nr_queued=5 nr_queued=0 in_handler=no nr_thpool_reqs=501\n",
        4_000,
      );
      statuses.set("M", { state: "retrying" });
      const again = await (await fetch(m.url)).text();
      assert.equal(sample(again, 'legowatch_nr_queued{node="M",worker="2"}'), 0);
      assert.equal(sample(again, 'legowatch_worker_in_handler{node="M",worker="2"}'), 0);
      assert.equal(sample(again, 'legowatch_alerts_firing{rule="worker-stuck",severity="critical"}'), 0);
      assert.equal(sample(again, 'legowatch_alerts_total{rule="worker-stuck",severity="critical"}'), 1);
      assert.equal(sample(again, 'legowatch_lines_total{node="M"}'), 5);
      assert.equal(sample(again, 'legowatch_source_up{node="M"}'), 0);

      const other = await fetch(new URL("/", m.url));
      assert.equal(other.status, 404);
      await other.text();
      const post = await fetch(m.url, { method: "POST" });
      assert.equal(post.status, 405);
      await post.text();
    } finally {
      await m.close();
    }
    await assert.rejects(fetch(m.url));
  });

  it("rejects an address it cannot bind, naming it", async () => {
    const p = new Pipeline();
    const first = await startMetrics({
      host: "127.0.0.1",
      port: 0,
      engine: p.engine,
      statuses: () => new Map(),
      processMetrics: false,
    });
    try {
      const port = Number(new URL(first.url).port);
      await assert.rejects(
        startMetrics({ host: "127.0.0.1", port, engine: p.engine, statuses: () => new Map() }),
        new RegExp(`^Error: --metrics 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`),
      );
      const text = await (await fetch(first.url)).text();
      assert.ok(!text.includes("process_"), "process metrics are optional");
    } finally {
      await first.close();
    }
  });
});
