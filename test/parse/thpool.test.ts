import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { CountersEvent, ThpoolEvent } from "../../src/parse/events.js";
import { freeramFamily, thpoolBlockFamily, thpoolFamily } from "../../src/parse/thpool.js";
import { parseBlocks, parseLines } from "../helpers.js";

const SEED = new URL("../fixtures/seed/", import.meta.url);
const seed = (name: string) => readFileSync(new URL(name, SEED), "utf8");
const seedNames = () => readdirSync(SEED).filter((n) => n.endsWith(".log"));

const one = (text: string): ThpoolEvent => {
  const es = parseLines(thpoolFamily, text);
  assert.equal(es.length, 1);
  return es[0] as ThpoolEvent;
};
const blocks = (text: string) => parseBlocks(thpoolBlockFamily, text) as ThpoolEvent[];

const V2 = [
  "[ 1234.000000] Watchdog:",
  "    worker[1]",
  "        max_nr_queued=4 current_nr_queued=2 in_handler=YES",
  "        nr_handled=81234 total_queuing_ns: 40617000 avg_queuing_ns:500 nr_thpool_reqs=162470",
].join("\n");

const V3_HEAD = [
  "[ 1234.000000] Watchdog:",
  "    worker[0]",
  "        max_nr_queued=1 current_nr_queued=0 in_handler=NO",
  "        nr_handled=1000004 nr_thpool_reqs=1000004",
  "        total_queuing_ns: 196481292 avg_queuing_ns:196 max_queuing_ns: 787 min_queuing_ns: 124",
];
const pad = (n: number) => String(n).padStart(3);
const hist = (rows: number) =>
  Array.from(
    { length: rows },
    (_, j) =>
      `[ 1234.${String(j + 1).padStart(6, "0")}]         [${pad(j * 5)}, ${pad(j * 5 + 5)})    ${j === 0 ? "97.12345" : "0.0"}%`,
  );

describe("thpool one-line samples (F3 V0, V1a-c)", () => {
  it("V0: the seed's b03 line is worker 0 with 5 queued and one in the handler", () => {
    const e = one(seed("b03.log"));
    assert.equal(e.type, "thpool");
    assert.equal(e.gen, "v0");
    assert.equal(e.worker, 0);
    assert.equal(e.queued, 5);
    assert.equal(e.inHandler, true);
  });

  it("V0: `%s nr_queued: %d %d` with a stamp and an idle handler", () => {
    const e = one("[ 1234.000000] thpool-worker3 nr_queued: 0 0");
    assert.deepEqual([e.worker, e.queued, e.inHandler, e.ts], [3, 0, false, 1234]);
  });

  it("V1a: `hb: worker[%d] max_nr_queued=%d nr_queued=%d in_handler=%s`", () => {
    const e = one("[ 1234.000000] hb: worker[0] max_nr_queued=3 nr_queued=2 in_handler=yes");
    assert.equal(e.gen, "v1");
    assert.deepEqual([e.worker, e.maxQueued, e.queued, e.inHandler], [0, 3, 2, true]);
    assert.equal(e.requests, undefined);
  });

  it("V1b: the ` nr_reqs=%lu` tail", () => {
    const e = one(
      "[ 1234.000000] hb: worker[1] max_nr_queued=7 nr_queued=0 in_handler=no nr_reqs=18446744073709551615",
    );
    assert.equal(e.inHandler, false);
    assert.equal(e.requests, 18446744073709551615n);
  });

  it("V1c: the ` nr_thpool_reqs=%lu` tail", () => {
    const e = one(
      "[ 1234.000000] hb: worker[0] max_nr_queued=3 nr_queued=2 in_handler=yes nr_thpool_reqs=19103",
    );
    assert.equal(e.requests, 19103n);
  });

  it("V1 with a `watchdog:` prefix", () => {
    const e = one(
      "[ 1234.000000] watchdog: worker[2] max_nr_queued=1 nr_queued=1 in_handler=no nr_thpool_reqs=5",
    );
    assert.deepEqual([e.worker, e.queued, e.requests], [2, 1, 5n]);
  });

  it("ignores the stuck report and the V2/V3 queue line", () => {
    const text = [
      "[ 1234.000000] hb: worker[0] CPU 4 stucked",
      "        max_nr_queued=1 current_nr_queued=0 in_handler=NO",
    ].join("\n");
    assert.deepEqual(parseLines(thpoolFamily, text), []);
  });
});

