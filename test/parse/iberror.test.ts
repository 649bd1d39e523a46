import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { baseOf } from "../../src/parse/family.js";
import { ibErrorFamily, lostCqeFamily } from "../../src/parse/iberror.js";
import { body, line, parseBlocks, parseLines, seedNotes } from "../helpers.js";

const SEED = new URL("../fixtures/seed/", import.meta.url);

function one(text: string): Record<string, unknown> {
  const evs = parseLines(ibErrorFamily, text);
  assert.equal(evs.length, 1, `expected one event from ${JSON.stringify(text)}`);
  return body(evs[0]!);
}

/** Parses one line without the key prefilter, as a direct caller might. */
function direct(text: string) {
  const l = line(text);
  return ibErrorFamily.parse(l, baseOf(l));
}

describe("IB error family, April FIT (F7)", () => {
  it('"send request failed at connection %d as %d"', () => {
    assert.deepEqual(one("[  847.170590] send request failed at connection 7 as 12"), {
      type: "ib_error",
      kind: "send-failed",
      connection: 7,
      status: 12,
    });
  });

  it('"poll send_cq failed at connection %d"', () => {
    assert.deepEqual(one("[ 1234.000000] poll send_cq failed at connection 9"), {
      type: "ib_error",
      kind: "poll-failed",
      connection: 9,
    });
  });

  it('"%s: failed status (%d) for wr_id %d" from fit_poll_cq and sock_poll_cq, with and without fit:', () => {
    assert.deepEqual(one("[  847.393146] fit_poll_cq: failed status (5) for wr_id 1832"), {
      type: "ib_error",
      kind: "failed-status",
      fn: "fit_poll_cq",
      status: 5,
      wrId: 1832,
    });
    assert.deepEqual(one("[ 1234.000000] fit: sock_poll_cq: failed status (12) for wr_id 7"), {
      type: "ib_error",
      kind: "failed-status",
      fn: "sock_poll_cq",
      status: 12,
      wrId: 7,
    });
  });

  it('"%s: connection %d Recv weird event as %d"', () => {
    assert.deepEqual(one("[  847.654179] fit_poll_cq: connection 7 Recv weird event as -30704"), {
      type: "ib_error",
      kind: "weird-event",
      fn: "fit_poll_cq",
      connection: 7,
      opcode: -30704,
    });
  });

  it('"Error: cannot find qp number %d" and "poll CQ failed %d"', () => {
    assert.deepEqual(one("[ 1234.000000] Error: cannot find qp number 80"), {
      type: "ib_error",
      kind: "fit-error",
      qpn: 80,
      detail: "cannot find qp number 80",
    });
    assert.deepEqual(one("[ 1234.000000] poll CQ failed -22"), {
      type: "ib_error",
      kind: "poll-failed",
      code: -22,
    });
  });
});

