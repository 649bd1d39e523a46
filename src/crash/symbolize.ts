import { execFile } from "node:child_process";
import { access } from "node:fs/promises";
import { promisify } from "node:util";

/** A frame of a crash report as the parser gives it (see src/parse/events.ts `Frame`): sym like `fit_poll_cq+0x4ad/0x510`, fn `fit_poll_cq`, addr like `ffffffff81062fcd` (optional). */
export interface FrameRef {
  sym: string;
  fn: string;
  addr?: string;
  reliable?: boolean;
}

/** One source location; an inlined call gives several for one address, innermost first. */
export interface SourceLoc {
  fn: string;
  file: string;
  line: number;
  inlined: boolean;
}

export interface ResolvedFrame {
  sym: string;
  fn: string;
  /** Empty when unresolved. */
  locs: SourceLoc[];
}

export interface Symbolized {
  frames: ResolvedFrame[];
  ip?: ResolvedFrame;
  guilty?: { fn: string; file: string; line: number };
  note?: string;
}

type Tool = "addr2line" | "llvm-symbolizer";
type Exec = (file: string, args: string[]) => Promise<string>;

// A debug vmlinux is hundreds of MB: nm prints ~100k lines and addr2line takes seconds to load it.
const run = promisify(execFile);
const execTool: Exec = async (file, args) =>
  (await run(file, args, { timeout: 120_000, maxBuffer: 512 << 20 })).stdout;

/**
 * Frames that report or transport a crash rather than cause it, in the style of syzkaller's
 * pkg/report: one pattern per line, grouped by why the frame is innocent.
 */
const SKIP_FN: readonly RegExp[] = [
  // Locking primitives: a crash in them is the caller's bad lock.
  /^_raw_(?:spin|read|write)_\w+$/,
  /^(?:__raw_|do_raw_|arch_)?spin_(?:lock|unlock|trylock)\w*$/,
  /^(?:read|write)_(?:lock|unlock|trylock)\w*$/,
  /^(?:native_|__pv_)?queued_(?:spin|read|write)_\w+$/,
  /^(?:__)?(?:rt_)?mutex_\w+$/,
  /^(?:__)?(?:down|up)(?:_(?:read|write|interruptible|killable|trylock|timeout)\w*)?$/,
  /^lock_(?:acquire|release)$/,
  /^(?:spin_dump|debug_spin_lock\w*)$/,
  // The scheduler: where a task sleeps, not why.
  /^(?:__|io_|preempt_)?schedule\w*$/,
  /^_?_cond_resched$/,
  // Report plumbing: printing the stack, warning, dying.
  /^(?:panic|__warn|report_bug|handle_bug|show_stack|show_regs|__die|die|oops_end|print_hex_dump)$/,
  /^(?:warn_slowpath|warn_on)\w*$/,
  /^_*(?:dump_stack|cpu_dumpstack)\w*$/,
  /^do_(?:\w+_)?trap$/,
  /^do_(?:general_protection|invalid_op|divide_error)$/,
  /^(?:asm_)?exc_\w+$/,
  /^(?:no_context|page_fault|async_page_fault|_*do_page_fault)$/,
  /^_*bad_area\w*$/,
  /^(?:kthread|ret_from_fork\w*)$/,
  // IB/FIT plumbing: the verbs' dispatch wrappers and the FIT polling thread's loop.
  /^ib_(?:poll_cq|post_send|post_recv|req_notify_cq)$/,
  /^fit_poll_cq_pass$/,
];

const SKIP_FILE: readonly RegExp[] = [
  /(?:^|\/)kernel\/locking\//,
  /(?:^|\/)kernel\/sched\//,
  /(?:^|\/)lib\/dump_stack\.c$/,
  /(?:^|\/)kernel\/panic\.c$/,
  /(?:^|\/)arch\/x86\/kernel\/dumpstack\w*\.c$/,
  /(?:^|\/)arch\/x86\/kernel\/traps\.c$/,
  /(?:^|\/)arch\/x86\/mm\/fault\.c$/,
  /(?:^|\/)include\/rdma\/ib_verbs\.h$/,
];

/** The frames syzkaller-style reports skip when choosing the guilty frame (locking, scheduler, report plumbing, IB/FIT plumbing). Exported for tests. */
export function isSkippedFrame(fn: string, file?: string): boolean {
  return SKIP_FN.some((r) => r.test(fn)) || (file !== undefined && SKIP_FILE.some((r) => r.test(file)));
}

// `.` for gcc's clones (`foo.isra.0`, `foo.cold`).
const SYM = /([A-Za-z_$][\w.$]*)\+0x([0-9a-f]+)\/0x([0-9a-f]+)/i;

interface NmSym {
  addr: bigint;
  size?: bigint;
  text: boolean;
}

interface Table {
  syms: Map<string, NmSym[]>;
  /** Why the table is empty or could not be read. */
  note?: string;
  /** The image itself is unusable: nothing can be resolved. */
  fatal?: boolean;
}

