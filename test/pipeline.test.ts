import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ParsedEvent } from "../src/parse/events.js";
import { Pipeline } from "../src/pipeline.js";

describe("the pipeline, live", () => {
  it("a node that goes quiet mid-report still gets its crash, cut off, on the next tick", () => {
    const events: ParsedEvent[] = [];
    const p = new Pipeline({ onEvent: (e) => events.push(e) });
    p.push(
      "P",
      "[  848.828313] BUG: unable to handle kernel NULL pointer dereference at           (null)\n",
      1000,
    );
    p.push("P", "[  848.921908] IP: [<ffffffff8106346d>] fit_poll_cq+0x4ad/0x510\n[  848.9", 1050);
    p.tick(1500);
    assert.equal(events.length, 0, "not yet quiet");
    p.tick(2100);
    assert.deepEqual(
      events.map((e) => e.type),
      ["crash"],
    );
    assert.equal(p.engine.all[0]?.rule, "crash");
  });

  it("a partial line is emitted after the idle time, and the next bytes start a new line", () => {
    const events: ParsedEvent[] = [];
    const p = new Pipeline({ onEvent: (e) => events.push(e), idleMs: 200 });
    p.push(
      "P",
      "[   10.000000] word_count-pthr[29]: segfault at 0x4e842010 ip 0000000000420354 sp 00007fffb17f9bc0 error 6",
      0,
    );
    p.tick(100);
    assert.equal(events.length, 0);
    p.tick(300);
    assert.deepEqual(
      events.map((e) => e.type),
      ["segfault"],
    );
  });
});
