import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { TimeoutEvent } from "../../src/parse/events.js";
import { timeoutFamily } from "../../src/parse/timeout.js";
import { parseBlocks } from "../helpers.js";

const SEED = new URL("../fixtures/seed/", import.meta.url);
const seed = (name: string) => readFileSync(new URL(name, SEED), "utf8");

const timeouts = (text: string) => parseBlocks(timeoutFamily, text) as TimeoutEvent[];
const only = (text: string): TimeoutEvent => {
  const es = timeouts(text);
  assert.equal(es.length, 1);
  return es[0]!;
};

describe("RPC timeout lines (F6)", () => {
  it("the seed's b22p line: `ibapi_send_reply() CPU:%d PID:%d timeout (%u ms), caller: %pS`", () => {
    const e = only(seed("b22p.log"));
    assert.equal(e.type, "timeout");
    assert.equal(e.fn, "ibapi_send_reply");
    assert.deepEqual([e.cpu, e.pid, e.ms], [8, 19, 30010]);
    assert.equal(e.caller, "clflush_one+0x1c9/0x370");
    assert.equal(e.callerFn, "clflush_one");
    assert.equal(e.via, undefined);
    assert.deepEqual([e.ts, e.line], [30801.29616, 2]);
  });

  it("HEAD: the same with the `fit: ` prefix", () => {
    const e = only(
      "[ 1234.000000] fit: ibapi_send_reply() CPU:3 PID:41 timeout (60010 ms), caller: p2m_fork+0x12f/0x2a0",
    );
    assert.deepEqual([e.fn, e.cpu, e.pid, e.ms, e.callerFn], ["ibapi_send_reply", 3, 41, 60010, "p2m_fork"]);
  });

  it("`ibapi_send_reply() polling timeout (%u ms), caller: %pS` with the pre-2018-03-20 follow-up", () => {
    const text = [
      "[ 1234.000000] ibapi_send_reply() polling timeout (30010 ms), caller: net_send_reply_timeout+0x10f/0x1e0",
      "[ 1234.098210]  net_send_reply_timeout() caller: __pcache_do_fill_page+0x7e/0x130",
      "[ 1234.187460] kmeans-pthread[43]: segfault at 0x7fff9c3d1000 ip 0000000000401b7e sp 00007fff9c3b0d40 error 4",
    ].join("\n");
    const e = only(text);
    assert.equal(e.fn, "ibapi_send_reply");
    assert.deepEqual([e.cpu, e.pid, e.ms], [undefined, undefined, 30010]);
    assert.equal(e.callerFn, "net_send_reply_timeout");
    assert.equal(e.via, "__pcache_do_fill_page+0x7e/0x130");
  });

  it("the `  %s() CPU:%d PID:%d caller: %pS` follow-up (from 2018-03-20)", () => {
    const text = [
      "[ 1234.000000] ibapi_send_reply() CPU:8 PID:19 timeout (30010 ms), caller: net_send_reply_timeout+0x10f/0x1e0",
      "[ 1234.000900]   net_send_reply_timeout() CPU:8 PID:19 caller: do_mmap+0x5e/0x120",
    ].join("\n");
    assert.equal(only(text).via, "do_mmap+0x5e/0x120");
  });

  it("multicast: `%s CPU:%d PID:%d timeout (%u ms), caller: %pS`", () => {
    const e = only(
      "[ 1234.000000] fit: ibapi_multicast_send_reply CPU:2 PID:30 timeout (30010 ms), caller: handle_m2m_mmap+0x9a/0x200",
    );
    assert.deepEqual(
      [e.fn, e.cpu, e.pid, e.callerFn],
      ["ibapi_multicast_send_reply", 2, 30, "handle_m2m_mmap"],
    );
  });

  it("any other next line ends the block and is offered again", () => {
    const line =
      "[ 1234.000000] ibapi_send_reply() CPU:8 PID:19 timeout (30010 ms), caller: clflush_one+0x1c9/0x370";
    const es = timeouts([line, line.replace("1234.0", "1264.0")].join("\n"));
    assert.deepEqual(
      es.map((e) => [e.ts, e.via]),
      [
        [1234, undefined],
        [1264, undefined],
      ],
    );
  });

  it("other lines holding `timeout (` are not timeouts", () => {
    assert.deepEqual(timeouts("[ 1234.000000] pcache: timeout (30 s) waiting for a line"), []);
  });
});

describe("RPC timeouts over the seed", () => {
  it("only b22p holds one; author notes give nothing", () => {
    for (const name of readdirSync(SEED).filter((n) => n.endsWith(".log"))) {
      assert.equal(timeouts(seed(name)).length, name === "b22p.log" ? 1 : 0, name);
    }
  });
});

const REAL = [
  "[30801.296160] ibapi_send_reply() CPU:8 PID:19 timeout (30010 ms), caller: clflush_one+0x1c9/0x370",
  "[ 1234.000000] ibapi_send_reply() polling timeout (30010 ms), caller: net_send_reply_timeout+0x10f/0x1e0",
  "[ 1234.098210]  net_send_reply_timeout() caller: __pcache_do_fill_page+0x7e/0x130",
  "  net_send_reply_timeout() CPU:8 PID:19 caller: do_mmap+0x5e/0x120",
];

describe("RPC timeout robustness", () => {
  it("never throws on arbitrary line sequences", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom(...REAL)), { maxLength: 60 }), (ls) => {
        timeouts(ls.join("\n"));
      }),
    );
  });
});
