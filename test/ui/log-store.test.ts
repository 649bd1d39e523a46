import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Pipeline } from "../../src/pipeline.js";
import { LogStore } from "../../src/ui/log-store.js";
import { UiModel } from "../../src/ui/model.js";

// Real console lines, numbered 1..8 in arrival order; the even ones come from M, the odd ones from P.
const LINES = [
  "[   12.395007] fit: ***",
  "[   37.695007] thpool: CPU 3 thpool-worker0 worker_id: 0 UP",
  "[   37.503225] fit: FIT layer ready to go!",
  "[   75.989422] watchdog: worker[2] CPU 5 stucked",
  "[  227.723140] word_count-pthr[29]: segfault at 0x4e842010 ip 0000000000420354 sp 00007fffb17f9bc0 error 6",
  "[   81.270259] watchdog: worker[2] CPU 5 stucked",
  "[30801.296160] ibapi_send_reply() CPU:8 PID:19 timeout (30010 ms), caller: clflush_one+0x1c9/0x370",
  "[   86.551096] Freeram: 0x3facac",
];
const nodeOf = (i: number) => (i % 2 === 0 ? "P" : "M");

function store(capacity = 100): LogStore {
  const s = new LogStore(capacity);
  LINES.forEach((text, i) => {
    s.add(nodeOf(i), Math.floor(i / 2) + 1, text);
  });
  return s;
}

const texts = (entries: { text: string }[]) => entries.map((e) => e.text);

describe("LogStore", () => {
  it("keeps the newest lines of a full ring, oldest first, and bumps its version on every change", () => {
    const s = new LogStore(3);
    assert.equal(s.size, 0);
    assert.deepEqual(s.view(10), []);
    LINES.forEach((text, i) => {
      const v = s.version;
      s.add(nodeOf(i), i + 1, text);
      assert.equal(s.version, v + 1);
    });
    assert.equal(s.size, 3);
    assert.equal(s.count(), 3);
    assert.deepEqual(texts(s.view(10)), LINES.slice(5));
    assert.deepEqual(
      s.view(10).map((e) => e.seq),
      [5, 6, 7],
    );
    assert.deepEqual(texts(s.view(2)), LINES.slice(6));
    assert.deepEqual(texts(s.view(2, {}, 1)), LINES.slice(5, 7));
    assert.deepEqual(texts(s.view(5, {}, 3)), []);
  });

  it("views a node's lines, scrolled up by skip matching lines", () => {
    const s = store();
    const m = LINES.filter((_, i) => nodeOf(i) === "M");
    assert.deepEqual(texts(s.view(10, { node: "M" })), m);
    assert.deepEqual(texts(s.view(2, { node: "M" })), m.slice(2));
    assert.deepEqual(texts(s.view(2, { node: "M" }, 1)), m.slice(1, 3));
    assert.deepEqual(texts(s.view(2, { node: "M" }, 3)), m.slice(0, 1));
    assert.ok(s.view(10, { node: "P" }).every((e) => e.node === "P"));
    assert.deepEqual(s.view(10, { node: "S" }), []);
  });

  it("counts the lines a filter matches", () => {
    const s = store();
    assert.equal(s.count(), 8);
    assert.equal(s.count({ node: "M" }), 4);
    assert.equal(s.count({ node: "nobody" }), 0);
    assert.equal(s.count({ minSeverity: "warning" }), 0);
    s.mark("P", 3, "error");
    assert.equal(s.count({ minSeverity: "warning" }), 1);
    assert.equal(s.count({ minSeverity: "critical" }), 0);
    assert.equal(s.count({ node: "M", minSeverity: "error" }), 0);
  });

  it("finds a term older (back) or newer from a distance, case-insensitively", () => {
    const s = store();
    // Distances from the newest: "stucked" is on lines 6 (distance 2) and 4 (distance 4).
    assert.equal(s.find("STUCKED", 0, true), 2);
    assert.equal(s.find("stucked", 2, true), 4);
    assert.equal(s.find("stucked", 4, true), null);
    assert.equal(s.find("stucked", 4, false), 2);
    assert.equal(s.find("stucked", 2, false), null);
    assert.equal(s.find("fit", 7, false), 5);
    assert.equal(s.find("not there", 0, true), null);
    // Within a filter, distances count only its lines: M's lines are 2, 4, 6, 8.
    assert.equal(s.find("stucked", 0, true, { node: "M" }), 1);
    assert.equal(s.find("stucked", 1, true, { node: "M" }), 2);
    assert.equal(s.find("segfault", 0, true, { node: "M" }), null);
  });

  it("raises a line's severity, never lowers it, and ignores lines it does not hold", () => {
    const s = store();
    const v = s.version;
    s.mark("M", 2, "critical");
    assert.equal(s.version, v + 1);
    s.mark("M", 2, "warning");
    assert.equal(s.version, v + 1);
    s.mark("M", 99, "critical");
    s.mark("S", 1, "critical");
    assert.equal(s.version, v + 1);
    assert.deepEqual(
      s.view(10, { minSeverity: "critical" }).map((e) => [e.node, e.lineNo, e.text]),
      [["M", 2, LINES[3]]],
    );
  });

  it("takes its lines and severities from a pipeline through the model", () => {
    let model: UiModel | null = null;
    const pipeline = new Pipeline({ onLine: (l) => model?.onLine(l), onEvent: (e) => model?.onEvent(e) });
    model = new UiModel(pipeline.engine, () => 0, 66, 5);
    LINES.forEach((text, i) => {
      pipeline.push(nodeOf(i), `${text}\n`);
    });
    pipeline.end();
    const log = model.log;
    assert.equal(log.size, 5);
    assert.deepEqual(new Set(texts(log.view(5))), new Set(LINES.slice(3)));
    const bad = log.view(5, { minSeverity: "error" });
    assert.deepEqual(
      bad.map((e) => [e.node, e.severity, e.text]).sort(),
      [
        ["M", "critical", LINES[3]],
        ["M", "critical", LINES[5]],
        ["P", "critical", LINES[6]],
        ["P", "error", LINES[4]],
      ].sort(),
    );
  });
});
