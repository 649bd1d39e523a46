import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { bootFamily } from "../../src/parse/boot.js";
import type { ParsedEvent } from "../../src/parse/events.js";
import { baseOf } from "../../src/parse/family.js";
import { NodeParser } from "../../src/parse/parser.js";
import { body, line, lines, parseLines, seedNotes } from "../helpers.js";

const SEED = new URL("../fixtures/seed/", import.meta.url);

/** The one event `text` gives. */
function one(text: string): Record<string, unknown> {
  const evs = parseLines(bootFamily, text);
  assert.equal(evs.length, 1, `expected one event from ${JSON.stringify(text)}`);
  return body(evs[0]!);
}

describe("boot family (F1)", () => {
  it("banner: LegoOS version ... and a plain Linux version ...", () => {
    const lego =
      "[    0.000000] LegoOS version 4.0.0-lego-pComponent+ (root@wuklab14-s3131-w5910.localdomain) (gcc version 4.8.5 20150623 (Red Hat 4.8.5-11) (GCC) ) #3 SMP Wed Oct 24 20:57:09 EDT 2018";
    const e = one(lego);
    assert.equal(e.what, "banner");
    assert.equal(e.version, "4.0.0-lego-pComponent+");
    assert.match(e.detail as string, /^4\.0\.0-lego-pComponent\+ \(root@.*2018$/);
    assert.equal(e.role, undefined, "the release string is not a role");
    const linux = one(
      "[    0.000000] Linux version 3.11.1 (root@wuklab14) (gcc version 4.8.5 (GCC) ) #1 SMP",
    );
    assert.equal(linux.what, "banner");
    assert.equal(linux.version, "3.11.1");
  });

  it('ib-port: "%s() [after query ]CPU%d port: %d LID: %d state: %d" and "Query returned LID: %d"', () => {
    assert.deepEqual(one("[    3.100000] fit: lego_ib_init() after query CPU0 port: 1 LID: 0 state: 2"), {
      type: "boot",
      what: "ib-port",
      cpu: 0,
      port: 1,
      lid: 0,
      portState: 2,
      detail: "port 1 LID 0 state 2 (INIT)",
    });
    assert.equal(
      one("[    4.100000] lego_ib_init() CPU3 port: 1 LID: 0 state: 1").detail,
      "port 1 LID 0 state 1 (DOWN)",
    );
    const rdma = one(
      "[   12.000000] RDMA_FIT_API: _initalize_struct() after query CPU2 port: 1 LID: 9 state: 4",
    );
    assert.equal(rdma.portState, 4);
    assert.deepEqual(one("[    5.100000] fit: Query returned LID: 17"), {
      type: "boot",
      what: "ib-port",
      lid: 17,
      portState: 4,
      detail: "LID 17, port active",
    });
  });

  it('cmdline: "Command line: %s"', () => {
    assert.deepEqual(one("[    0.000000] Command line: console=ttyS1,115200 earlyprintk=serial"), {
      type: "boot",
      what: "cmdline",
      detail: "console=ttyS1,115200 earlyprintk=serial",
    });
  });

  it('CPUs: "x86: Booted up %d node%s, %d CPUs"', () => {
    assert.deepEqual(one("[    4.686556] x86: Booted up 1 node, 8 CPUs"), {
      type: "boot",
      what: "cpus",
      cpus: 8,
      detail: "1 node(s)",
    });
    assert.equal(one("[    4.686556] x86: Booted up 2 nodes, 24 CPUs").cpus, 24);
  });

  it('FIT config: HEAD "fit: ***  FIT_LOCAL_ID: %d" and April "***  FIT_local_id: %d"', () => {
    assert.deepEqual(one("[   12.725453] fit: ***  FIT_LOCAL_ID:            0"), {
      type: "boot",
      what: "fit-id",
      nid: 0,
    });
    assert.deepEqual(one("[ 3860.000000] ***  FIT_local_id:            1"), {
      type: "boot",
      what: "fit-id",
      nid: 1,
    });
  });

  it('node table: the row "***    %6d    %s    %3d    %3d" tagged " <---" is this node', () => {
    assert.deepEqual(one("[   12.735152] fit: ***         0    wuklab14     29     80 <---"), {
      type: "boot",
      what: "fit-node",
      nid: 0,
      detail: "wuklab14",
    });
    assert.deepEqual(one("[ 3860.100000] ***         1    wuklab16     17     80 <---"), {
      type: "boot",
      what: "fit-node",
      nid: 1,
      detail: "wuklab16",
    });
    // Other rows and the header say nothing about this node.
    assert.deepEqual(
      parseLines(bootFamily, "[   12.735152] fit: ***         1    wuklab16     17     80"),
      [],
    );
    assert.deepEqual(
      parseLines(bootFamily, "[   12.735000] fit: ***    NodeID    Hostname    LID    QPN"),
      [],
    );
  });

  it('MAD wait: "Please wait for enough IB MAD (number: %d) ..."', () => {
    assert.deepEqual(one("[   12.739119] fit: Please wait for enough IB MAD (number: 7) ..."), {
      type: "boot",
      what: "mad-wait",
      detail: "7 MADs",
    });
  });

  it('QP built: "***  Successfully built QP for node %2d [LID: %d QPN: %d]", with and without fit:', () => {
    assert.deepEqual(one("[   39.924184] fit: ***  Successfully built QP for node  1 [LID: 17 QPN: 80]"), {
      type: "boot",
      what: "qp-built",
      peer: 1,
      detail: "LID: 17 QPN: 80",
    });
    assert.equal(one("[ 3862.000000] ***  Successfully built QP for node  0 [LID: 29 QPN: 80]").peer, 0);
  });

  it('join: " ... Node [%2d] Joined. addr %p rkey %d nr_joined_nodes %d"', () => {
    assert.deepEqual(
      one("[   50.949680] fit:  ... Node [ 1] Joined. addr 00000007df800000 rkey 69120 nr_joined_nodes 1"),
      { type: "boot", what: "node-joined", peer: 1, detail: "1 joined" },
    );
  });

  it('mid-2018 join: " .. Node [%2d] Joined. Remote addr %p, rkey %d, num_recvd_rdma_ring_mrs %d"', () => {
    // fit_poll_cq() in net/lego/fit_internal.c before fit_poll_recv_cq(): pr_crit, two dots.
    assert.deepEqual(
      one(
        "[   50.949680]  .. Node [ 1] Joined. Remote addr ffff88207c000000, rkey 69120, num_recvd_rdma_ring_mrs 1",
      ),
      { type: "boot", what: "node-joined", peer: 1, detail: "1 joined" },
    );
  });

  it("the LID mismatch banner of fit_establish_conn() is a network-config error, through the parser", () => {
    // pr_info("\n***\n*** ERROR\n*** Current LID: %d. Table LID: %d.\n*** Other machine will fail to
    // connect.\n*** Please update the table to use the latest LID.\n***\n"), then hlt(). With the
    // `fit: ` prefix the first line holds only `fit:`, which also opens the lost-CQE banner block.
    const text = [
      "[   11.902301] fit: ",
      "***",
      "*** ERROR",
      "*** Current LID: 17. Table LID: 29.",
      "*** Other machine will fail to connect.",
      "*** Please update the table to use the latest LID.",
      "***",
    ].join("\n");
    const evs: ParsedEvent[] = [];
    const p = new NodeParser("T", (e) => evs.push(e));
    for (const l of lines(text)) p.push(l);
    p.flush();
    assert.deepEqual(
      evs.map((e) => [e.line, body(e)]),
      [[4, { type: "boot", what: "network-config", detail: "Current LID: 17. Table LID: 29." }]],
    );
  });

  it('FIT ready: HEAD "FIT layer ready to go!" and April "***  FIT layer ready to go!"', () => {
    assert.deepEqual(one("[   50.951294] fit: FIT layer ready to go!"), { type: "boot", what: "fit-ready" });
    assert.deepEqual(one("[ 3864.723128] ***  FIT layer ready to go!"), { type: "boot", what: "fit-ready" });
  });

  it('M worker up: "thpool: CPU%2d %s worker_id: %d UP" and April\'s "thpool: CPU%2d %s UP"', () => {
    assert.deepEqual(one("[   52.100000] thpool: CPU 6 thpool-worker0 worker_id: 0 UP"), {
      type: "boot",
      what: "worker-up",
      role: "M",
      cpu: 6,
      thread: "thpool-worker0",
      worker: 0,
    });
    assert.deepEqual(one("[  300.000000] thpool: CPU12 thpool-polling UP"), {
      type: "boot",
      what: "worker-up",
      role: "M",
      cpu: 12,
      thread: "thpool-polling",
    });
  });

  it('pinned: "  [%d] Thread[%s:%d] pinned at CPU %d" (role M for thpool-worker)', () => {
    assert.deepEqual(one("[   51.709798]   [0] Thread[FIT_WQ_Handler:14] pinned at CPU 3"), {
      type: "boot",
      what: "pinned",
      thread: "FIT_WQ_Handler",
      pid: 14,
      cpu: 3,
    });
    assert.deepEqual(one("[   60.000000]   [2] Thread[thpool-worker0:31] pinned at CPU 4"), {
      type: "boot",
      what: "pinned",
      role: "M",
      thread: "thpool-worker0",
      pid: 31,
      cpu: 4,
    });
  });

  it('CPU masks: "Online CPU: %*pbl" and "Active CPU: %*pbl"', () => {
    assert.deepEqual(one("[   51.711614] Online CPU: 0-7"), {
      type: "boot",
      what: "cpu-mask",
      detail: "Online CPU: 0-7",
      cpus: 8,
    });
    assert.equal(one("[   51.712014] Active CPU: 1,4-7").cpus, 5);
    // A line mangled by the 64-byte buffer still shows, without a count.
    const bad = one("[   51.712014] Active CPU: 0,2,4,6,8,10,12,14,16,18,20,22,24,26,28,30,32,3\u0001");
    assert.equal(bad.what, "cpu-mask");
    assert.equal(bad.cpus, undefined);
  });

  it('manager up: HEAD "Manager is up and running." has no role; April P and M wordings do', () => {
    assert.deepEqual(one("[   51.712767] Manager is up and running."), { type: "boot", what: "manager-up" });
    assert.deepEqual(one("[ 3867.489197] Processor: Processor manager is running."), {
      type: "boot",
      what: "manager-up",
      role: "P",
    });
    assert.deepEqual(one("[  300.000000] Memory: manager is up and running."), {
      type: "boot",
      what: "manager-up",
      role: "M",
    });
  });

  it('P cache config: "Processor LLC Configurations:" proves role P', () => {
    assert.deepEqual(one("[   48.000000] Processor LLC Configurations:"), {
      type: "boot",
      what: "llc-config",
      role: "P",
    });
  });

  it('scheduler: "Scheduler is up and running"', () => {
    assert.deepEqual(one("[    5.000000] Scheduler is up and running"), {
      type: "boot",
      what: "scheduler-up",
    });
  });

  it('hostname errors and "Please check your network config!"', () => {
    assert.deepEqual(one("[   12.700000] fit:     Empty hostname on node 2"), {
      type: "boot",
      what: "network-config",
      detail: "Empty hostname on node 2",
    });
    assert.equal(
      one("[   12.700000]     Wrong hostname wuklab99 on node 1").detail,
      "Wrong hostname wuklab99 on node 1",
    );
    assert.equal(
      one("[   12.700000] fit:     Duplicated hostname wuklab14 on node 1").detail,
      "Duplicated hostname wuklab14 on node 1",
    );
    assert.equal(
      one("[   12.710000] Kernel panic - not syncing: Please check your network config!").what,
      "network-config",
    );
  });

  it("seed b04: CPU masks and pinned threads, with stamps and line numbers", () => {
    const evs = parseLines(bootFamily, readFileSync(new URL("b04.log", SEED), "utf8"));
    assert.deepEqual(
      evs.map((e) => [e.line, e.ts, body(e).what]),
      [
        [1, 349.23922, "cpu-mask"],
        [2, 349.24494, "cpu-mask"],
        [3, 349.250272, "pinned"],
        [4, 349.256478, "pinned"],
      ],
    );
    assert.equal(body(evs[0]!).cpus, 12);
    assert.deepEqual(body(evs[3]!), { type: "boot", what: "pinned", thread: "recvpollcq", pid: 17, cpu: 4 });
  });

  it("author notes in the seed fixtures produce no events", () => {
    for (const { file, text } of seedNotes()) assert.deepEqual(parseLines(bootFamily, text), [], file);
  });

  it("parse never throws, on any text or on keys mixed with noise", () => {
    const piece = fc.oneof(
      fc.string(),
      fc.constantFrom(...bootFamily.keys),
      fc.constantFrom("[", "]", " ", "-", ",", ":", "***", "fit: ", "0", "17", "(", ")"),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(piece, { maxLength: 12 }), (stamp, parts) => {
        const l = line(`${stamp ? "[  123.456789] " : ""}${parts.join("")}`);
        const e = bootFamily.parse(l, baseOf(l));
        assert.ok(e === null || e.type === "boot");
      }),
      { numRuns: 2000 },
    );
  });
});
