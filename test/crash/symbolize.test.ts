import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { type FrameRef, ImageSymbolizer, isSkippedFrame } from "../../src/crash/symbolize.js";

const run = promisify(execFile);
const exec = async (file: string, args: string[]) => (await run(file, args, { maxBuffer: 64 << 20 })).stdout;

// A crash in miniature: guilty_fn's inlined helper calls the "lock", whose inlined debug check calls
// the "stack dumper".
// The markers name the lines the test expects; their numbers are read back from this text.
const SOURCE = `volatile int sink;

__attribute__((noinline)) void dump_stack(void)
{
	sink++; /* DUMP */
}

static inline __attribute__((always_inline)) void lock_debug(volatile int *lock)
{
	if (*lock)
		dump_stack(); /* LOCK */
}

__attribute__((noinline)) void _raw_spin_lock(volatile int *lock)
{
	lock_debug(lock); /* LOCKCALL */
	*lock = 1;
}

static inline __attribute__((always_inline)) void take(volatile int *lock, int v)
{
	sink = v;
	_raw_spin_lock(lock); /* HELPER */
}

__attribute__((noinline)) void guilty_fn(volatile int *lock, int v)
{
	take(lock, v * 3); /* CALLER */
	sink = *lock;
}

int main(int argc, char **argv)
{
	static volatile int lock;
	(void)argv;
	lock = argc > 1;
	guilty_fn(&lock, argc);
	return 0;
}
`;
const lineOf = (marker: string) => SOURCE.split("\n").findIndex((l) => l.includes(`/* ${marker} */`)) + 1;

let dir = "";
let prog = "";
let haveGcc = true;
/** nm's view of prog: start and size per function. */
const nm = new Map<string, { start: bigint; size: bigint }>();
/** Kernel-style `fn+0xoff/0xsize` for an address inside `fn`. */
const symAt = (fn: string, addr: bigint) => {
  const s = nm.get(fn)!;
  return `${fn}+0x${(addr - s.start).toString(16)}/0x${s.size.toString(16)}`;
};
const hex = (a: bigint) => a.toString(16).padStart(16, "0");

/** addr2line's inline chain (innermost first) for every byte of `fn`, straight from the tool. */
async function chains(fn: string): Promise<{ addr: bigint; chain: { fn: string; line: number }[] }[]> {
  const { start, size } = nm.get(fn)!;
  const addrs = Array.from({ length: Number(size) }, (_, i) => `0x${(start + BigInt(i)).toString(16)}`);
  const out = await exec("addr2line", ["-a", "-f", "-i", "-e", prog, ...addrs]);
  const res: { addr: bigint; chain: { fn: string; line: number }[] }[] = [];
  const lines = out.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (/^0x/.test(lines[i]!)) res.push({ addr: BigInt(lines[i]!), chain: [] });
    else if (lines[i] && res.length > 0) {
      res.at(-1)!.chain.push({ fn: lines[i]!, line: Number(/:(\d+)/.exec(lines[i + 1] ?? "")?.[1] ?? 0) });
      i++;
    }
  }
  return res;
}

/** The return address after the last instruction of `fn` on line `line` (of function `inner`). */
async function returnAfter(fn: string, inner: string, line: number): Promise<bigint> {
  const hits = (await chains(fn)).filter((c) => c.chain[0]?.fn === inner && c.chain[0].line === line);
  assert.ok(hits.length > 0, `no address of ${fn} is on ${inner} line ${line}`);
  return hits.at(-1)!.addr + 1n;
}