describe("IB error family, HEAD fit_err (F7)", () => {
  it('"fit: %s()-%d CPU%2d wc.status: %s, wr_id %d"', () => {
    assert.deepEqual(
      one("[ 1234.000000] fit: fit_poll_recv_cq()-1878 CPU 4 wc.status: WR flushed, wr_id 1832"),
      {
        type: "ib_error",
        kind: "wc-status",
        status: "WR flushed",
        wrId: 1832,
        fn: "fit_poll_recv_cq",
        cpu: 4,
      },
    );
  });

  it('"fit: %s()-%d CPU%2d wc.status: %s" on the send CQ', () => {
    assert.deepEqual(
      one(
        "[ 1234.000000] fit: fit_internal_poll_sendcq()-1045 CPU12 wc.status: transport retry counter exceeded",
      ),
      {
        type: "ib_error",
        kind: "wc-status",
        status: "transport retry counter exceeded",
        fn: "fit_internal_poll_sendcq",
        cpu: 12,
      },
    );
  });

  it('"poll_cq error: %d" and "Fail to poll send_cq. Err: %d" are poll failures', () => {
    assert.deepEqual(one("[ 1234.000000] fit: fit_poll_recv_cq()-1868 CPU 4 poll_cq error: -22"), {
      type: "ib_error",
      kind: "poll-failed",
      code: -22,
      fn: "fit_poll_recv_cq",
      cpu: 4,
    });
    assert.deepEqual(
      one(
        "[ 1234.000000] fit: fit_send_message_with_rdma_write_with_imm_request()-1065 CPU 7 Fail to poll send_cq. Err: -110",
      ),
      {
        type: "ib_error",
        kind: "poll-failed",
        code: -110,
        fn: "fit_send_message_with_rdma_write_with_imm_request",
        cpu: 7,
      },
    );
  });

  it('"Unknown wc.wc_flags: %#lx", "Wrong index: %d", "Unknown wc.ex.imm_data: %#lx"', () => {
    assert.deepEqual(one("[ 1234.000000] fit: fit_poll_recv_cq()-1912 CPU 4 Unknown wc.wc_flags: 0x4"), {
      type: "ib_error",
      kind: "fit-error",
      detail: "Unknown wc.wc_flags: 0x4",
      fn: "fit_poll_recv_cq",
      cpu: 4,
    });
    assert.equal(
      one("[ 1234.000000] fit: fit_poll_recv_cq()-1959 CPU 4 Wrong index: 70").detail,
      "Wrong index: 70",
    );
    assert.equal(
      one("[ 1234.000000] fit: fit_poll_recv_cq()-2003 CPU 4 Unknown wc.ex.imm_data: 0x80000001").detail,
      "Unknown wc.ex.imm_data: 0x80000001",
    );
  });

  it('"conn_id: %d Unknown wc.opcode: %d" and "Fail to post recv conn_id: %d"', () => {
    assert.deepEqual(
      one("[ 1234.000000] fit: fit_poll_recv_cq()-2021 CPU 4 conn_id: 3 Unknown wc.opcode: 2"),
      {
        type: "ib_error",
        kind: "fit-error",
        connection: 3,
        opcode: 2,
        detail: "conn_id: 3 Unknown wc.opcode: 2",
        fn: "fit_poll_recv_cq",
        cpu: 4,
      },
    );
    assert.deepEqual(
      one("[ 1234.000000] fit: fit_post_receives_message()-618 CPU 5 Fail to post recv conn_id: 9"),
      {
        type: "ib_error",
        kind: "fit-error",
        connection: 9,
        detail: "Fail to post recv conn_id: 9",
        fn: "fit_post_receives_message",
        cpu: 5,
      },
    );
  });

  it('fit_post_receives_message(): "Fail to post_recv conn_id: %d, i: %d, depth: %d"', () => {
    // HEAD net/lego/fit_internal.c: the main poster says `post_recv`, its socket twin `post recv`.
    assert.deepEqual(
      one(
        "[ 1234.000000] fit: fit_post_receives_message()-370 CPU 5 Fail to post_recv conn_id: 9, i: 3, depth: 128",
      ),
      {
        type: "ib_error",
        kind: "fit-error",
        connection: 9,
        detail: "Fail to post_recv conn_id: 9",
        fn: "fit_post_receives_message",
        cpu: 5,
      },
    );
  });

  it('"Fail to poll send_cq. err=%d" (batched send-CQ poll) and fit_send_message_sge()\'s "Fail to post. ret=%d", "Fail to poll CQ. ret=%d"', () => {
    // fit_internal_poll_sendcq() with CONFIG_FIT_BATCH_POLL_SEND_CQ; fit_send_message_sge() at boot.
    assert.deepEqual(
      one("[ 1234.000000] fit: fit_internal_poll_sendcq()-850 CPU 7 Fail to poll send_cq. err=-22"),
      {
        type: "ib_error",
        kind: "poll-failed",
        code: -22,
        fn: "fit_internal_poll_sendcq",
        cpu: 7,
      },
    );
    assert.deepEqual(one("[   40.100000] fit: fit_send_message_sge()-2510 CPU 0 Fail to post. ret=-12"), {
      type: "ib_error",
      kind: "fit-error",
      code: -12,
      detail: "Fail to post. ret=-12",
      fn: "fit_send_message_sge",
      cpu: 0,
    });
    assert.deepEqual(one("[   40.100000] fit: fit_send_message_sge()-2516 CPU 0 Fail to poll CQ. ret=-22"), {
      type: "ib_error",
      kind: "poll-failed",
      code: -22,
      fn: "fit_send_message_sge",
      cpu: 0,
    });
  });

  it("other fit_err messages (F6's) are not this family's", () => {
    assert.equal(
      direct("[ 1234.000000] fit: ibapi_send_reply()-2470 CPU 3 BUG: NULL addr. Caller: foo+0x1/0x2"),
      null,
    );
  });
});

