import { frameLine, ipLine, isDumpLine, taskLine } from "./dump.js";
import type { EventBase, StuckWorkerEvent } from "./events.js";
import type { Block, BlockFamily, Feed } from "./family.js";
import { eventOf, hex } from "./family.js";
import type { LogLine } from "./line.js";

/**
 * The memory manager's own stuck-worker report (formats.md F4): a header, the `common_header` of
 * the request the worker holds, the stuck CPU's remote register dump and, for pcache misses, the
 * `msg` line. The `hb:` prefix (until 2018-04-25) printed the dump after `msg` and only for pcache
 * misses; the `watchdog:` prefix prints it between `common_header` and `msg`, always.
 */

const PCACHE_MISS = 0x20000000;

/** Opcodes by number (`include/lego/rpc/opcode.h`); syscall-numbered ones carry the syscall's name. */
const OPCODES: ReadonlyMap<number, string> = new Map([
  [0x10000000, "HEARTBEAT"],
  [PCACHE_MISS, "PCACHE_MISS"],
  [0x30000000, "PCACHE_FLUSH"],
  [0x30000001, "REPLICA"],
  [0x30000002, "ZEROFILL"],
  [0, "read"],
  [1, "write"],
  [3, "close"],
  [4, "stat"],
  [8, "lseek"],
  [9, "mmap"],
  [10, "mprotect"],
  [11, "munmap"],
  [12, "brk"],
  [25, "mremap"],
  [26, "msync"],
  [57, "fork"],
  [59, "execve"],
  [74, "fsync"],
  [82, "rename"],
  [600, "checkpoint"],
  [611, "drop_page_cache"],
  [0x40000001, "M2M_MMAP"],
  [0x40000002, "M2M_MUNMAP"],
  [0x40000003, "M2M_MREMAP_GROW"],
  [0x40000004, "M2M_MREMAP_MOVE"],
  [0x40000005, "M2M_MREMAP_MOVE_SPLIT"],
  [0x40000006, "M2M_FINDVMA"],
  [0x40000007, "M2M_MSYNC"],
  [0x40000008, "M2M_FORK"],
  [0x40000009, "M2M_VALIDATE"],
  [0x0ffffff0, "TEST"],
  [0x0ffffff1, "TEST_NOREPLY"],
]);

/** The name of an RPC opcode, or undefined for one the table does not know. */
export function opName(op: number): string | undefined {
  return OPCODES.get(op);
}

// `CPU%2d` renders `CPU 4` below ten; the first April form had no CPU at all.
const HEADER = /^(hb|watchdog): worker\[(\d+)\](?: CPU\s*(\d+))? stucked\s*$/;
const COMMON = /^(?:hb|watchdog): {1,2}common_header \[op=(0x[0-9a-f]+|0) src_nid:(-?\d+)\]\s*$/i;
const MSG =
  /^(?:hb|watchdog): {1,2}msg \[pid=(\d+),tgid=(\d+),flags=(0x[0-9a-f]+|0),vaddr=(0x[0-9a-f]+|0)\]\s*$/i;

/** One report being collected. `count` gives the repeat number once the report is whole. */
class StuckBlock implements Block {
  private common = false;
  private msg = false;
  private dump = false;

  constructor(
    private readonly e: StuckWorkerEvent,
    /** `hb:` era: the dump follows `msg`, and only pcache misses get either. */
    private readonly april: boolean,
    private readonly count: (e: StuckWorkerEvent) => number,
  ) {}

  feed(line: LogLine): Feed {
    const text = line.msg;
    const e = this.e;
    if (!this.common) {
      const m = COMMON.exec(text);
      if (!m) return "end";
      e.op = Number(hex(m[1]!));
      const name = opName(e.op);
      if (name !== undefined) e.opName = name;
      e.srcNid = Number(m[2]);
      this.common = true;
      return this.complete() ? "done" : "take";
    }
    if (!this.msg) {
      const m = MSG.exec(text);
      if (m) {
        e.pid = Number(m[1]);
        e.tgid = Number(m[2]);
        e.flags = Number(hex(m[3]!));
        e.vaddr = hex(m[4]!) ?? 0n;
        this.msg = true;
        return this.complete() ? "done" : "take";
      }
    }
    if (!isDumpLine(text)) return "end";
    this.dump = true;
    const t = text.trimStart();
    if (e.rip === undefined) {
      const ip = ipLine(t);
      if (ip?.from === "RIP") e.rip = ip.sym;
    }
    const frame = frameLine(t);
    if (frame) {
      e.frames ??= [];
      e.frames.push(frame);
    }
    if (e.cpu === undefined) {
      const task = taskLine(t);
      if (task) e.cpu = task.cpu;
    }
    return "take";
  }

  close(): StuckWorkerEvent[] {
    const e = this.e;
    if (this.missing()) e.truncated = true;
    e.repeat = this.count(e);
    return [e];
  }

  private get miss(): boolean {
    return this.e.op === PCACHE_MISS;
  }

  /** True once no further part can come, so the report can close on its last line. */
  private complete(): boolean {
    if (this.april) return this.common && !this.miss;
    return this.msg;
  }

  /** True when a part the report must have is missing. */
  private missing(): boolean {
    if (!this.common) return true;
    if (this.april) return this.miss && !(this.msg && this.dump);
    return !this.dump || (this.miss && !this.msg);
  }
}

/**
 * Makes the stuck-worker family of one node. The kernel repeats a report every watchdog tick until
 * the worker moves on, so the family remembers each worker's last report (op, source node, address)
 * and numbers identical consecutive ones: `repeat` 1 for the first, 2 for the next... Keying by
 * worker keeps two stuck workers, whose reports alternate, from resetting each other's count.
 */
export function createStuckFamily(): BlockFamily {
  const last = new Map<number, { key: string; n: number }>();
  const count = (e: StuckWorkerEvent): number => {
    const key = `${e.op}|${e.srcNid}|${e.vaddr}`;
    const prev = last.get(e.worker);
    const n = prev?.key === key ? prev.n + 1 : 1;
    last.set(e.worker, { key, n });
    return n;
  };
  return {
    name: "stuck",
    keys: [" stucked"],
    open(line: LogLine, base: EventBase): Block | null {
      const m = HEADER.exec(line.msg);
      if (!m) return null;
      const e = eventOf<StuckWorkerEvent>(base, "stuck_worker", { worker: Number(m[2]), repeat: 1 });
      if (m[3] !== undefined) e.cpu = Number(m[3]);
      return new StuckBlock(e, m[1] === "hb", count);
    },
  };
}

/** A stuck-worker family with its own repeat memory, for tests and one-off scans of a single node. */
export const stuckFamily: BlockFamily = createStuckFamily();