/** What to look up for one frame. */
interface Wanted {
  sym: string;
  fn: string;
  at?: bigint;
}

function parseNm(out: string): Map<string, NmSym[]> {
  const syms = new Map<string, NmSym[]>();
  for (const line of out.split("\n")) {
    const p = line.trim().split(/\s+/);
    if (p.length < 3) continue;
    const [addr, size, type, name] = p.length >= 4 ? p : [p[0], undefined, p[1], p[2]];
    if (!addr || !type || !name || !/^[0-9a-f]+$/i.test(addr)) continue;
    const s: NmSym = { addr: BigInt(`0x${addr}`), text: /^[tTwW]$/.test(type) };
    if (size) s.size = BigInt(`0x${size}`);
    const all = syms.get(name);
    if (all) all.push(s);
    else syms.set(name, [s]);
  }
  return syms;
}

/** Splits `addr2line -a -f -i` (or llvm-symbolizer's GNU style) output into locations per address. */
function parseLines(out: string): Map<bigint, SourceLoc[]> {
  const groups = new Map<bigint, string[]>();
  let cur: string[] | undefined;
  for (const line of out.split("\n")) {
    if (/^0x[0-9a-f]+$/i.test(line)) {
      cur = [];
      groups.set(BigInt(line), cur);
    } else if (cur && line !== "") cur.push(line);
  }
  const res = new Map<bigint, SourceLoc[]>();
  for (const [addr, lines] of groups) {
    const n = Math.floor(lines.length / 2);
    const locs: SourceLoc[] = [];
    for (let i = 0; i < n; i++) {
      const m = /^(.+):(\d+)(?: \(discriminator \d+\))?$/.exec(lines[2 * i + 1]!);
      const line = m ? Number(m[2]) : 0;
      // `??:0`, `??:?`, `file:?`: nothing to point at. Every pair but the last was inlined into the next.
      if (m && m[1] !== "??" && line > 0)
        locs.push({ fn: lines[2 * i]!, file: m[1]!, line, inlined: i < n - 1 });
    }
    res.set(addr, locs);
  }
  return res;
}

const firstLine = (e: unknown): string => {
  const err = e as { stderr?: string; message?: string };
  return (err.stderr?.trim() || err.message || String(e)).split("\n")[0]!;
};
const isMissing = (e: unknown) => (e as NodeJS.ErrnoException).code === "ENOENT";

/**
 * Resolves a kernel image's crash frames to source lines with binutils. One instance per image: it
 * caches the image's symbol table and every address it resolved, so a crash seen again costs no process.
 */
export class ImageSymbolizer {
  private table?: Promise<Table>;
  private readonly cache = new Map<bigint, SourceLoc[]>();
  /** Preference order; a tool found missing is dropped. */
  private readonly tools: Tool[];
  private readonly missingNote: string;
  private readonly exec: Exec;

  constructor(
    private readonly image: string,
    o: { tool?: Tool; exec?: Exec } = {},
  ) {
    this.tools =
      o.tool === "llvm-symbolizer" ? ["llvm-symbolizer", "addr2line"] : ["addr2line", "llvm-symbolizer"];
    this.missingNote = `${this.tools.join(" and ")} not found: frames left unresolved`;
    this.exec = o.exec ?? execTool;
  }

  /** Never rejects: a missing tool or image, or an unreadable image, gives `note` (one line) and frames with empty locs. */
  async resolve(frames: readonly FrameRef[], ip?: string): Promise<Symbolized> {
    const ipRef = ip === undefined ? undefined : parseIp(ip);
    const blank = (note: string): Symbolized => {
      const out: Symbolized = { frames: frames.map((f) => ({ sym: f.sym, fn: f.fn, locs: [] })), note };
      if (ipRef) out.ip = { sym: ipRef.sym, fn: ipRef.fn, locs: [] };
      return out;
    };
    try {
      await access(this.image);
    } catch {
      return blank(`vmlinux ${this.image}: not found; frames left unresolved`);
    }
    this.table ??= this.loadTable();
    const table = await this.table;
    if (table.fatal) return blank(table.note!);

    const wanted = frames.map((f) => locate(table.syms, f.sym, f.fn, f.addr, true));
    const ipWanted = ipRef && locate(table.syms, ipRef.sym, ipRef.fn, ipRef.addr, false);
    const all = ipWanted ? [...wanted, ipWanted] : wanted;
    const todo = [...new Set(all.flatMap((w) => (w.at === undefined || this.cache.has(w.at) ? [] : [w.at])))];
    let note = todo.length > 0 ? await this.lookup(todo) : undefined;

    const done = (w: Wanted): ResolvedFrame => {
      const locs = w.at === undefined ? [] : (this.cache.get(w.at) ?? []);
      return { sym: w.sym, fn: w.fn || (locs.at(-1)?.fn ?? ""), locs };
    };
    const out: Symbolized = { frames: wanted.map(done) };
    if (ipWanted) out.ip = done(ipWanted);
    const resolved = [...out.frames, ...(out.ip ? [out.ip] : [])];
    note ??= table.note;
    if (!note && resolved.length > 0 && resolved.every((r) => r.locs.length === 0)) {
      note =
        all.some((w) => w.at !== undefined) || table.syms.size === 0
          ? `${this.image} has no debug info (build with CONFIG_DEBUG_INFO)`
          : `${this.image}: none of the frames' functions is in its symbol table (another build?)`;
    }
    const guilty = pickGuilty(out, frames);
    if (guilty) out.guilty = guilty;
    if (note) out.note = note;
    return out;
  }

