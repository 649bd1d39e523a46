import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { ProfileEvent } from "../../src/parse/events.js";
import { Pipeline } from "../../src/pipeline.js";
import { UiModel } from "../../src/ui/model.js";
import { compareProfiles, ProfileHistory, profileHistoryOf } from "../../src/ui/profile-history.js";

const seed = (f: string) => readFileSync(new URL(`../fixtures/seed/${f}`, import.meta.url));

/** Node P after b06, then after b07: the engine's latest table each time, and the node itself. */
function tables() {
  const p = new Pipeline();
  p.push("P", seed("b06.log"));
  p.idle("P");
  const node = p.engine.nodes.get("P")!;
  const first = node.profile!;
  p.push("P", seed("b07.log"));
  p.idle("P");
  const second = node.profile!;
  return { p, node, first, second };
}

describe("ProfileHistory", () => {
  it("keeps the table a new one replaced, noticing new tables by identity", () => {
    const { p, first, second } = tables();
    assert.notEqual(first, second);
    const h = new ProfileHistory();
    h.observe("P", { profile: first, boots: 0 });
    h.observe("P", { profile: first, boots: 0 });
    assert.equal(h.latest("P"), first);
    assert.equal(h.previous("P"), undefined);
    h.sync(p.engine.nodes);
    h.sync(p.engine.nodes);
    assert.equal(h.latest("P"), second);
    assert.equal(h.previous("P"), first);
    assert.equal(h.latest("M"), undefined);
  });

  it("forgets the previous boot's table after a reboot", () => {
    const p = new Pipeline();
    const h = new ProfileHistory();
    p.push("P", seed("b06.log"));
    p.idle("P");
    h.sync(p.engine.nodes);
    p.push("P", "[    0.000000] Linux version 4.0.0-lego-ys+ (root@wuklab) #744 SMP\n");
    p.push("P", seed("b07.log"));
    p.idle("P");
    const node = p.engine.nodes.get("P")!;
    assert.equal(node.boots, 1);
    h.sync(p.engine.nodes);
    assert.equal(h.latest("P"), node.profile);
    assert.equal(h.previous("P"), undefined);
  });

  it("is fed on every model change once tracked, view open or not", () => {
    let model: UiModel | undefined;
    const p = new Pipeline({ onLine: (l) => model?.onLine(l), onEvent: (e) => model?.onEvent(e) });
    model = new UiModel(p.engine, () => 0);
    const h = profileHistoryOf(model);
    assert.equal(profileHistoryOf(model), h);
    p.push("P", seed("b06.log"));
    p.idle("P");
    model.flush();
    const first = h.latest("P");
    p.push("P", seed("b07.log"));
    p.idle("P");
    model.flush();
    assert.ok(first);
    assert.equal(h.previous("P"), first);
    assert.equal(h.latest("P"), p.engine.nodes.get("P")!.profile);
  });
});

describe("compareProfiles", () => {
  it("gives each row's count delta and average change against the previous table", () => {
    const { first, second } = tables();
    const byName = new Map(compareProfiles(second, first).map((r) => [r.name, r]));
    const miss = byName.get("pcache_miss")!;
    assert.equal(miss.count, 786571n);
    assert.equal(miss.countDelta, 528360n);
    assert.equal(miss.avgNs, 8223n);
    assert.ok(Math.abs(miss.avgChangePct! - ((8223 - 17446) / 17446) * 100) < 1e-9);
    assert.equal(byName.get("flush_tlb_others")!.countDelta, 0n);
    // From 0 ns on average: no finite percentage.
    assert.equal(byName.get("pcache_flush")!.avgChangePct, null);
  });

  it("has no change without a previous table or for a row it lacked", () => {
    const { first, second } = tables();
    const alone = compareProfiles(second);
    assert.equal(alone.length, 4);
    assert.ok(alone.every((r) => r.countDelta === undefined && r.avgChangePct === undefined));
    const fewer: ProfileEvent = { ...first, rows: first.rows.filter((r) => r.name !== "pcache_miss") };
    const miss = compareProfiles(second, fewer).find((r) => r.name === "pcache_miss")!;
    assert.equal(miss.countDelta, undefined);
    assert.equal(compareProfiles(second, fewer).find((r) => r.name === "pcache_flush")!.countDelta, 262225n);
  });
});
