import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { cacheUtilFamily, countersFamily } from "../../src/parse/counters.js";
import type { CountersEvent } from "../../src/parse/events.js";
import { baseOf } from "../../src/parse/family.js";
import { lines, parseBlocks, parseLines } from "../helpers.js";

const SEED = new URL("../fixtures/seed/", import.meta.url);
const seed = (name: string) => readFileSync(new URL(name, SEED), "utf8");

const dumps = (text: string) => parseBlocks(countersFamily, text) as CountersEvent[];
const stamped = (ls: string[]) => ls.map((l, i) => `[ 1234.${String(i).padStart(6, "0")}] ${l}`).join("\n");

/** Opens a block on the first line and feeds it the rest until it closes; returns the feeds and the events. */
function drive(text: string) {
  const ls = lines(text);
  const block = countersFamily.open(ls[0]!, baseOf(ls[0]!));
  assert.ok(block);
  const feeds = [];
  for (const l of ls.slice(1)) {
    const f = block.feed(l);
    feeds.push(f);
    if (f !== "take") break;
  }
  return { feeds, events: block.close(false) as CountersEvent[] };
}

describe("pcache event counters (F20, `%s: %lu`)", () => {
  it("the seed's b07 run after the profile table", () => {
    const es = dumps(seed("b07.log"));
    assert.equal(es.length, 1);
    const e = es[0]!;
    assert.equal(e.set, "pcache");
    assert.equal(e.ts, 674.554497);
    assert.equal(Object.keys(e.values).length, 8);
    assert.equal(e.values.nr_pgfault, 786513n);
    assert.equal(e.values.nr_pcache_fill_from_victim, 2n);
  });

  it("b08's run too, and no other seed excerpt holds a dump", () => {
    for (const name of readdirSync(SEED).filter((n) => n.endsWith(".log"))) {
      const n = dumps(seed(name)).length;
      assert.equal(n, name === "b07.log" || name === "b08.log" ? 1 : 0, name);
    }
    assert.equal(dumps(seed("b08.log"))[0]!.values.nr_pcache_fill_from_memory, 786515n);
  });

  it("April's run, which ends at `nr_mremap_pset_diff`, closes at the next line that is no counter", () => {
    const { feeds, events } = drive(
      stamped(["nr_pgfault: 7", "nr_clflush: 3", "nr_mremap_pset_diff: 0", "Kernel Profile Points"]),
    );
    assert.deepEqual(feeds, ["take", "take", "end"]);
    assert.deepEqual(events[0]!.values, { nr_pgfault: 7n, nr_clflush: 3n, nr_mremap_pset_diff: 0n });
  });

  it("HEAD's whole table, whose rmap/pee counters follow `nr_mremap_pset_diff`, is one dump", () => {
    // pcache_event_text[] in managers/processor/pcache/stat.c, printed by print_pcache_events() as
    // "%s: %lu\n": 48 names, `nr_mremap_pset_diff` is the 40th.
    const names = [
      "nr_pgfault",
      "nr_pgfault_code",
      "nr_clflush",
      "nr_clflush_clean_skipped",
      "nr_clflush_fail",
      "nr_clflush_piggyback_fallback",
      "nr_pgfault_wp",
      "nr_pgfault_wp_cow",
      "nr_pgfault_wp_reuse",
      "nr_pgfault_due_to_concurrent_eviction",
      "nr_pcache_fill_zerofill",
      "nr_pcache_fill_from_memory",
      "nr_pcache_fill_from_memory_piggyback",
      "nr_pcache_fill_from_memory_piggyback_fallback",
      "nr_pcache_fill_from_victim",
      "nr_pcache_eviction_triggered",
      "nr_pcache_eviction_eagain_freeable",
      "nr_pcache_eviction_eagain_concurrent",
      "nr_pcache_eviction_failure_find",
      "nr_pcache_eviction_failure_evict",
      "nr_pcache_eviction_succeed",
      "nr_pset_list_lookup",
      "nr_pset_list_hit",
      "nr_victim_lookup",
      "nr_victim_hit",
      "nr_victim_eviction_triggered",
      "nr_victim_eviction_eagain",
      "nr_victim_eviction_succeed",
      "nr_victim_prepare_insert",
      "nr_victim_finish_insert",
      "nr_victim_flush_submitted_clean",
      "nr_victim_flush_submitted_dirty",
      "nr_victim_flush_finished_dirty",
      "nr_victim_flush_async_run",
      "nr_victim_flush_sync",
      "nr_sweep_run",
      "nr_sweep_nr_pset",
      "nr_sweep_nr_moved_pcm",
      "nr_mremap_pset_same",
      "nr_mremap_pset_diff",
      "nr_pcache_rmap_alloc",
      "nr_pcache_rmap_alloc_kmalloc",
      "nr_pcache_rmap_free",
      "nr_pcache_rmap_free_kmalloc",
      "nr_pcache_pee_alloc",
      "nr_pcache_pee_alloc_kmalloc",
      "nr_pcache_pee_free",
      "nr_pcache_pee_free_kmalloc",
    ];
    const { feeds, events } = drive(stamped(names.map((n, i) => `${n}: ${i}`)));
    assert.equal(feeds.length, 47);
    assert.equal(feeds.at(-1), "done");
    assert.equal(Object.keys(events[0]!.values).length, 48);
    assert.equal(events[0]!.values.nr_pcache_rmap_alloc, 40n);
  });

  it("HEAD's run, cumulative past 2^53, closes at `nr_pcache_pee_free_kmalloc`", () => {
    const { feeds, events } = drive(
      stamped([
        "nr_pgfault: 18446744073709551615",
        "nr_pcache_fill_from_memory: 9007199254740993",
        "nr_pcache_pee_free_kmalloc: 4",
      ]),
    );
    assert.deepEqual(feeds, ["take", "done"]);
    assert.equal(events[0]!.values.nr_pgfault, 18446744073709551615n);
    assert.equal(events[0]!.values.nr_pcache_fill_from_memory, 9007199254740993n);
  });

  it("a second `nr_pgfault:` starts a new dump", () => {
    const es = dumps(stamped(["nr_pgfault: 1", "nr_clflush: 2", "nr_pgfault: 3", "nr_clflush: 4"]));
    assert.deepEqual(
      es.map((e) => e.values.nr_clflush),
      [2n, 4n],
    );
  });

  it("a lone tail line without `nr_pgfault:` is not a dump", () => {
    assert.deepEqual(dumps(stamped(["nr_mremap_pset_diff: 0"])), []);
  });
});