  private async loadTable(): Promise<Table> {
    try {
      return { syms: parseNm(await this.exec("nm", ["-S", "--defined-only", this.image])) };
    } catch (e) {
      if (isMissing(e))
        return { syms: new Map(), note: "nm not found: frames without an address left unresolved" };
      // A stripped image: nm fails, but frames that carry an address may still resolve.
      if (/no symbols/.test(firstLine(e))) return { syms: new Map() };
      return {
        syms: new Map(),
        fatal: true,
        note: `${this.image}: unreadable (${firstLine(e)}); frames left unresolved`,
      };
    }
  }

  /** Resolves `addrs` in one batch into the cache; returns a note when it could not. */
  private async lookup(addrs: bigint[]): Promise<string | undefined> {
    const hex = addrs.map((a) => `0x${a.toString(16)}`);
    while (this.tools.length > 0) {
      const tool = this.tools[0]!;
      const args =
        tool === "addr2line"
          ? ["-a", "-f", "-i", "-e", this.image, ...hex]
          : [`--obj=${this.image}`, "--inlining", "--output-style=GNU", "--print-address", ...hex];
      try {
        const got = parseLines(await this.exec(tool, args));
        for (const a of addrs) this.cache.set(a, got.get(a) ?? []);
        return undefined;
      } catch (e) {
        if (!isMissing(e)) return `${tool} failed: ${firstLine(e)}`;
        this.tools.shift(); // not installed: don't look for it again
      }
    }
    return this.missingNote;
  }
}

/** The `func+0xoff/0xsize` and the hex address in an IP text, e.g. `RIP: 0010:[<ffffffff81062fcd>]  [<...>] fit_poll_cq+0x4ad/0x510`. */
function parseIp(text: string): { sym: string; fn: string; addr?: string } {
  const m = SYM.exec(text);
  const rest = m ? text.replace(m[0], " ") : text;
  const addr = (/\[<([0-9a-f]+)>\]/i.exec(rest) ??
    /(?:^|[\s:])(?:0x)?([0-9a-f]{6,16})(?=$|\s)/i.exec(rest))?.[1];
  const out: { sym: string; fn: string; addr?: string } = m
    ? { sym: m[0], fn: m[1]! }
    : { sym: addr ?? text.trim(), fn: "" };
  if (addr) out.addr = addr;
  return out;
}

/** The address to look up: the symbol's (from nm) plus the offset, else the printed address. */
function locate(
  syms: Map<string, NmSym[]>,
  sym: string,
  fn: string,
  addr: string | undefined,
  isReturn: boolean,
): Wanted {
  const w: Wanted = { sym, fn };
  const m = SYM.exec(sym);
  const cands = m ? (syms.get(m[1]!) ?? []) : [];
  const text = cands.filter((s) => s.text);
  const pool = text.length > 0 ? text : cands;
  // Static functions share names across files: the printed size tells them apart when it matches.
  const base = m && (pool.find((s) => s.size === BigInt(`0x${m[3]}`)) ?? pool[0]);
  let at: bigint | undefined;
  let off: bigint | undefined;
  if (m && base) {
    off = BigInt(`0x${m[2]}`);
    at = base.addr + off;
  } else if (addr && /^(?:0x)?[0-9a-f]+$/i.test(addr)) {
    at = BigInt(addr.startsWith("0x") ? addr : `0x${addr}`);
  }
  // A call trace holds return addresses, which may already be the next line (or, after a noreturn
  // call, the next function): step back into the call. Offset 0 is a function's start, not a return.
  if (at !== undefined && isReturn && off !== 0n && at > 0n) at -= 1n;
  if (at !== undefined) w.at = at;
  return w;
}

/** The first location not in the plumbing: the IP, then reliable frames, then `?` ones. */
function pickGuilty(s: Symbolized, refs: readonly FrameRef[]): Symbolized["guilty"] {
  const order = [
    ...(s.ip ? [s.ip] : []),
    ...s.frames.filter((_, i) => refs[i]?.reliable !== false),
    ...s.frames.filter((_, i) => refs[i]?.reliable === false),
  ];
  for (const f of order) {
    // The printed name counts too: a helper inlined into `_raw_spin_lock` must not make it guilty.
    if (isSkippedFrame(f.fn)) continue;
    const loc = f.locs.find((l) => !isSkippedFrame(l.fn, l.file));
    if (loc) return { fn: loc.fn, file: loc.file, line: loc.line };
  }
  return undefined;
}