describe("IB error family, refused posts and the 2018 poller's plain errors", () => {
  it('"Fail to post send to con:%d ret:%d" (HEAD, pr_info_once before a WARN_ON_ONCE)', () => {
    // fit_send_message_with_rdma_write_with_imm_request() when ib_post_send() fails.
    assert.deepEqual(one("[ 1234.000000] fit: Fail to post send to con:14 ret:-12"), {
      type: "ib_error",
      kind: "fit-error",
      connection: 14,
      code: -12,
      detail: "Fail to post send to con:14 ret:-12",
    });
  });

  it('"%s: send fail %d ret %d" and the older "%s: send fail %d"', () => {
    // Mid-2018 fit_send_message_with_rdma_write_with_imm_request() (connection, ret) and
    // sock_send_message_with_rdma_imm() (target node, ret); fit_send_request() has no ret.
    assert.deepEqual(
      one("[ 1234.000000] fit_send_message_with_rdma_write_with_imm_request: send fail 14 ret -12"),
      {
        type: "ib_error",
        kind: "fit-error",
        fn: "fit_send_message_with_rdma_write_with_imm_request",
        detail: "send fail 14",
        connection: 14,
        code: -12,
      },
    );
    assert.deepEqual(one("[ 1234.000000] sock_send_message_with_rdma_imm: send fail 1 ret -12"), {
      type: "ib_error",
      kind: "fit-error",
      fn: "sock_send_message_with_rdma_imm",
      detail: "send fail 1",
      destNode: 1,
      code: -12,
    });
    assert.equal(one("[ 1234.000000] fit_send_request: send fail 13").connection, 13);
    assert.equal(direct("[ 1234.000000] we saw send fail 13 times"), null);
  });

  it('"Wrong index: %d", "Unknown wc[i].ex.imm_data: %#lx", "Unknown wc_flags %#lx" as plain pr_err', () => {
    // fit_poll_cq() between April and fit_err (2018-08/09): no `FUNC()-LINE CPUnn` in front.
    assert.deepEqual(one("[ 1234.000000] Wrong index: 70"), {
      type: "ib_error",
      kind: "fit-error",
      detail: "Wrong index: 70",
    });
    assert.equal(
      one("[ 1234.000000] Unknown wc[i].ex.imm_data: 0x40000012").detail,
      "Unknown wc[i].ex.imm_data: 0x40000012",
    );
    assert.equal(one("[ 1234.000000] Unknown wc_flags 0x0").detail, "Unknown wc_flags 0x0");
  });
});

