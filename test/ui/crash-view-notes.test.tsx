import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { render } from "ink-testing-library";
import stripAnsi from "strip-ansi";
import { CrashKnowledge } from "../../src/crash/knowledge.js";
import { CrashStore } from "../../src/crash/store.js";
import { Pipeline } from "../../src/pipeline.js";
import { CrashView } from "../../src/ui/components/crash-view.js";
import { ModelContext } from "../../src/ui/hooks/use-model.js";
import { UiModel } from "../../src/ui/model.js";

// A guilty function with a helper the compiler inlines into it; the markers name the expected lines.
const SOURCE = `volatile int sink;
static inline __attribute__((always_inline)) void helper(int v)
{
	sink = v * 7; /* HELPER */
}
__attribute__((noinline)) void guilty_fn(int v)
{
	helper(v + 1); /* CALLER */
	sink++;
}
int main(int argc, char **argv) { (void)argv; guilty_fn(argc); return 0; }
`;
const lineOf = (m: string) => SOURCE.split("\n").findIndex((l) => l.includes(`/* ${m} */`)) + 1;

const dir = mkdtempSync(join(tmpdir(), "legowatch-crash-notes-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let haveGcc = true;
const prog = join(dir, "prog");
try {
  writeFileSync(join(dir, "prog.c"), SOURCE);
  execFileSync("gcc", ["-g", "-O2", "-o", prog, join(dir, "prog.c")], { stdio: "ignore" });
} catch {
  haveGcc = false;
}

/** An address in guilty_fn on the helper's line, inlined (as addr2line says), and `sym+off/size` for any address. */
function inlinedSite(): { addr: bigint; sym: (a: bigint) => string } {
  const nm = execFileSync("nm", ["-S", "--defined-only", prog], { encoding: "utf8" });
  const row = nm
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .find((p) => p[3] === "guilty_fn")!;
  const start = BigInt(`0x${row[0]}`);
  const size = BigInt(`0x${row[1]}`);
  const sym = (a: bigint) => `guilty_fn+0x${(a - start).toString(16)}/0x${size.toString(16)}`;
  for (let off = 0n; off < size; off++) {
    const out = execFileSync("addr2line", ["-f", "-i", "-e", prog, `0x${(start + off).toString(16)}`], {
      encoding: "utf8",
    });
    if (out.startsWith("helper\n") && out.includes(`:${lineOf("HELPER")}`)) return { addr: start + off, sym };
  }
  throw new Error("no inlined helper address in guilty_fn");
}

describe("CrashView with what legowatch learnt about the crash", () => {
  it("shows its history, the guilty line, and each frame's file:line with the inlined call", async (t) => {
    if (!haveGcc) return t.skip("gcc not found");
    const site = inlinedSite();
    const hex = (a: bigint) => a.toString(16).padStart(16, "0");
    const s = (k: number) => `[  100.${String(k).padStart(6, "0")}]`;
    const log = [
      `${s(1)} BUG: unable to handle kernel NULL pointer dereference at 0000000000000020`,
      `${s(2)} IP: [<${hex(site.addr)}>] ${site.sym(site.addr)}`,
      `${s(3)} Oops: 0002 [#1] SMP PROCESSOR`,
      `${s(4)} CPU: 4 PID: 17 Comm: recvpollcq 4.0.0-lego+ #1`,
      `${s(5)} Call Trace:`,
      // A return address just past the site: looked up one byte back, in the call.
      `${s(6)}  [<${hex(site.addr + 1n)}>] ${site.sym(site.addr + 1n)}`,
      "",
    ].join("\n");
    const knowledge = new CrashKnowledge({
      vmlinux: { N: prog },
      store: new CrashStore(join(dir, "store")),
      session: "test",
    });
    let model: UiModel | undefined;
    const pipeline = new Pipeline({
      onLine: (l) => model?.onLine(l),
      onEvent: (e) => {
        model?.onEvent(e);
        void knowledge.offer(e);
      },
      onAlert: (a) => model?.onAlert(a),
    });
    model = new UiModel(pipeline.engine, () => 1_700_000_000_000);
    model.knowledge = knowledge;
    pipeline.push("N", log);
    pipeline.end();
    await knowledge.settle();
    model.flush();
    const alert = model.engine.all.find((a) => a.rule === "crash")!;
    const r = render(
      <ModelContext.Provider value={model}>
        <CrashView width={120} height={30} alertId={alert.id} scroll={0} />
      </ModelContext.Provider>,
    );
    const frame = stripAnsi(r.lastFrame() ?? "");
    const src = join(dir, "prog.c");
    assert.match(frame, /^history {2}new$/m);
    assert.match(
      frame,
      new RegExp(`^ip {7}guilty_fn\\+0x[0-9a-f]+/0x[0-9a-f]+  ${src}:${lineOf("HELPER")}$`, "m"),
    );
    assert.match(frame, new RegExp(`^guilty {3}helper  ${src}:${lineOf("HELPER")}$`, "m"));
    assert.match(frame, new RegExp(`^ {2}\\(inlined\\) helper  ${src}:${lineOf("HELPER")}$`, "m"));
    assert.match(
      frame,
      new RegExp(`^ {2}guilty_fn\\+0x[0-9a-f]+/0x[0-9a-f]+ +[0-9a-f]{16}  ${src}:${lineOf("CALLER")}$`, "m"),
    );
    r.unmount();
  });
});