describe("memory handler stats (F20, M)", () => {
  it("runs from `handle_pcache_miss:` to `nr_batched_log_flush`", () => {
    const names = [
      "handle_pcache_miss",
      "handle_pcache_flush",
      "handle_pcache_replica",
      "handle_p2m_mmap",
      "handle_p2m_munmap",
      "handle_p2m_brk",
      "handle_m2m_mmap",
      "handle_m2m_munmap",
      "handle_read",
      "handle_write",
      "nr_batched_log_flush",
    ];
    const { feeds, events } = drive(stamped(names.map((n, i) => `${n}: ${i * 100}`)));
    assert.equal(feeds.at(-1), "done");
    assert.equal(events[0]!.set, "memory");
    assert.equal(Object.keys(events[0]!.values).length, 11);
    assert.equal(events[0]!.values.handle_write, 900n);
  });
});

describe("IB stats (F20)", () => {
  const IB = [
    "IB Stats:",
    "    nr_ib_send_reply:           18207",
    "    nr_ib_send:                 36412",
    "      recvcq[0] CQEs:           54619",
    "      recvcq[0] CQEs:               3",
    "    nr_bytes_tx:             19388416",
    "    nr_bytes_rx:             20123904",
  ];

  it("`IB Stats:` and its indented rows, the repeated poller rows numbered", () => {
    const { feeds, events } = drive(stamped(IB));
    assert.equal(feeds.at(-1), "done");
    assert.equal(events[0]!.set, "ib");
    assert.deepEqual(events[0]!.values, {
      nr_ib_send_reply: 18207n,
      nr_ib_send: 36412n,
      "recvcq[0] CQEs": 54619n,
      "recvcq[0] CQEs#2": 3n,
      nr_bytes_tx: 19388416n,
      nr_bytes_rx: 20123904n,
    });
  });

  it("HEAD: `fit: ` on every line", () => {
    const es = dumps(stamped(IB.map((l) => `fit: ${l}`)));
    assert.equal(es.length, 1);
    assert.equal(es[0]!.values.nr_bytes_rx, 20123904n);
  });

  it("a header with no rows gives nothing, and a foreign line ends the rows", () => {
    assert.deepEqual(dumps(stamped(["IB Stats:", "something else"])), []);
    const es = dumps(stamped([...IB.slice(0, 3), "Freeram: 0x10"]));
    assert.deepEqual(Object.keys(es[0]!.values), ["nr_ib_send_reply", "nr_ib_send"]);
  });
});

describe("cache utilisation (F20, P)", () => {
  it("`Processor: Cache Utilization %Lu.%Lu%%` keeps both integers", () => {
    const es = parseLines(
      cacheUtilFamily,
      stamped(["Processor: Cache Utilization 12.4096%"]),
    ) as CountersEvent[];
    assert.equal(es.length, 1);
    assert.equal(es[0]!.set, "cache");
    assert.deepEqual(es[0]!.values, { whole: 12n, rem: 4096n });
  });

  it("rejects a line that is not the gauge", () => {
    assert.deepEqual(parseLines(cacheUtilFamily, "Processor: Cache Utilization unknown"), []);
  });
});

const REAL = [
  "[  674.554497] nr_pgfault: 786513",
  "[  674.557706] nr_clflush: 262225",
  "nr_mremap_pset_diff: 0",
  "[ 1234.000000] handle_pcache_miss: 5",
  "[ 1234.000000] IB Stats:",
  "      recvcq[0] CQEs:           54619",
  "fit:     nr_bytes_rx:             20123904",
  "Processor: Cache Utilization 12.4096%",
];

describe("counters robustness", () => {
  it("never throws on arbitrary line sequences", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom(...REAL)), { maxLength: 60 }), (ls) => {
        const text = ls.join("\n");
        dumps(text);
        parseLines(cacheUtilFamily, text);
      }),
    );
  });
});