describe("IB error family, mlx4 (F8)", () => {
  it('"%s syndrome %d", April bare and with the HEAD "<mlx4_ib> FUNC: " prefix', () => {
    assert.deepEqual(one("[30938.564843] mlx4_ib_handle_error_cqe syndrome 21"), {
      type: "ib_error",
      kind: "syndrome",
      fn: "mlx4_ib_handle_error_cqe",
      syndrome: 21,
    });
    assert.deepEqual(
      one("[ 1234.000000] <mlx4_ib> mlx4_ib_handle_error_cqe: mlx4_ib_handle_error_cqe syndrome 5"),
      { type: "ib_error", kind: "syndrome", fn: "mlx4_ib_handle_error_cqe", syndrome: 5 },
    );
  });

  it('"local QP operation err (QPN %06x, WQE index %x, vendor syndrome %02x, opcode = %02x)" is syndrome 2', () => {
    const text =
      "[ 1234.000000] <mlx4_ib> mlx4_ib_handle_error_cqe: local QP operation err (QPN 000050, WQE index 1a, vendor syndrome 6b, opcode = 5e)";
    assert.deepEqual(one(text), {
      type: "ib_error",
      kind: "syndrome",
      fn: "mlx4_ib_handle_error_cqe",
      syndrome: 2,
      qpn: 0x50,
      detail: "local QP operation err, vendor syndrome 6b, opcode 5e",
    });
    const bare = one(
      "[ 1234.000000] local QP operation err (QPN 0000c8, WQE index 0, vendor syndrome 00, opcode = 00)",
    );
    assert.equal(bare.qpn, 0xc8);
    assert.equal(bare.fn, "mlx4_ib_handle_error_cqe");
  });

  it('"CQ_ERROR CQ %s on CQN %06x" (overrun, access violation)', () => {
    assert.deepEqual(one("[ 1234.000000] CQ_ERROR CQ overrun on CQN 0000c5"), {
      type: "ib_error",
      kind: "cq-error",
      detail: "CQ overrun on CQN 0000c5",
    });
    assert.equal(one("[ 1234.000000] CQ_ERROR CQ access violation on CQN 000001").kind, "cq-error");
  });

  it('"EQ overrun on EQN %d" and "event PORT_CHANGE_DOWN arrived"', () => {
    assert.deepEqual(one("[ 1234.000000] EQ overrun on EQN 3"), {
      type: "ib_error",
      kind: "eq-overrun",
      detail: "EQN 3",
    });
    assert.deepEqual(one("[ 1234.000000] event PORT_CHANGE_DOWN arrived"), {
      type: "ib_error",
      kind: "port-down",
    });
  });

  it("informational EQ and IRQ lines are noise: null", () => {
    for (const t of [
      "[ 1234.009310] event qp_event arrived",
      "[ 1234.009310] event cq_completion arrived",
      "[ 1234.009310] event PORT_CHANGE_UP arrived",
      "[ 1234.009310] mlx4_msi_x_interrupt(): IRQ: 29 CPU: 3",
    ]) {
      assert.equal(direct(t), null, t);
      assert.deepEqual(parseLines(ibErrorFamily, t), [], t);
    }
  });
});

describe("IB error family, MAD guards (F5)", () => {
  it('"BUG! mad_list: %p" and its mad_queue/send_queue/qp_info forms', () => {
    assert.deepEqual(one("[  787.480124] BUG! mad_list: ffff88103eea1728 mad_queue:           (null)"), {
      type: "ib_error",
      kind: "mad-guard",
      detail: "mad_list: ffff88103eea1728 mad_queue:           (null)",
    });
    assert.equal(one("[ 1234.000000] BUG! mad_list: 0000000000000020").kind, "mad-guard");
    assert.equal(
      one(
        "[ 1234.000000] BUG! mad_list: ffff88103eea1728 send_queue: ffff88103eea0000 qp_info: 0000000000000001",
      ).kind,
      "mad-guard",
    );
  });

  it('"%s(): WARNING nr_got: %d" and "%s(): WARNING mad_error"', () => {
    assert.deepEqual(one("[ 1234.000000] ib_mad_completion_handler(): WARNING nr_got: 2"), {
      type: "ib_error",
      kind: "mad-warning",
      fn: "ib_mad_completion_handler",
      code: 2,
    });
    assert.deepEqual(one("[ 1234.000000] ib_mad_completion_handler(): WARNING mad_error"), {
      type: "ib_error",
      kind: "mad-warning",
      fn: "ib_mad_completion_handler",
      detail: "mad_error",
    });
  });
});