// The crash the tests resolve, built once prog is compiled.
let ipText = "";
let dumpIp = 0n;
let lockRet = 0n;
let guiltyRet = 0n;
let frames: FrameRef[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "legowatch-symbolize-"));
  prog = join(dir, "prog");
  await writeFile(join(dir, "prog.c"), SOURCE);
  try {
    await run("gcc", ["-g", "-O2", "-fno-omit-frame-pointer", "-o", prog, join(dir, "prog.c")], { cwd: dir });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    haveGcc = false;
    return;
  }
  for (const l of (await exec("nm", ["-S", "--defined-only", prog])).split("\n")) {
    const [addr, size, , name] = l.trim().split(/\s+/);
    if (name && size) nm.set(name, { start: BigInt(`0x${addr}`), size: BigInt(`0x${size}`) });
  }
  dumpIp = (await chains("dump_stack")).find((c) => c.chain[0]?.line === lineOf("DUMP"))!.addr;
  lockRet = await returnAfter("_raw_spin_lock", "lock_debug", lineOf("LOCK"));
  guiltyRet = await returnAfter("guilty_fn", "take", lineOf("HELPER"));
  ipText = `RIP: 0010:[<${hex(dumpIp)}>]  [<${hex(dumpIp)}>] ${symAt("dump_stack", dumpIp)}`;
  frames = [
    { sym: symAt("_raw_spin_lock", lockRet), fn: "_raw_spin_lock", addr: hex(lockRet), reliable: true },
    { sym: symAt("dump_stack", nm.get("dump_stack")!.start), fn: "dump_stack", reliable: false },
    { sym: symAt("guilty_fn", guiltyRet), fn: "guilty_fn", addr: hex(guiltyRet), reliable: true },
  ];
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("ImageSymbolizer against a real gcc build", () => {
  it("resolves the IP and each return address to its file:line, inlined helper included", async (t) => {
    if (!haveGcc) return t.skip("gcc not found");
    const s = await new ImageSymbolizer(prog).resolve(frames, ipText);
    assert.equal(s.note, undefined);
    assert.ok(s.ip);
    assert.equal(s.ip.fn, "dump_stack");
    assert.deepEqual(
      s.ip.locs.map((l) => [l.fn, l.line, l.inlined]),
      [["dump_stack", lineOf("DUMP"), false]],
    );
    assert.ok(s.ip.locs[0]!.file.endsWith("/prog.c"));

    const [lock, dump, guilty] = s.frames;
    assert.deepEqual(
      lock!.locs.map((l) => [l.fn, l.line, l.inlined]),
      [
        ["lock_debug", lineOf("LOCK"), true],
        ["_raw_spin_lock", lineOf("LOCKCALL"), false],
      ],
    );
    // A `?` frame at a function's own start (offset 0 is not stepped back).
    assert.equal(dump!.locs[0]?.fn, "dump_stack");
    // The call in guilty_fn came from take(), inlined: innermost first, then the line that called it.
    assert.deepEqual(
      guilty!.locs.map((l) => [l.fn, l.line, l.inlined]),
      [
        ["take", lineOf("HELPER"), true],
        ["guilty_fn", lineOf("CALLER"), false],
      ],
    );
    assert.ok(guilty!.locs.every((l) => l.file.endsWith("/prog.c")));
    assert.deepEqual(
      s.frames.map((f) => [f.sym, f.fn]),
      frames.map((f) => [f.sym, f.fn]),
    );
  });

  it("steps a return address back into its call, but not the IP", async (t) => {
    if (!haveGcc) return t.skip("gcc not found");
    const sym = new ImageSymbolizer(prog);
    const asFrame = await sym.resolve([{ sym: symAt("guilty_fn", guiltyRet), fn: "guilty_fn" }]);
    const asIp = await sym.resolve([], symAt("guilty_fn", guiltyRet - 1n));
    assert.deepEqual(asIp.ip?.locs, asFrame.frames[0]!.locs);
    // The return address itself is already past the call, on guilty_fn's next line.
    const raw = await sym.resolve([], symAt("guilty_fn", guiltyRet));
    assert.notDeepEqual(raw.ip?.locs, asFrame.frames[0]!.locs);
  });

  it("chooses the guilty location past the lock and stack-dump plumbing", async (t) => {
    if (!haveGcc) return t.skip("gcc not found");
    const s = await new ImageSymbolizer(prog).resolve(frames, ipText);
    assert.ok(s.guilty);
    assert.equal(s.guilty.fn, "take");
    assert.equal(s.guilty.line, lineOf("HELPER"));
    assert.ok(s.guilty.file.endsWith("/prog.c"));
    // lock_debug() is no plumbing by name, but it was inlined into _raw_spin_lock, which is: not
    // guilty either. Without guilty_fn's frame there is no one left to blame.
    const plumbing = await new ImageSymbolizer(prog).resolve(frames.slice(0, 2), ipText);
    assert.equal(plumbing.guilty, undefined);
  });

  it("reads the IP from any of the kernel's spellings", async (t) => {
    if (!haveGcc) return t.skip("gcc not found");
    const sym = new ImageSymbolizer(prog);
    const texts = [
      ipText,
      symAt("dump_stack", dumpIp),
      `[<${hex(dumpIp)}>] ${symAt("dump_stack", dumpIp)}`,
      `[<${hex(dumpIp)}>]`,
      hex(dumpIp),
    ];
    for (const text of texts) {
      const s = await sym.resolve([], text);
      assert.equal(s.ip?.fn, "dump_stack", text);
      assert.equal(s.ip?.locs[0]?.line, lineOf("DUMP"), text);
    }
  });

  it("uses the printed address when the symbol is unknown, and a size that differs from nm's", async (t) => {
    if (!haveGcc) return t.skip("gcc not found");
    const s = await new ImageSymbolizer(prog).resolve([
      { sym: "renamed_fn+0x5/0x20", fn: "renamed_fn", addr: hex(guiltyRet) },
      { sym: symAt("guilty_fn", guiltyRet).replace(/\/0x\w+$/, "/0x999"), fn: "guilty_fn" },
      { sym: "renamed_fn+0x5/0x20", fn: "renamed_fn" },
    ]);
    assert.equal(s.frames[0]!.locs[0]?.line, lineOf("HELPER"));
    assert.equal(s.frames[1]!.locs[0]?.line, lineOf("HELPER"));
    assert.deepEqual(s.frames[2]!.locs, []);
    assert.equal(s.note, undefined);
  });

  it("runs nm once and each address once: a crash seen again runs no process", async (t) => {
    if (!haveGcc) return t.skip("gcc not found");
    const calls: string[] = [];
    const counting = (file: string, args: string[]) => {
      calls.push(file);
      return exec(file, args);
    };
    const sym = new ImageSymbolizer(prog, { exec: counting });
    const first = await sym.resolve(frames, ipText);
    assert.deepEqual(calls, ["nm", "addr2line"]);
    const again = await sym.resolve(frames, ipText);
    assert.deepEqual(calls, ["nm", "addr2line"]);
    assert.deepEqual(again, first);
    // One new address: one more addr2line, nm stays loaded.
    await sym.resolve([...frames, { sym: symAt("main", nm.get("main")!.start + 4n), fn: "main" }]);
    assert.deepEqual(calls, ["nm", "addr2line", "addr2line"]);
  });

  it("gives the same answer through llvm-symbolizer, asked for or when addr2line is missing", async (t) => {
    if (!haveGcc) return t.skip("gcc not found");
    try {
      await exec("llvm-symbolizer", ["--version"]);
    } catch {
      return t.skip("llvm-symbolizer not found");
    }
    const want = await new ImageSymbolizer(prog).resolve(frames, ipText);
    const asked = await new ImageSymbolizer(prog, { tool: "llvm-symbolizer" }).resolve(frames, ipText);
    assert.deepEqual(asked, want);
    const calls: string[] = [];
    const noAddr2line = (file: string, args: string[]) => {
      calls.push(file);
      return exec(file === "addr2line" ? "legowatch-no-such-addr2line" : file, args);
    };
    const fallback = await new ImageSymbolizer(prog, { exec: noAddr2line }).resolve(frames, ipText);
    assert.deepEqual(fallback, want);
    assert.deepEqual(calls, ["nm", "addr2line", "llvm-symbolizer"]);
  });
});

