import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Alert } from "../../src/engine/alerts.js";
import { Pipeline } from "../../src/pipeline.js";

const stamp = (ts: number) => `[${ts.toFixed(6).padStart(12)}]`;

/** FIT waiting for its port from `from` to `to` (kernel seconds): a query, then a line after each 1 s wait. */
function waiting(from: number, to: number, state = 2): string[] {
  const out: string[] = [];
  for (let t = from; t <= to; t++) {
    out.push(`${stamp(t)} fit: lego_ib_init() after query CPU0 port: 1 LID: 0 state: ${state}`);
    out.push(`${stamp(t + 0.5)} fit: lego_ib_init() CPU0 port: 1 LID: 0 state: ${state}`);
  }
  return out;
}

function alertsOf(lines: string[], thresholds?: { ibPortSeconds: number }): Alert[] {
  const p = new Pipeline({ thresholds });
  p.push("M", `${lines.join("\n")}\n`);
  p.end();
  return p.engine.all.filter((a) => a.rule === "ib-port-down");
}

describe("ib-port-down", () => {
  it("a port that comes up within the usual few seconds raises nothing", () => {
    assert.deepEqual(alertsOf([...waiting(3, 8), `${stamp(9)} fit: Query returned LID: 17`]), []);
  });

  it("a port down for 30 s raises one error, resolved when the port comes up", () => {
    const [a, ...rest] = alertsOf([...waiting(3, 45, 1), `${stamp(46)} fit: Query returned LID: 17`]);
    assert.equal(rest.length, 0);
    assert.equal(a?.severity, "error");
    assert.equal(a?.state, "resolved");
    // Fired at the first line 30 s into the wait; its message follows the wait until the port is up.
    assert.equal(a?.first.ts, 33);
    assert.equal(a?.message, "IB port 1 not active for 43 s (DOWN, LID 0): the node cannot join the cluster");
  });

  it("is still firing while the port stays down, and a reboot ends it", () => {
    const down = alertsOf(waiting(3, 60));
    assert.equal(down.length, 1);
    assert.equal(down[0]!.state, "firing");
    assert.match(down[0]!.message, /not active for 58 s/);
    const rebooted = alertsOf([...waiting(3, 60), `${stamp(0)} LegoOS version 4.0.0-lego`, ...waiting(1, 5)]);
    assert.equal(rebooted[0]!.state, "resolved");
    assert.equal(rebooted.length, 1, "the next boot waits afresh");
  });

  it("takes its threshold from the configuration", () => {
    assert.equal(alertsOf(waiting(3, 8), { ibPortSeconds: 5 }).length, 1);
  });
});