describe("IB error family, seed", () => {
  it("b21: the 04/01 burst on P, in order", () => {
    const evs = parseLines(ibErrorFamily, readFileSync(new URL("b21.log", SEED), "utf8"));
    const kinds = evs.map((e) => (e.type === "ib_error" ? e.kind : e.type));
    assert.deepEqual(kinds.slice(0, 7), [
      "syndrome",
      "syndrome",
      "send-failed",
      "syndrome",
      "syndrome",
      "syndrome",
      "failed-status",
    ]);
    const count = (k: string) => kinds.filter((x) => x === k).length;
    assert.deepEqual(
      [count("syndrome"), count("send-failed"), count("failed-status"), count("weird-event")],
      [13, 1, 9, 6],
    );
    assert.deepEqual(body(evs[2]!), { type: "ib_error", kind: "send-failed", connection: 7, status: 12 });
    assert.equal(evs[2]!.line, 13);
    assert.equal(evs[2]!.ts, 847.17059);
    assert.equal(evs.length, 29, "the Oops in fit_poll_cq and the notes after it are not IB errors");
  });

  it("b22m and b22p: both sides of the same failure", () => {
    const m = parseLines(ibErrorFamily, readFileSync(new URL("b22m.log", SEED), "utf8"));
    assert.deepEqual(body(m.find((e) => e.type === "ib_error" && e.kind === "send-failed")!), {
      type: "ib_error",
      kind: "send-failed",
      connection: 1,
      status: 12,
    });
    assert.equal(m.length, 8);
    const p = parseLines(ibErrorFamily, readFileSync(new URL("b22p.log", SEED), "utf8"));
    assert.equal(p.length, 18);
    assert.equal(p.at(-1)!.ts, 30939.580002);
  });

  it("Oops lines and the author's notes that name fit_poll_cq are not events", () => {
    for (const t of [
      "[  848.921908] IP: [<ffffffff8106346d>] fit_poll_cq+0x4ad/0x510",
      "[  849.131983] RIP: 0010:[<ffffffff8106346d>]  [<ffffffff8106346d>] fit_poll_cq+0x4ad/0x510",
      "[  850.691945] [<ffffffff810634d0>] ? fit_poll_cq+0x510/0x510",
      "fit_poll_cq at net/lego/fit_internal.c:1734",
    ]) {
      assert.equal(direct(t), null, t);
      assert.deepEqual(parseBlocks(lostCqeFamily, t), [], t);
    }
  });

  it("author notes in the seed fixtures produce no events", () => {
    for (const { file, text } of seedNotes()) {
      assert.deepEqual(parseLines(ibErrorFamily, text), [], file);
      assert.deepEqual(parseBlocks(lostCqeFamily, text), [], file);
    }
  });
});