describe("thpool Watchdog: blocks (F3 V2, V3)", () => {
  it("V2: the 4-line printk, closed by its last line", () => {
    const es = blocks(`${V2}\n[ 1235.000000] something else`);
    assert.equal(es.length, 1);
    const e = es[0]!;
    assert.equal(e.gen, "v2");
    assert.deepEqual([e.worker, e.maxQueued, e.queued, e.inHandler], [1, 4, 2, true]);
    assert.deepEqual(
      [e.handled, e.totalQueuingNs, e.avgQueuingNs, e.requests],
      [81234n, 40617000n, 500n, 162470n],
    );
    assert.equal(e.truncated, undefined);
    assert.equal(e.ts, 1234);
    assert.equal(e.line, 1);
  });

  it("V3: the 5-line printk and its 40 stamped histogram rows", () => {
    const es = blocks([...V3_HEAD, ...hist(40), "[ 1235.000000] after"].join("\n"));
    assert.equal(es.length, 1);
    const e = es[0]!;
    assert.equal(e.gen, "v3");
    assert.deepEqual([e.worker, e.maxQueued, e.queued, e.inHandler], [0, 1, 0, false]);
    assert.deepEqual([e.handled, e.requests], [1000004n, 1000004n]);
    assert.deepEqual(
      [e.totalQueuingNs, e.avgQueuingNs, e.maxQueuingNs, e.minQueuingNs],
      [196481292n, 196n, 787n, 124n],
    );
    assert.equal(e.histogram?.length, 40);
    assert.deepEqual(e.histogram?.[0], { lo: 0, hi: 5, pct: "97.12345" });
    assert.deepEqual(e.histogram?.[39], { lo: 195, hi: 200, pct: "0.0" });
    assert.equal(e.truncated, undefined);
  });

  it("V3: an idle worker keeps min_queuing_ns = ULONG_MAX exactly", () => {
    const text = [
      "[ 1234.000000] Watchdog:",
      "    worker[0]",
      "        max_nr_queued=0 current_nr_queued=0 in_handler=NO",
      "        nr_handled=0 nr_thpool_reqs=0",
      "        total_queuing_ns: 0 avg_queuing_ns:0 max_queuing_ns: 0 min_queuing_ns: 18446744073709551615",
      "[ 1234.010000] Watchdog:",
      "    worker[1]",
      "        max_nr_queued=0 current_nr_queued=0 in_handler=NO",
      "        nr_handled=0 nr_thpool_reqs=0",
      "        total_queuing_ns: 0 avg_queuing_ns:0 max_queuing_ns: 0 min_queuing_ns: 18446744073709551615",
    ].join("\n");
    const es = blocks(text);
    assert.deepEqual(
      es.map((e) => e.worker),
      [0, 1],
    );
    assert.equal(es[0]!.minQueuingNs, 18446744073709551615n);
    assert.equal(es[0]!.histogram, undefined);
    assert.equal(es[0]!.truncated, undefined);
  });

  it("V3: the documentation's copy without `Watchdog:` and with one more blank on histogram rows", () => {
    const text = [
      "    worker[0]",
      "        max_nr_queued=1 current_nr_queued=0 in_handler=NO",
      "        nr_handled=1000004 nr_thpool_reqs=1000004",
      "        total_queuing_ns: 196481292 avg_queuing_ns:196 max_queuing_ns: 787 min_queuing_ns: 124",
      "         [  0,   5)    100.0%",
      "         [  5,  10)    0.0%",
    ].join("\n");
    const es = blocks(text);
    assert.equal(es.length, 1);
    const e = es[0]!;
    assert.equal(e.gen, "v3");
    assert.equal(e.ts, null);
    assert.deepEqual(e.histogram, [
      { lo: 0, hi: 5, pct: "100.0" },
      { lo: 5, hi: 10, pct: "0.0" },
    ]);
    // The excerpt shows 2 of the 40 rows the kernel prints.
    assert.equal(e.truncated, true);
  });

  it("a block cut before its queue line gives nothing; one cut later is truncated", () => {
    assert.deepEqual(blocks("[ 1234.000000] Watchdog:\n    worker[0]"), []);
    const es = blocks(V3_HEAD.slice(0, 4).join("\n"));
    assert.equal(es.length, 1);
    assert.equal(es[0]!.truncated, true);
    assert.equal(es[0]!.handled, 1000004n);
  });

  it("a foreign line ends the block and is offered again", () => {
    const es = blocks([...V3_HEAD, ...hist(3), V2].join("\n"));
    assert.deepEqual(
      es.map((e) => [e.gen, e.worker, e.histogram?.length]),
      [
        ["v3", 0, 3],
        ["v2", 1, undefined],
      ],
    );
  });
});

describe("Freeram gauge", () => {
  it("`Freeram: %#lx` gives free pages as a bigint", () => {
    const es = parseLines(
      freeramFamily,
      "[ 1234.000000] Freeram: 0x3e8f21\n[ 1239.000000] Freeram: 0",
    ) as CountersEvent[];
    assert.deepEqual(
      es.map((e) => [e.set, e.values.freeram]),
      [
        ["freeram", 0x3e8f21n],
        ["freeram", 0n],
      ],
    );
  });

  it("rejects other text after the key", () => {
    assert.deepEqual(parseLines(freeramFamily, "[ 1234.000000] Freeram: lots"), []);
  });
});

describe("thpool over the seed", () => {
  it("only b03 holds a sample; author notes give nothing", () => {
    for (const name of seedNames()) {
      const text = seed(name);
      const n =
        parseLines(thpoolFamily, text).length + blocks(text).length + parseLines(freeramFamily, text).length;
      assert.equal(n, name === "b03.log" ? 1 : 0, name);
    }
  });
});

const REAL = [
  ...V2.split("\n"),
  ...V3_HEAD,
  ...hist(3),
  "thpool-worker0 nr_queued: 5 1",
  "[ 1234.000000] hb: worker[0] max_nr_queued=3 nr_queued=2 in_handler=yes nr_thpool_reqs=19103",
  "[ 1234.000000] Freeram: 0x3e8f21",
  "    worker[",
  "        [  0,",
];

describe("thpool robustness", () => {
  it("never throws on arbitrary line sequences", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom(...REAL)), { maxLength: 60 }), (ls) => {
        const text = ls.join("\n");
        blocks(text);
        parseLines(thpoolFamily, text);
        parseLines(freeramFamily, text);
      }),
    );
  });
});
