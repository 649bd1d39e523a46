import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { StuckWorkerEvent } from "../../src/parse/events.js";
import { baseOf } from "../../src/parse/family.js";
import { createStuckFamily, opName, stuckFamily } from "../../src/parse/stuck.js";
import { lines, parseBlocks } from "../helpers.js";

const SEED = new URL("../fixtures/seed/", import.meta.url);
const seedNames = () => readdirSync(SEED).filter((n) => n.endsWith(".log"));

const stuck = (text: string, family = createStuckFamily()) => parseBlocks(family, text) as StuckWorkerEvent[];

const DUMP = [
  "[ 1234.011340] CPU: 12 PID: 23 Comm: thpool-worker1 4.0.0-lego+ #51",
  "[ 1234.018030] RIP: 0010:[<ffffffff81071c3e>]  [<ffffffff81071c3e>] fit_internal_poll_sendcq+0x6e/0x130",
  "[ 1234.018100] RSP: 0000:ffff88103e4c3d78  EFLAGS: 00000046",
  "[ 1234.018200] RAX: 0000000000000000 RBX: ffff88103e4c3e00 RCX: 0000000000000001",
  "[ 1234.018300] RDX: 0000000000000000 RSI: ffff88103e4c3d90 RDI: ffff881037a1c000",
  "[ 1234.018400] RBP: ffff88103e4c3dd0 R08: 0000000000000000 R09: 0000000000000000",
  "[ 1234.018500] R10: 0000000000000000 R11: 0000000000000000 R12: ffff881037a1c000",
  "[ 1234.018600] R13: 0000000000000001 R14: 0000000000000000 R15: 0000000000000000",
  "[ 1234.018700] FS:  0000000000000000(0000) GS:ffff88107fcc0000(0000) knlGS:0000000000000000",
  "[ 1234.018800] CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033",
  "[ 1234.018900] CR2: 0000000000000000 CR3: 0000000001ed1000 CR4: 00000000000406a0",
  "[ 1234.019000] Stack:",
  "[ 1234.019100] ffff88103e4c3e00 ffff881037a1c000 0000000000000001 ffff88103e4c3e18",
  "[ 1234.019200] Call Trace:",
  "[ 1234.019300] <TSK>",
  "[ 1234.019400] [<ffffffff81071d9e>] fit_send_reply_with_rdma_write_with_imm+0x10e/0x3a0",
  "[ 1234.019500] [<ffffffff8102a1b3>] ? handle_p2m_flush_one+0x53/0x90",
  "[ 1234.019600] <EOT>",
  "[ 1234.019700] Code: 48 8b 45 b0 48 8b 40 08 <8b> 00 85 c0 75 f2",
];

const APRIL_DUMP = [
  "[ 5220.267911] CPU: 4 PID: 31 Comm: thpool-worker0 4.0.0-lego-ys+ #237",
  "[ 5220.294960] RIP: 0010:[<ffffffff8104a6d8>]  [<ffffffff8104a6d8>] mlx4_ib_poll_cq+0x378/0x6a0",
  "[ 5220.295000] RSP: 0018:ffff88103e4c3d78  EFLAGS: 00000046",
];

const FOREIGN = "[ 1239.000000] Freeram: 0x3e8f21";