describe("ImageSymbolizer never rejects", () => {
  it("notes a missing image", async () => {
    const image = join(tmpdir(), "legowatch-no-such-dir", "vmlinux");
    const s = await new ImageSymbolizer(image).resolve(
      [{ sym: "fit_poll_cq+0x4ad/0x510", fn: "fit_poll_cq" }],
      "x",
    );
    assert.equal(s.note, `vmlinux ${image}: not found; frames left unresolved`);
    assert.deepEqual(s.frames, [{ sym: "fit_poll_cq+0x4ad/0x510", fn: "fit_poll_cq", locs: [] }]);
    assert.equal(s.guilty, undefined);
  });

  it("notes an image that is not an object file", async () => {
    const image = join(dir || tmpdir(), "not-elf");
    await writeFile(image, "not an ELF file\n");
    try {
      const s = await new ImageSymbolizer(image).resolve([{ sym: "f+0x1/0x2", fn: "f", addr: "1234" }]);
      assert.match(s.note ?? "", /^.*not-elf: unreadable \(.+\); frames left unresolved$/);
      assert.deepEqual(s.frames[0]!.locs, []);
    } finally {
      if (!dir) await rm(image, { force: true });
    }
  });

  it("notes an image without debug info, built without -g or stripped", async (t) => {
    if (!haveGcc) return t.skip("gcc not found");
    const nodebug = join(dir, "prog-nodebug");
    const stripped = join(dir, "prog-stripped");
    await run("gcc", ["-O2", "-fno-omit-frame-pointer", "-o", nodebug, join(dir, "prog.c")]);
    await run("strip", ["-o", stripped, prog]);
    for (const image of [nodebug, stripped]) {
      const s = await new ImageSymbolizer(image).resolve(frames, ipText);
      assert.equal(s.note, `${image} has no debug info (build with CONFIG_DEBUG_INFO)`);
      assert.ok(s.frames.every((f) => f.locs.length === 0));
      assert.equal(s.guilty, undefined);
    }
  });

  it("notes missing tools", async (t) => {
    if (!haveGcc) return t.skip("gcc not found");
    const missing = (file: string, args: string[]) => exec(`legowatch-no-such-${file}`, args);
    const s = await new ImageSymbolizer(prog, { exec: missing }).resolve(frames, ipText);
    assert.equal(s.note, "addr2line and llvm-symbolizer not found: frames left unresolved");
    assert.ok(s.frames.every((f) => f.locs.length === 0));
    const noSymbolizer = (file: string, args: string[]) =>
      exec(file === "nm" ? file : `legowatch-no-such-${file}`, args);
    const sym = new ImageSymbolizer(prog, { exec: noSymbolizer, tool: "llvm-symbolizer" });
    const u = await sym.resolve(frames, ipText);
    assert.equal(u.note, "llvm-symbolizer and addr2line not found: frames left unresolved");
    // Still a note, not a retry that throws, the second time.
    assert.equal((await sym.resolve(frames, ipText)).note, u.note);
    // Without nm, only frames that carry their address resolve.
    const noNm = (file: string, args: string[]) => exec(file === "nm" ? "legowatch-no-such-nm" : file, args);
    const v = await new ImageSymbolizer(prog, { exec: noNm }).resolve(frames, ipText);
    assert.equal(v.note, "nm not found: frames without an address left unresolved");
    assert.equal(v.frames[2]!.locs[0]?.line, lineOf("HELPER"));
    assert.deepEqual(v.frames[1]!.locs, []);
  });
});