describe("lost-CQE banner (F7 block)", () => {
  it("HEAD: stamped `fit:` line, `(%p)` and `CPU: %d connection_id: %d dest node: %d`", () => {
    const text = [
      "[ 1234.000000] fit:",
      "*****",
      "***** Fail to to get the CQE from send_cq (ffff88207c3e1800) after 20 seconds!",
      "***** CPU: 6 connection_id: 14 dest node: 1",
      "*****",
      "[ 1234.010000] ------------[ cut here ]------------",
    ].join("\n");
    const evs = parseBlocks(lostCqeFamily, text);
    assert.equal(evs.length, 1);
    assert.equal(evs[0]!.line, 1);
    assert.equal(evs[0]!.ts, 1234);
    assert.deepEqual(body(evs[0]!), {
      type: "ib_error",
      kind: "lost-cqe",
      detail: "no CQE from send_cq (ffff88207c3e1800) after 20 seconds",
      cpu: 6,
      connection: 14,
      destNode: 1,
    });
  });

  it("HEAD with the trailing blank of `fit: ` kept", () => {
    const text = [
      "[ 1234.000000] fit: ",
      "*****",
      "***** Fail to to get the CQE from send_cq (ffff88207c3e1800) after 20 seconds!",
      "***** CPU: 0 connection_id: 2 dest node: 0",
      "*****",
    ].join("\n");
    const evs = parseBlocks(lostCqeFamily, text);
    assert.equal(evs.length, 1);
    assert.equal(evs[0]!.ts, 1234);
  });

  it("2018-08-27: empty first line, NIC advice, `connection_id: %d dest node: %d`", () => {
    const text = [
      "[ 1234.000000] ",
      "*****",
      "***** Fail to to get the CQE from send_cq after 20 seconds!",
      "***** This means the packet was lost and something went wrong",
      "***** with your NIC...",
      "***** connection_id: 13 dest node: 1",
      "*****",
      "[ 1234.010000] ------------[ cut here ]------------",
    ].join("\n");
    const evs = parseBlocks(lostCqeFamily, text);
    assert.equal(evs.length, 1);
    // The empty first line has no key to open on; the event starts at the `Fail to to get` line.
    assert.equal(evs[0]!.line, 3);
    assert.deepEqual(body(evs[0]!), {
      type: "ib_error",
      kind: "lost-cqe",
      detail: "no CQE from send_cq after 20 seconds",
      connection: 13,
      destNode: 1,
    });
  });

  it("2018-08-29: without the `with your NIC...` line", () => {
    const text = [
      "[ 1234.000000]",
      "*****",
      "***** Fail to to get the CQE from send_cq after 20 seconds!",
      "***** This means the packet was lost and something went wrong",
      "***** connection_id: 25 dest node: 2",
      "*****",
    ].join("\n");
    const evs = parseBlocks(lostCqeFamily, text);
    assert.equal(evs.length, 1);
    assert.equal(body(evs[0]!).connection, 25);
    assert.equal(body(evs[0]!).destNode, 2);
  });

  it("2018-09-09: `(%p)` added, `This means` dropped, no `fit:` prefix yet", () => {
    const text = [
      "[ 1234.000000] ",
      "*****",
      "***** Fail to to get the CQE from send_cq (ffff88107c3e0000) after 20 seconds!",
      "***** connection_id: 4 dest node: 0",
      "*****",
    ].join("\n");
    const evs = parseBlocks(lostCqeFamily, text);
    assert.equal(evs.length, 1);
    assert.deepEqual(body(evs[0]!), {
      type: "ib_error",
      kind: "lost-cqe",
      detail: "no CQE from send_cq (ffff88107c3e0000) after 20 seconds",
      connection: 4,
      destNode: 0,
    });
  });

  it("a banner cut after its Fail line still reports; a `fit:` line followed by anything else does not", () => {
    const cut = parseBlocks(
      lostCqeFamily,
      [
        "[ 1234.000000] fit:",
        "*****",
        "***** Fail to to get the CQE from send_cq (ffff88207c3e1800) after 20 seconds!",
      ].join("\n"),
    );
    assert.equal(cut.length, 1);
    assert.equal(body(cut[0]!).connection, undefined);
    assert.deepEqual(
      parseBlocks(lostCqeFamily, "[ 1234.000000] fit:\n[ 1234.100000] fit: FIT layer ready to go!"),
      [],
    );
    assert.deepEqual(parseBlocks(lostCqeFamily, "*****\n[ 1.000000] x"), []);
  });

  it("two banners in a row give two events", () => {
    const banner = (conn: number) =>
      [
        "[ 1234.000000] fit:",
        "*****",
        "***** Fail to to get the CQE from send_cq (ffff88207c3e1800) after 20 seconds!",
        `***** CPU: 6 connection_id: ${conn} dest node: 1`,
        "*****",
      ].join("\n");
    const evs = parseBlocks(lostCqeFamily, `${banner(12)}\n${banner(13)}`);
    assert.deepEqual(
      evs.map((e) => [e.line, body(e).connection]),
      [
        [1, 12],
        [6, 13],
      ],
    );
  });
});

describe("IB error family, properties", () => {
  const piece = fc.oneof(
    fc.string(),
    fc.constantFrom(...ibErrorFamily.keys, ...lostCqeFamily.keys),
    fc.constantFrom(
      "fit: ",
      "()-",
      " CPU",
      " 4 ",
      "<mlx4_ib> ",
      "mlx4_ib_handle_error_cqe",
      "(",
      ")",
      "-1",
      "0x",
    ),
  );

  it("ibErrorFamily.parse never throws", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(piece, { maxLength: 12 }), (stamp, parts) => {
        const e = direct(`${stamp ? "[  123.456789] " : ""}${parts.join("")}`);
        assert.ok(e === null || e.type === "ib_error");
      }),
      { numRuns: 2000 },
    );
  });

  it("lostCqeFamily never throws and emits only lost-cqe events", () => {
    const row = fc.oneof(
      fc.array(piece, { maxLength: 6 }).map((p) => p.join("")),
      fc.constantFrom("[ 1.000000] fit:", "*****", "***** connection_id: 1 dest node: 0", "[ 2.000000] "),
    );
    fc.assert(
      fc.property(fc.array(row, { maxLength: 12 }), (rows) => {
        for (const e of parseBlocks(lostCqeFamily, rows.join("\n"))) {
          assert.ok(e.type === "ib_error" && e.kind === "lost-cqe");
        }
      }),
      { numRuns: 1000 },
    );
  });
});
