import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { render } from "ink-testing-library";
import stripAnsi from "strip-ansi";
import { Pipeline } from "../../src/pipeline.js";
import { ProfileView } from "../../src/ui/components/profile-view.js";
import { ModelContext } from "../../src/ui/hooks/use-model.js";
import { UiModel } from "../../src/ui/model.js";
import { profileHistoryOf } from "../../src/ui/profile-history.js";

const NOW = 1_700_000_000_000;
const seed = (f: string) => readFileSync(new URL(`../fixtures/seed/${f}`, import.meta.url));

function setup(): { pipeline: Pipeline; model: UiModel } {
  let model: UiModel | undefined;
  const pipeline = new Pipeline({
    onLine: (l) => model?.onLine(l),
    onEvent: (e) => model?.onEvent(e),
    onAlert: (a) => model?.onAlert(a),
  });
  model = new UiModel(pipeline.engine, () => NOW);
  return { pipeline, model };
}

/** Feeds a seed file to `node` as one arrival, and lets the model tell its subscribers. */
function feed(s: { pipeline: Pipeline; model: UiModel }, node: string, file: string): void {
  s.pipeline.push(node, seed(file));
  s.pipeline.idle(node);
  s.model.flush();
}

function show(model: UiModel, width: number, height: number) {
  const r = render(
    <ModelContext.Provider value={model}>
      <ProfileView width={width} height={height} />
    </ModelContext.Provider>,
  );
  return { ...r, frame: () => stripAnsi(r.lastFrame() ?? "") };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

function assertFits(frame: string, width: number, height: number): string[] {
  const lines = frame.split("\n");
  assert.ok(lines.length <= height, `${lines.length} lines > ${height}`);
  for (const l of lines) assert.ok([...l].length <= width, `too wide (${[...l].length}): ${l}`);
  return lines;
}

/** The row of `name` in the frame, split into its cells. */
function row(frame: string, name: string): string[] {
  const l = frame.split("\n").find((x) => x.startsWith(`${name} `));
  assert.ok(l, `no row ${name}`);
  return l.trim().split(/\s+/);
}

describe("ProfileView", () => {
  it("shows the change between two tables of a node (b06 then b07) while open, at 80x24", async () => {
    const s = setup();
    const v = show(s.model, 80, 24);
    assert.match(v.frame(), /No Kernel Profile Points table yet/);

    feed(s, "P", "b06.log");
    await settle();
    let f = v.frame();
    assert.match(f, /^P {2}at 308\.660 s, no earlier table$/m);
    assert.deepEqual(row(f, "pcache_miss"), ["pcache_miss", "off", "258211", "17446"]);

    feed(s, "P", "b07.log");
    await settle();
    f = v.frame();
    const lines = assertFits(f, 80, 24);
    assert.equal(lines.length, 24);
    assert.match(lines[0]!, /^─ Kernel Profile Points ─+$/);
    assert.equal(lines[1], "P  at 674.383 s, change since 308.660 s");
    assert.deepEqual(lines[2]!.trim().split(/\s+/), ["name", "count", "avg", "ns", "Δcount", "Δavg"]);
    // pcache_miss: 258211 -> 786571 misses, 17446 -> 8223 ns on average.
    assert.deepEqual(row(f, "pcache_miss"), ["pcache_miss", "off", "786571", "8223", "+528360", "-52.9%"]);
    assert.deepEqual(row(f, "__do_kmalloc_node"), [
      "__do_kmalloc_node",
      "off",
      "1584917",
      "1013",
      "+1319270",
      "+176.0%",
    ]);
    assert.deepEqual(row(f, "flush_tlb_others"), ["flush_tlb_others", "off", "53", "2469", "0", "+0.1%"]);
    // An average that was 0 has no percentage.
    assert.deepEqual(row(f, "pcache_flush"), ["pcache_flush", "off", "262225", "12748", "+262225", "new"]);
    assert.equal(lines[23], "p or Esc back");
    v.unmount();
  });

  it("remembers tables printed while the view was closed once the history is tracked", async () => {
    const s = setup();
    profileHistoryOf(s.model);
    feed(s, "P", "b06.log");
    feed(s, "P", "b07.log");
    feed(s, "M", "b08.log");
    const v = show(s.model, 80, 24);
    const f = v.frame();
    assertFits(f, 80, 24);
    assert.match(f, /^P {2}at 674\.383 s, change since 308\.660 s$/m);
    assert.match(f, /^M {2}at \d+\.\d{3} s, no earlier table$/m);
    assert.deepEqual(row(f, "pcache_miss").slice(4), ["+528360", "-52.9%"]);
    v.unmount();
  });

  it("cuts what does not fit and says how much", async () => {
    const s = setup();
    profileHistoryOf(s.model);
    feed(s, "P", "b06.log");
    feed(s, "P", "b07.log");
    feed(s, "M", "b08.log");
    for (const [w, h] of [
      [60, 10],
      [40, 8],
      [30, 4],
    ] as const) {
      const v = show(s.model, w, h);
      const lines = assertFits(v.frame(), w, h);
      assert.equal(lines.length, h);
      assert.match(lines[h - 2]!, /^… \d+ more lines$/);
      assert.equal(lines[h - 1], "p or Esc back");
      v.unmount();
    }
  });
});