describe("isSkippedFrame", () => {
  const skipped: [string, string?][] = [
    ["_raw_spin_lock"],
    ["_raw_spin_unlock_irqrestore"],
    ["spin_lock_irqsave"],
    ["do_raw_spin_lock"],
    ["queued_spin_lock"],
    ["mutex_lock"],
    ["__mutex_lock_slowpath"],
    ["down"],
    ["down_read"],
    ["up_write"],
    ["schedule"],
    ["__schedule"],
    ["schedule_timeout"],
    ["io_schedule"],
    ["panic"],
    ["__warn"],
    ["warn_slowpath_null"],
    ["report_bug"],
    ["dump_stack"],
    ["__dump_stack"],
    ["show_stack"],
    ["__die"],
    ["die"],
    ["oops_end"],
    ["do_trap"],
    ["do_error_trap"],
    ["do_general_protection"],
    ["do_invalid_op"],
    ["no_context"],
    ["__bad_area_nosemaphore"],
    ["bad_area_access_error"],
    ["page_fault"],
    ["do_page_fault"],
    ["__do_page_fault"],
    ["async_page_fault"],
    ["kthread"],
    ["ret_from_fork"],
    ["ib_poll_cq"],
    ["fit_poll_cq_pass"],
    ["helper", "/build/linux/kernel/locking/spinlock.c"],
    ["helper", "kernel/sched/core.c"],
    ["helper", "/build/linux/lib/dump_stack.c"],
    ["helper", "/build/linux/kernel/panic.c"],
    ["helper", "/build/linux/arch/x86/kernel/dumpstack_64.c"],
    ["helper", "/build/linux/arch/x86/kernel/dumpstack.c"],
    ["helper", "/build/linux/arch/x86/kernel/traps.c"],
    ["helper", "/build/linux/arch/x86/mm/fault.c"],
  ];
  const kept: [string, string?][] = [
    ["fit_poll_cq"],
    ["fit_poll_cq", "/build/lego/net/lego/fit_internal.c"],
    ["task_tick_rt", "/build/lego/kernel/schedx/rt.c"],
    ["update_curr"],
    ["upload_fw"],
    ["download"],
    ["downgrade_write_path"],
    ["native_smp_send_reschedule"],
    ["kthread_worker_fn"],
    ["mutex"],
    ["helper", "/build/mykernel/locking/a.c"],
    ["helper", "/build/linux/kernel/locking.c"],
    ["helper", "/build/linux/arch/x86/kernel/traps_extra.c"],
  ];
  it("skips locking, scheduler, report and IB/FIT plumbing", () => {
    for (const [fn, file] of skipped) assert.equal(isSkippedFrame(fn, file), true, `${fn} ${file ?? ""}`);
  });
  it("keeps everything else", () => {
    for (const [fn, file] of kept) assert.equal(isSkippedFrame(fn, file), false, `${fn} ${file ?? ""}`);
  });
});