describe("stuck-worker report, HEAD order (`watchdog:`, dump before `msg`)", () => {
  it("`watchdog: worker[%d] CPU%2d stucked` + common_header + dump, op PCACHE_FLUSH, ends at a foreign line", () => {
    const text = [
      "[ 1234.000000] watchdog: worker[1] CPU12 stucked",
      "[ 1234.004850] watchdog:  common_header [op=0x30000000 src_nid:2]",
      ...DUMP,
      FOREIGN,
    ].join("\n");
    const es = stuck(text);
    assert.equal(es.length, 1);
    const e = es[0]!;
    assert.equal(e.type, "stuck_worker");
    assert.deepEqual([e.worker, e.cpu, e.op, e.opName, e.srcNid], [1, 12, 0x30000000, "PCACHE_FLUSH", 2]);
    assert.equal(e.rip, "fit_internal_poll_sendcq+0x6e/0x130");
    // The dump's call trace, for symbolizing: `?` frames marked unreliable.
    assert.deepEqual(
      e.frames?.map((f) => [f.addr, f.sym, f.fn, f.reliable]),
      [
        [
          "ffffffff81071d9e",
          "fit_send_reply_with_rdma_write_with_imm+0x10e/0x3a0",
          "fit_send_reply_with_rdma_write_with_imm",
          true,
        ],
        ["ffffffff8102a1b3", "handle_p2m_flush_one+0x53/0x90", "handle_p2m_flush_one", false],
      ],
    );
    assert.equal(e.vaddr, undefined);
    assert.equal(e.repeat, 1);
    assert.equal(e.truncated, undefined);
    assert.deepEqual([e.ts, e.line], [1234, 1]);
  });

  it("a pcache miss closes at its `watchdog:  msg [pid=%u,tgid=%u,flags=%#x,vaddr=%#Lx]` line", () => {
    const family = createStuckFamily();
    const ls = lines(
      [
        "[ 1234.000000] watchdog: worker[0] CPU 3 stucked",
        "[ 1234.004850] watchdog:  common_header [op=0x20000000 src_nid:0]",
        ...DUMP,
        "[ 1234.020000] watchdog:  msg [pid=21,tgid=21,flags=0x51,vaddr=0xffffffffff7fdfb8]",
      ].join("\n"),
    );
    const block = family.open(ls[0]!, baseOf(ls[0]!))!;
    const feeds = ls.slice(1).map((l) => block.feed(l));
    assert.equal(feeds.at(-1), "done");
    assert.ok(feeds.slice(0, -1).every((f) => f === "take"));
    const [e] = block.close(false) as StuckWorkerEvent[];
    assert.deepEqual([e!.cpu, e!.opName, e!.pid, e!.tgid, e!.flags], [3, "PCACHE_MISS", 21, 21, 0x51]);
    assert.equal(e!.vaddr, 0xffffffffff7fdfb8n);
    assert.equal(e!.truncated, undefined);
  });

  it("a report cut before its dump is truncated (the stuck CPU has interrupts off)", () => {
    const es = stuck(
      [
        "[ 1234.000000] watchdog: worker[1] CPU12 stucked",
        "[ 1234.004850] watchdog:  common_header [op=0 src_nid:2]",
      ].join("\n"),
    );
    assert.equal(es.length, 1);
    assert.deepEqual([es[0]!.op, es[0]!.opName, es[0]!.rip, es[0]!.truncated], [0, "read", undefined, true]);
  });
});

describe("stuck-worker report, April order (`hb:`, dump after `msg`)", () => {
  it("`hb: worker[%d] CPU%2d stucked` with `CPU 4`, msg, then the dump", () => {
    const text = [
      "[ 5220.250552] hb: worker[0] CPU 4 stucked",
      "[ 5220.254819] hb:  common_header [op=0x20000000 src_nid:0]",
      "[ 5220.260734] hb:  msg [pid=21,tgid=21,flags=0x51,vaddr=0x7fff7b7fdfb8]",
      ...APRIL_DUMP,
      "[ 5222.000000] hb: worker[0] max_nr_queued=3 nr_queued=2 in_handler=yes",
    ].join("\n");
    const es = stuck(text);
    assert.equal(es.length, 1);
    const e = es[0]!;
    assert.deepEqual(
      [e.worker, e.cpu, e.opName, e.srcNid, e.pid, e.vaddr],
      [0, 4, "PCACHE_MISS", 0, 21, 0x7fff7b7fdfb8n],
    );
    assert.equal(e.rip, "mlx4_ib_poll_cq+0x378/0x6a0");
    assert.equal(e.truncated, undefined);
  });

  it("a syscall op has neither msg nor dump and closes at common_header", () => {
    const family = createStuckFamily();
    const ls = lines(
      "[ 1234.000000] hb: worker[2] CPU11 stucked\n[ 1234.000100] hb:  common_header [op=0x9 src_nid:1]",
    );
    const block = family.open(ls[0]!, baseOf(ls[0]!))!;
    assert.equal(block.feed(ls[1]!), "done");
    const [e] = block.close(false) as StuckWorkerEvent[];
    assert.deepEqual([e!.worker, e!.cpu, e!.op, e!.opName, e!.srcNid], [2, 11, 9, "mmap", 1]);
    assert.equal(e!.truncated, undefined);
  });

  it("`hb: worker[%d] stucked` (2018-04-10, no CPU)", () => {
    const es = stuck(
      [
        "[ 1234.000000] hb: worker[0] stucked",
        "[ 1234.000100] hb:  common_header [op=0x30000001 src_nid:0]",
      ].join("\n"),
    );
    assert.deepEqual([es[0]!.worker, es[0]!.cpu, es[0]!.opName], [0, undefined, "REPLICA"]);
  });

  it("a pcache miss cut before its msg is truncated", () => {
    const es = stuck(
      [
        "[ 1234.000000] hb: worker[0] CPU 4 stucked",
        "[ 1234.000100] hb:  common_header [op=0x20000000 src_nid:0]",
      ].join("\n"),
    );
    assert.equal(es[0]!.truncated, true);
  });
});

