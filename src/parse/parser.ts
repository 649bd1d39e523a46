import { CrashAssembler } from "./crash-assembler.js";
import { CRASH_LITERALS } from "./crash-formats.js";
import type { Emit, EventBase, RebootEvent } from "./events.js";
import { createFamilies, type Families } from "./families.js";
import { type Block, type BlockFamily, baseOf, eventOf, type LineFamily } from "./family.js";
import type { LogLine } from "./line.js";
import { KeyFinder } from "./prefilter.js";

const STDOUT_OPEN = "STDOUT: ---[";
const BANNERS = /^(?:LegoOS|Linux) version \S/;

/** The families that hold a key, so that a prefilter hit goes straight to them. */
interface Route {
  blocks: BlockFamily[];
  lines: LineFamily[];
}

/** How a node's lines reach the families: one combined regex of every key, and the families behind each key. */
class Router {
  /** Finds the first of every literal any parser needs: the cheap test every line pays. */
  readonly filter: KeyFinder;
  readonly routes = new Map<string, Route>();
  readonly exact = new Map<string, BlockFamily>();
  readonly exactMax: number;
  /** Every literal a line must hold for any parser to want it. */
  readonly keys: readonly string[];

  constructor(readonly families: Families) {
    const keys = new Set<string>([...CRASH_LITERALS, STDOUT_OPEN, "version "]);
    const route = (k: string) => {
      keys.add(k);
      let r = this.routes.get(k);
      if (!r) {
        r = { blocks: [], lines: [] };
        this.routes.set(k, r);
      }
      return r;
    };
    for (const fam of families.blocks) {
      for (const k of fam.keys) route(k).blocks.push(fam);
      for (const m of fam.exact ?? []) this.exact.set(m, fam);
    }
    for (const fam of families.lines) for (const k of fam.keys) route(k).lines.push(fam);
    this.filter = new KeyFinder(keys);
    this.keys = [...keys];
    this.exactMax = Math.max(0, ...[...this.exact.keys()].map((m) => m.length));
  }
}

/**
 * The literals of every parser (`make` gives the families): a line holding none of them, while its node
 * has nothing open, is no parser's business. Also, the longest whole message a block opens on.
 */
export function parserKeys(make: () => Families = createFamilies): {
  keys: readonly string[];
  exactMax: number;
} {
  const r = new Router(make());
  return { keys: r.keys, exactMax: r.exactMax };
}

/**
 * Parses one node's console: routes each line to the open multi-line block, the crash assembler,
 * or the one-line families, and notices reboots. Lines go in one at a time, in order; events come
 * out through `emit`. Nothing here reads a clock, so the same lines always give the same events.
 */
export class NodeParser {
  private router: Router;
  private block: Block | null = null;
  private readonly crash: CrashAssembler;
  private inStdout = false;
  private lastTs: number | null = null;
  private linesSeen = 0;
  private justBooted = false;

  constructor(
    readonly node: string,
    private readonly emit: Emit,
    private readonly make: () => Families = createFamilies,
  ) {
    this.router = new Router(make());
    this.crash = new CrashAssembler(emit);
  }

  /**
   * Nothing is half-read: no block, report or program output open. A line holding no key, no zero
   * stamp and more than an `exact` message then only counts (see {@link passOver}).
   */
  get quiet(): boolean {
    return this.block === null && !this.crash.busy && !this.inStdout;
  }

  /**
   * `count` lines went by while {@link quiet} that hold no key, no zero stamp and no whole `exact`
   * message: what {@link push} would have done with them, without them. `lastTs` is the stamp of the
   * last stamped one.
   */
  passOver(count: number, lastTs: number | null): void {
    this.linesSeen += count;
    if (lastTs !== null) this.lastTs = lastTs;
    this.justBooted = false;
  }

  /** Parses the next line of this node. */
  push(line: LogLine): void {
    this.bootCheck(line);
    this.linesSeen++;
    if (this.inStdout) {
      // A user program's write() passes through the console; its text is never kernel output.
      if (line.ts === null) {
        if (line.msg === "]---") this.inStdout = false;
        return;
      }
      this.inStdout = false;
    }
    if (this.block) {
      const r = this.block.feed(line);
      if (r === "take") return;
      this.closeBlock(false);
      if (r === "done") return;
    }
    const msg = line.msg;
    const router = this.router;
    if (msg.length <= router.exactMax) {
      const fam = router.exact.get(msg.trimEnd());
      if (fam && this.open(fam, line, baseOf(line))) return;
    }
    // The message is the end of the display line (LogLine), and the whole line is searched faster.
    const hit = router.filter.find(line.text, line.text.length - msg.length);
    if ((hit || this.crash.busy) && this.crash.offer(line)) return;
    if (!hit) return;
    if (msg.includes(STDOUT_OPEN)) {
      this.inStdout = true;
      return;
    }
    const base = baseOf(line);
    // Straight to the families of the key that matched; when none of them takes the line, another key
    // further along it may belong to a family that does.
    const route = router.routes.get(hit);
    if (route && this.tryFamilies(route.blocks, route.lines, line, base)) return;
    const present = router.filter.findAll(msg);
    if (present.length === 1) return; // the first key alone, whose families all said no
    // Every other family that holds a key of the line, in the usual order. Those of the first key
    // said no already; parsing is pure, so asking them again would only cost time.
    const asked = new Set<BlockFamily | LineFamily>(route ? [...route.blocks, ...route.lines] : []);
    const holds = (f: BlockFamily | LineFamily) => !asked.has(f) && f.keys.some((k) => present.includes(k));
    this.tryFamilies(router.families.blocks.filter(holds), router.families.lines.filter(holds), line, base);
  }

  private tryFamilies(
    blocks: readonly BlockFamily[],
    lines: readonly LineFamily[],
    line: LogLine,
    base: EventBase,
  ): boolean {
    for (const fam of blocks) {
      if (this.open(fam, line, base)) return true;
    }
    for (const fam of lines) {
      const e = fam.parse(line, base);
      if (e) {
        this.emit(e);
        return true;
      }
    }
    return false;
  }

  private open(fam: BlockFamily, line: LogLine, base: EventBase): boolean {
    const block = fam.open(line, base);
    if (!block) return false;
    this.block = block;
    return true;
  }

  /** The node went quiet or its log ended: whatever is half-collected is emitted as it is. */
  flush(): void {
    this.closeBlock(true);
    this.crash.close(true);
  }

  private closeBlock(cut: boolean): void {
    const b = this.block;
    if (!b) return;
    this.block = null;
    for (const e of b.close(cut)) this.emit(e);
  }

  /**
   * A banner, or a return to `[    0.000000]` after later stamps, means the node booted again. A smaller
   * stamp alone does not: pasted logs are often out of order.
   */
  private bootCheck(line: LogLine): void {
    const zero = line.ts === 0 && this.lastTs !== null && this.lastTs > 0;
    // Runs on every line: a banner starts with `L`, so most lines skip the regex.
    const isBanner = line.msg.charCodeAt(0) === 76 /* L */ && BANNERS.test(line.msg);
    const banner = !zero && !this.justBooted && this.linesSeen > 0 && isBanner;
    if (line.ts !== null) this.lastTs = line.ts;
    if (zero || banner) {
      this.flush();
      this.router = new Router(this.make());
      this.inStdout = false;
      this.justBooted = true;
      this.emit(eventOf<RebootEvent>(baseOf(line), "reboot", { reason: zero ? "zero-stamp" : "banner" }));
      return;
    }
    if (line.ts !== 0 && !isBanner) this.justBooted = false;
  }
}