describe("legowatch scan --vmlinux", () => {
  it("prints a kernel-style crash's frames with file:line, an inlined one included, and the guilty line", async (t) => {
    if (!haveGcc) return t.skip("gcc not found");
    // The report as a LegoOS kernel prints it, its addresses taken from prog.
    const stamp = (n: number) => `[  100.${String(n).padStart(6, "0")}]`;
    const log = join(dir, "M.log");
    await writeFile(
      log,
      `${[
        `${stamp(1)} BUG: unable to handle kernel NULL pointer dereference at 0000000000000020`,
        `${stamp(2)} IP: [<${hex(dumpIp)}>] ${symAt("dump_stack", dumpIp)}`,
        `${stamp(3)} Oops: 0002 [#1] SMP PROCESSOR`,
        `${stamp(4)} CPU: 4 PID: 17 Comm: recvpollcq 4.0.0-lego+ #1`,
        `${stamp(5)} Call Trace:`,
        // As 4.x kernels print them: ` [<address>] ? function+0xoff/0xsize` for a frame the unwinder doubts.
        ...frames.map(
          (f, i) => `${stamp(6 + i)}  [<${f.addr ?? hex(0n)}>] ${f.reliable ? "" : "? "}${f.sym}`,
        ),
        `${stamp(20)} after the report`,
      ].join("\n")}\n`,
    );
    const cli = (...args: string[]) =>
      run(process.execPath, ["--import", "tsx", "src/cli.ts", "scan", ...args], {
        cwd: join(import.meta.dirname, "../.."),
      });
    const { stdout } = await cli("--json", "--vmlinux", `M=${prog}`, `M=${log}`);
    const crash = stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.type === "crash") as {
      frames: { fn: string; file?: string; line?: number }[];
      guilty_file?: string;
    };
    assert.ok(crash, stdout);
    const src = join(dir, "prog.c");
    assert.deepEqual(
      crash.frames.map((f) => [f.fn, f.file, f.line]),
      [
        ["_raw_spin_lock", src, lineOf("LOCK")],
        ["dump_stack", src, lineOf("DUMP")],
        ["guilty_fn", src, lineOf("HELPER")],
      ],
    );
    assert.equal(crash.guilty_file, `${src}:${lineOf("HELPER")}`);
    // The text summary names the guilty line too.
    const text = (await cli("--vmlinux", `M=${prog}`, `M=${log}`)).stdout;
    assert.match(
      text,
      new RegExp(`guilty ${src.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${lineOf("HELPER")}`),
    );
  });
});
