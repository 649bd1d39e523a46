import { CrashAssembler } from "./crash-assembler.js";
import { CRASH_LITERALS } from "./crash-formats.js";
import type { Emit } from "./events.js";
import { createFamilies, type Families } from "./families.js";
import { type Block, baseOf } from "./family.js";
import type { LogLine } from "./line.js";

const STDOUT_OPEN = "STDOUT: ---[";
const BANNERS = /^(?:LegoOS|Linux) version \S/;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** One combined alternation of every literal any parser needs: the cheap test every line pays. */
function prefilter(f: Families): RegExp {
  const keys = new Set<string>([...CRASH_LITERALS, STDOUT_OPEN, "version "]);
  for (const fam of [...f.lines, ...f.blocks]) for (const k of fam.keys) keys.add(k);
  return new RegExp([...keys].map(escapeRe).join("|"));
}

/**
 * Parses one node's console: routes each line to the open multi-line block, the crash assembler,
 * or the one-line families, and notices reboots. Lines go in one at a time, in order; events come
 * out through `emit`. Nothing here reads a clock, so the same lines always give the same events.
 */
export class NodeParser {
  private families: Families;
  private filter: RegExp;
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
    this.families = make();
    this.filter = prefilter(this.families);
    this.crash = new CrashAssembler(emit);
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
    const hit = this.filter.test(msg);
    if ((hit || this.crash.busy) && this.crash.offer(line)) return;
    if (!hit) return;
    if (msg.includes(STDOUT_OPEN)) {
      this.inStdout = true;
      return;
    }
    const base = baseOf(line);
    for (const fam of this.families.blocks) {
      if (!fam.keys.some((k) => msg.includes(k))) continue;
      const block = fam.open(line, base);
      if (block) {
        this.block = block;
        return;
      }
    }
    for (const fam of this.families.lines) {
      if (!fam.keys.some((k) => msg.includes(k))) continue;
      const e = fam.parse(line, base);
      if (e) {
        this.emit(e);
        return;
      }
    }
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
    const banner = !zero && !this.justBooted && this.linesSeen > 0 && BANNERS.test(line.msg);
    if (line.ts !== null) this.lastTs = line.ts;
    if (zero || banner) {
      this.flush();
      this.families = this.make();
      this.inStdout = false;
      this.justBooted = true;
      this.emit({ ...baseOf(line), type: "reboot", reason: zero ? "zero-stamp" : "banner" });
      return;
    }
    if (line.ts !== 0 && !BANNERS.test(line.msg)) this.justBooted = false;
  }
}
