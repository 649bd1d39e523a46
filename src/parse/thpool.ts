import type { CountersEvent, EventBase, ThpoolEvent } from "./events.js";
import type { Block, BlockFamily, Feed, LineFamily } from "./family.js";
import { eventOf, hex } from "./family.js";
import type { LogLine } from "./line.js";

/**
 * The memory manager's thread-pool statistics (formats.md F3) in all five generations, and the
 * `Freeram:` gauge that opens every M watchdog tick.
 */

/** One one-line generation: its regex and the event its captures make. */
interface LineFormat {
  re: RegExp;
  build(m: RegExpExecArray, base: EventBase): ThpoolEvent;
}

const LINE_FORMATS: readonly LineFormat[] = [
  {
    // V0, a local debug print of 2018-04-09 that never reached the repository: the worker index is
    // only known from the thread's name (`thpool-worker0`).
    re: /^\S*?(\d+) nr_queued: (\d+) ([01])\s*$/,
    build: (m, base) =>
      eventOf<ThpoolEvent>(base, "thpool", {
        gen: "v0",
        worker: Number(m[1]),
        queued: Number(m[2]),
        inHandler: m[3] === "1",
      }),
  },
  {
    // V1a-c (2018-04-10..25). The tail named the global request count `nr_reqs` (V1b), then
    // `nr_thpool_reqs` (V1c); the prefix changed from `hb:` to `watchdog:` with V2, so accept both.
    re: /^(?:(?:hb|watchdog): )?worker\[(\d+)\] max_nr_queued=(\d+) nr_queued=(\d+) in_handler=(yes|no)(?: nr_(?:thpool_)?reqs=(\d+))?\s*$/i,
    build: (m, base) => {
      const e = eventOf<ThpoolEvent>(base, "thpool", {
        gen: "v1",
        worker: Number(m[1]),
        maxQueued: Number(m[2]),
        queued: Number(m[3]),
        inHandler: m[4]!.toLowerCase() === "yes",
      });
      if (m[5] !== undefined) e.requests = BigInt(m[5]);
      return e;
    },
  },
];

/** The one-line thpool samples: V0 `thpool-worker0 nr_queued: 5 1` and V1a-c `hb: worker[0] max_nr_queued=...`. */
export const thpoolFamily: LineFamily = {
  name: "thpool",
  keys: ["nr_queued: ", "max_nr_queued="],
  parse(line, base) {
    for (const f of LINE_FORMATS) {
      const m = f.re.exec(line.msg);
      if (m) return f.build(m, base);
    }
    return null;
  },
};

const FREERAM = /^Freeram: (0x[0-9a-f]+|0)\s*$/i;

/** The M tick's `Freeram: %#lx` gauge, in free pages (`%#lx` prints zero as a bare `0`). */
export const freeramFamily: LineFamily = {
  name: "freeram",
  keys: ["Freeram: "],
  parse(line, base): CountersEvent | null {
    const m = FREERAM.exec(line.msg);
    const pages = m ? hex(m[1]!) : null;
    if (pages === null) return null;
    return eventOf<CountersEvent>(base, "counters", { set: "freeram", values: { freeram: pages } });
  },
};

/** Where a V2/V3 block is: the name of the last part it took. */
type Part = "header" | "worker" | "queue" | "v2" | "handled" | "queuing" | "hist";

/** The fields a block collects before it becomes an event. */
interface Sample {
  worker?: number;
  maxQueued?: number;
  queued?: number;
  inHandler?: boolean;
  v2?: true;
  handled?: bigint;
  requests?: bigint;
  totalQueuingNs?: bigint;
  avgQueuingNs?: bigint;
  maxQueuingNs?: bigint;
  minQueuingNs?: bigint;
  histogram: { lo: number; hi: number; pct: string }[];
}

/** One line shape of the `Watchdog:` printk and the parts it may follow. */
interface Step {
  part: Part;
  after: readonly Part[];
  re: RegExp;
  apply(s: Sample, m: RegExpExecArray): void;
}

// Indentation is matched loosely: the documentation's copy has one blank more on histogram rows
// than the code prints, and a stamped continuation loses one blank to the stamp reader.
const WORKER = /^\s+worker\[(\d+)\]\s*$/;

