import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ReplayFilter } from "../../src/sources/replay-filter.js";

const stamp = (ts: number, msg: string) => `[${ts.toFixed(6).padStart(12)}] ${msg}`;
const feed = (f: ReplayFilter, lines: string[]) => lines.flatMap((l) => f.line(l));

describe("replay filter", () => {
  const ring = [
    stamp(0, "Linux version 6.1"),
    stamp(0, "Command line: x"),
    stamp(1.5, "a"),
    stamp(2.5, "b"),
    stamp(3.5, "c"),
  ];

  it("passes everything until a reconnect", () => {
    const f = new ReplayFilter();
    assert.deepEqual(feed(f, ring), ring);
    assert.deepEqual(feed(f, ring), ring, "no reconnect: repeats are the console's own");
  });

  it("drops the ring buffer a new dmesg -w prints again, then follows", () => {
    const f = new ReplayFilter();
    feed(f, ring);
    f.reconnected();
    const next = [stamp(4.5, "d"), stamp(5.5, "e")];
    assert.deepEqual(feed(f, [...ring, ...next]), next);
  });

  it("delivers the new boot, zero stamps included, when the node rebooted meanwhile", () => {
    const f = new ReplayFilter();
    feed(f, ring);
    feed(f, [stamp(5000, "late")]);
    f.reconnected();
    // Same kernel: its first lines are identical to the old boot's, the rest differ.
    const newBoot = [
      stamp(0, "Linux version 6.1"),
      stamp(0, "Command line: x"),
      stamp(1.6, "a2"),
      stamp(2.6, "b2"),
    ];
    assert.deepEqual(feed(f, newBoot), newBoot);
  });

  it("drops lines of the same boot older than what is remembered (a wrapped ring)", () => {
    const f = new ReplayFilter();
    feed(f, [stamp(100, "x"), stamp(200, "y")]);
    f.reconnected();
    assert.deepEqual(
      feed(f, [stamp(50, "older than remembered"), stamp(100, "x"), stamp(200, "y"), stamp(300, "z")]),
      [stamp(300, "z")],
    );
  });

  it("a line cut by the drop comes whole, and the replay goes on", () => {
    const f = new ReplayFilter();
    feed(f, [stamp(1, "a"), stamp(2, "b"), stamp(3, "partial li")]);
    f.reconnected();
    assert.deepEqual(feed(f, [stamp(1, "a"), stamp(2, "b"), stamp(3, "partial line"), stamp(4, "new")]), [
      stamp(3, "partial line"),
      stamp(4, "new"),
    ]);
  });

  it("tail -F of an unstamped console: its last lines again, then new ones", () => {
    const f = new ReplayFilter();
    feed(f, ["one", "two", "three"]);
    f.reconnected();
    assert.deepEqual(feed(f, ["two", "three", "four", "two"]), ["four", "two"]);
  });

  it("forgets old lines but keeps counting repeats right", () => {
    const f = new ReplayFilter();
    for (let i = 0; i < 25_000; i++) f.line(i % 2 === 0 ? "same" : `line ${i}`);
    f.reconnected();
    assert.deepEqual(f.line("same"), []);
    assert.deepEqual(f.line("line 1"), ["line 1"], "forgotten lines are new again");
  });
});
