import type { CountersEvent, EventBase } from "./events.js";
import { type Block, type BlockFamily, eventOf, type Feed, type LineFamily } from "./family.js";
import type { LogLine } from "./line.js";

/**
 * Counter dumps (formats.md F20): the P pcache-event run, the M handler-stats run and the IB
 * stats, plus the P `Cache Utilization` gauge. Every line is its own printk; the runs have no end
 * marker, so a run ends at its known last name or at the first line that is not a counter.
 */

// A `fit: ` prefix is allowed on every line: HEAD prints some dumps from FIT's files.
const NAMED = /^(?:fit: )?([a-z_][a-z0-9_]*): (\d+)\s*$/;
const IB_HEADER = /^(?:fit: )?IB Stats:\s*$/;
// The `recvcq[0]` index is hard-coded 0 for every polling thread.
const IB_ROW =
  /^(?:fit: )?\s+(nr_ib_send_reply|nr_ib_send|recvcq\[\d+\] CQEs|nr_bytes_tx|nr_bytes_rx):\s+(-?\d+)\s*$/;

/** One kind of dump: how its first line looks, how its rows look, and the name printed last. */
interface RunFormat {
  set: CountersEvent["set"];
  /** True for the line that opens the run; a run whose first line is a row also takes it as one. */
  first(msg: string): boolean;
  firstIsRow: boolean;
  row: RegExp;
  /** Names after which nothing more is printed, so the run closes without waiting for a foreign line. */
  last: readonly string[];
  /** Names printed once per polling thread, numbered `#2`, `#3`... after the first. */
  repeats: boolean;
}

const RUNS: readonly RunFormat[] = [
  {
    set: "pcache",
    first: (msg) => NAMED.exec(msg)?.[1] === "nr_pgfault",
    firstIsRow: true,
    row: NAMED,
    // HEAD's table (managers/processor/pcache/stat.c) ends at `nr_pcache_pee_free_kmalloc`. April's
    // ended at `nr_mremap_pset_diff`, but HEAD prints eight more rmap/pee counters after that name, so
    // it cannot close a run: April's run ends at the first line after it that is no counter.
    last: ["nr_pcache_pee_free_kmalloc"],
    repeats: false,
  },
  {
    set: "memory",
    first: (msg) => NAMED.exec(msg)?.[1] === "handle_pcache_miss",
    firstIsRow: true,
    row: NAMED,
    last: ["nr_batched_log_flush"],
    repeats: false,
  },
  {
    set: "ib",
    first: (msg) => IB_HEADER.test(msg),
    firstIsRow: false,
    row: IB_ROW,
    last: ["nr_bytes_rx"],
    repeats: true,
  },
];

/** One dump being collected. */
class CountersBlock implements Block {
  private readonly values: Record<string, bigint> = {};

  constructor(
    private readonly base: EventBase,
    private readonly f: RunFormat,
  ) {}

  feed(line: LogLine): Feed {
    return this.add(line.msg) ?? "end";
  }

  /** Adds a row; null when the line is not one of this run's, or starts the next dump. */
  add(msg: string): Feed | null {
    const m = this.f.row.exec(msg);
    if (!m) return null;
    let name = m[1]!;
    if (name in this.values) {
      if (!this.f.repeats || !name.startsWith("recvcq[")) return null;
      let n = 2;
      while (`${name}#${n}` in this.values) n++;
      name = `${name}#${n}`;
    }
    this.values[name] = BigInt(m[2]!);
    return this.f.last.includes(name) ? "done" : "take";
  }

  close(): CountersEvent[] {
    if (Object.keys(this.values).length === 0) return [];
    return [eventOf<CountersEvent>(this.base, "counters", { set: this.f.set, values: this.values })];
  }
}

/**
 * The three counter runs: pcache events from `nr_pgfault:` on (P), handler stats from
 * `handle_pcache_miss:` on (M), and `IB Stats:` with its indented rows (both). Each dump gives one
 * `counters` event whose values are keyed by the printed names; the repeated `recvcq[0] CQEs` rows
 * become `recvcq[0] CQEs`, `recvcq[0] CQEs#2`...
 */
export const countersFamily: BlockFamily = {
  name: "counters",
  keys: ["nr_pgfault: ", "handle_pcache_miss: ", "IB Stats:"],
  open(line: LogLine, base: EventBase): Block | null {
    const f = RUNS.find((r) => r.first(line.msg));
    if (!f) return null;
    const block = new CountersBlock(base, f);
    if (f.firstIsRow) block.add(line.msg);
    return block;
  },
};

const CACHE = /^Processor: Cache Utilization (\d+)\.(\d+)%\s*$/;

/**
 * `Processor: Cache Utilization %Lu.%Lu%%`, which opens every P tick. The part after the dot is a
 * division remainder, not a fraction, so both integers are kept as printed: `{ whole, rem }`.
 */
export const cacheUtilFamily: LineFamily = {
  name: "cache-util",
  keys: ["Cache Utilization "],
  parse(line, base): CountersEvent | null {
    const m = CACHE.exec(line.msg);
    if (!m) return null;
    return eventOf<CountersEvent>(base, "counters", {
      set: "cache",
      values: { whole: BigInt(m[1]!), rem: BigInt(m[2]!) },
    });
  },
};