describe("stuck-worker repeats", () => {
  const report = (worker: number, vaddr: string) =>
    [
      `[ 1234.000000] hb: worker[${worker}] CPU 4 stucked`,
      "[ 1234.000100] hb:  common_header [op=0x20000000 src_nid:0]",
      `[ 1234.000200] hb:  msg [pid=21,tgid=21,flags=0x51,vaddr=${vaddr}]`,
      ...APRIL_DUMP,
    ].join("\n");

  it("numbers identical consecutive reports and restarts on a new one", () => {
    const family = createStuckFamily();
    const text = [report(0, "0x1000"), report(0, "0x1000"), report(0, "0x1000"), report(0, "0x2000")].join(
      "\n",
    );
    assert.deepEqual(
      stuck(text, family).map((e) => e.repeat),
      [1, 2, 3, 1],
    );
    // The family remembers across calls: the node's next tick continues the count.
    assert.deepEqual(
      stuck(report(0, "0x2000"), family).map((e) => e.repeat),
      [2],
    );
  });

  it("two stuck workers, whose reports alternate, keep their own counts", () => {
    const text = [report(0, "0x1000"), report(1, "0x3000"), report(0, "0x1000"), report(1, "0x3000")].join(
      "\n",
    );
    assert.deepEqual(
      stuck(text).map((e) => [e.worker, e.repeat]),
      [
        [0, 1],
        [1, 1],
        [0, 2],
        [1, 2],
      ],
    );
  });
});

describe("opcode names", () => {
  it("decodes the F4 table", () => {
    const cases: [number, string | undefined][] = [
      [0x10000000, "HEARTBEAT"],
      [0x30000002, "ZEROFILL"],
      [1, "write"],
      [12, "brk"],
      [57, "fork"],
      [600, "checkpoint"],
      [611, "drop_page_cache"],
      [0x40000001, "M2M_MMAP"],
      [0x40000009, "M2M_VALIDATE"],
      [0x0ffffff0, "TEST"],
      [0x0ffffff1, "TEST_NOREPLY"],
      [0x12345, undefined],
    ];
    for (const [op, name] of cases) assert.equal(opName(op), name, op.toString(16));
  });
});

describe("stuck-worker over the seed", () => {
  it("no seed excerpt holds a report; author notes give nothing", () => {
    for (const name of seedNames()) {
      assert.deepEqual(stuck(readFileSync(new URL(name, SEED), "utf8")), [], name);
    }
  });
});

const REAL = [
  "[ 1234.000000] watchdog: worker[1] CPU12 stucked",
  "[ 1234.004850] watchdog:  common_header [op=0x20000000 src_nid:2]",
  "[ 5220.250552] hb: worker[0] CPU 4 stucked",
  "[ 5220.254819] hb:  common_header [op=0x20000000 src_nid:0]",
  "[ 5220.260734] hb:  msg [pid=21,tgid=21,flags=0x51,vaddr=0x7fff7b7fdfb8]",
  "hb: worker[0] stucked",
  ...DUMP,
  FOREIGN,
];

describe("stuck-worker robustness", () => {
  it("never throws on arbitrary line sequences", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom(...REAL)), { maxLength: 60 }), (ls) => {
        for (const e of parseBlocks(stuckFamily, ls.join("\n")) as StuckWorkerEvent[])
          assert.ok(e.repeat >= 1);
      }),
    );
  });
});