const STEPS: readonly Step[] = [
  {
    part: "worker",
    after: ["header"],
    re: WORKER,
    apply: (s, m) => {
      s.worker = Number(m[1]);
    },
  },
  {
    part: "queue",
    after: ["worker"],
    re: /^\s+max_nr_queued=(\d+) current_nr_queued=(\d+) in_handler=(YES|NO)\s*$/i,
    apply: (s, m) => {
      s.maxQueued = Number(m[1]);
      s.queued = Number(m[2]);
      s.inHandler = m[3]!.toUpperCase() === "YES";
    },
  },
  {
    // V2 (2018-04-25..27) put everything else on one line and had no histogram.
    part: "v2",
    after: ["queue"],
    re: /^\s+nr_handled=(\d+) total_queuing_ns: ?(\d+) avg_queuing_ns: ?(\d+) nr_thpool_reqs=(\d+)\s*$/,
    apply: (s, m) => {
      s.v2 = true;
      s.handled = BigInt(m[1]!);
      s.totalQueuingNs = BigInt(m[2]!);
      s.avgQueuingNs = BigInt(m[3]!);
      s.requests = BigInt(m[4]!);
    },
  },
  {
    part: "handled",
    after: ["queue"],
    re: /^\s+nr_handled=(\d+) nr_thpool_reqs=(\d+)\s*$/,
    apply: (s, m) => {
      s.handled = BigInt(m[1]!);
      s.requests = BigInt(m[2]!);
    },
  },
  {
    part: "queuing",
    after: ["handled"],
    re: /^\s+total_queuing_ns: ?(\d+) avg_queuing_ns: ?(\d+) max_queuing_ns: ?(\d+) min_queuing_ns: ?(\d+)\s*$/,
    apply: (s, m) => {
      s.totalQueuingNs = BigInt(m[1]!);
      s.avgQueuingNs = BigInt(m[2]!);
      s.maxQueuingNs = BigInt(m[3]!);
      s.minQueuingNs = BigInt(m[4]!);
    },
  },
  {
    part: "hist",
    after: ["queuing", "hist"],
    re: /^\s+\[\s*(\d+),\s*(\d+)\)\s+(\d+\.\d*)%\s*$/,
    apply: (s, m) => {
      s.histogram.push({ lo: Number(m[1]), hi: Number(m[2]), pct: m[3]! });
    },
  },
];

/** 40 buckets of 5 µs; the kernel prints all of them or none (formats.md §5, histogram bug). */
const HIST_ROWS = 40;
const HEADER = /(?:^|\s)Watchdog:\s*$/;

/** One worker's `Watchdog:` printk and the histogram rows after it. */
class ThpoolBlock implements Block {
  private readonly s: Sample = { histogram: [] };

  constructor(
    private readonly base: EventBase,
    private at: Part,
    worker?: number,
  ) {
    if (worker !== undefined) this.s.worker = worker;
  }

  feed(line: LogLine): Feed {
    for (const step of STEPS) {
      if (!step.after.includes(this.at)) continue;
      const m = step.re.exec(line.msg);
      if (!m) continue;
      step.apply(this.s, m);
      this.at = step.part;
      const last = step.part === "v2" || this.s.histogram.length >= HIST_ROWS;
      return last ? "done" : "take";
    }
    return "end";
  }

  close(): ThpoolEvent[] {
    const s = this.s;
    // Without the queue line there is nothing a sample is made of.
    if (s.worker === undefined || s.queued === undefined || s.inHandler === undefined) return [];
    const e = eventOf<ThpoolEvent>(this.base, "thpool", {
      gen: s.v2 ? "v2" : "v3",
      worker: s.worker,
      queued: s.queued,
      inHandler: s.inHandler,
    });
    if (s.maxQueued !== undefined) e.maxQueued = s.maxQueued;
    if (s.handled !== undefined) e.handled = s.handled;
    if (s.requests !== undefined) e.requests = s.requests;
    if (s.totalQueuingNs !== undefined) e.totalQueuingNs = s.totalQueuingNs;
    if (s.avgQueuingNs !== undefined) e.avgQueuingNs = s.avgQueuingNs;
    if (s.maxQueuingNs !== undefined) e.maxQueuingNs = s.maxQueuingNs;
    if (s.minQueuingNs !== undefined) e.minQueuingNs = s.minQueuingNs;
    if (s.histogram.length > 0) e.histogram = s.histogram;
    const rows = s.histogram.length;
    const whole = s.v2 || (s.minQueuingNs !== undefined && (rows === 0 || rows >= HIST_ROWS));
    if (!whole) e.truncated = true;
    return [e];
  }
}

/**
 * The multi-line V2/V3 samples: `Watchdog:` followed by unstamped `    worker[N]` and 8-blank
 * lines, and for V3 up to 40 stamped histogram rows. Also opens at `    worker[N]` for the
 * documentation's copy, which lacks the `Watchdog:` line. A block cut before its queue line gives
 * nothing; one cut later gives a sample with `truncated` set. Which of V2 and V3 a block cut
 * after its third line was cannot be told; it is reported as V3.
 */
export const thpoolBlockFamily: BlockFamily = {
  name: "thpool-block",
  keys: ["Watchdog:", "    worker["],
  open(line, base) {
    if (HEADER.test(line.msg)) return new ThpoolBlock(base, "header");
    const m = WORKER.exec(line.msg);
    return m ? new ThpoolBlock(base, "worker", Number(m[1])) : null;
  },
};
