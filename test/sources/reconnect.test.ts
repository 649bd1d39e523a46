import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  backoffDelay,
  type Connection,
  FatalSourceError,
  Reconnector,
  WaitingError,
} from "../../src/sources/reconnect.js";
import type { SourceStatus } from "../../src/sources/source.js";

function sink() {
  const statuses: SourceStatus[] = [];
  let reconnects = 0;
  return {
    statuses,
    get reconnects() {
      return reconnects;
    },
    data() {},
    status(s: SourceStatus) {
      statuses.push(s);
    },
    reconnected() {
      reconnects++;
    },
    dropped() {},
  };
}

const dropsAtOnce = async (): Promise<Connection> => ({
  detail: "x",
  closed: Promise.reject(new Error("reset")),
  close() {},
});

describe("reconnector", () => {
  it("backoff doubles up to its cap, with jitter in the upper half", () => {
    const o = { minMs: 100, maxMs: 1000, waitMs: 50 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, o, () => 1)),
      [100, 200, 400, 800, 1000, 1000],
    );
    assert.equal(
      backoffDelay(2, o, () => 0),
      200,
    );
  });

  it("a connection that drops at once keeps backing off instead of hammering", async () => {
    const s = sink();
    const r = new Reconnector(dropsAtOnce, s, { minMs: 10, maxMs: 10_000, waitMs: 10 });
    r.start();
    await new Promise((res) => setTimeout(res, 400));
    await r.stop();
    const delays = s.statuses.filter((x) => x.state === "retrying").map((x) => x.retryInMs!);
    assert.ok(delays.length >= 3, `${delays}`);
    for (let i = 1; i < delays.length; i++) assert.ok(delays[i]! >= delays[i - 1]! * 0.5 + 1, `${delays}`);
    assert.ok(delays.at(-1)! > delays[0]! * 4, `delays grow: ${delays}`);
    assert.ok(s.reconnects >= 2);
    assert.equal(s.statuses.at(-1)!.state, "closed");
  });

  it("waits at a steady pace for something absent, and closes on a fatal error", async () => {
    const s = sink();
    let n = 0;
    const r = new Reconnector(
      async () => {
        n++;
        if (n < 3) throw new WaitingError("no such device");
        throw new FatalSourceError("host key changed");
      },
      s,
      { minMs: 10, maxMs: 100, waitMs: 20 },
    );
    r.start();
    await new Promise((res) => setTimeout(res, 200));
    assert.deepEqual(
      s.statuses.map((x) => [x.state, x.retryInMs ?? null, x.error ?? null]),
      [
        ["connecting", null, null],
        ["waiting", 20, "no such device"],
        ["connecting", null, null],
        ["waiting", 20, "no such device"],
        ["connecting", null, null],
        ["closed", null, "host key changed"],
      ],
    );
    await r.stop();
  });
});
