import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { render } from "ink-testing-library";
import { Pipeline } from "../../src/pipeline.js";
import { App } from "../../src/ui/app.js";
import { ModelContext } from "../../src/ui/hooks/use-model.js";
import { UiModel } from "../../src/ui/model.js";

const seed = (name: string) => readFileSync(new URL(`../fixtures/seed/${name}`, import.meta.url));
const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "");

function setup(bell = true) {
  let model: UiModel | null = null;
  const pipeline = new Pipeline({
    onLine: (l) => model?.onLine(l),
    onEvent: (e) => model?.onEvent(e),
    onAlert: (a) => model?.onAlert(a),
  });
  model = new UiModel(pipeline.engine, () => 2_000_000, 1);
  const ui = model;
  const r = render(
    <ModelContext.Provider value={ui}>
      <App bell={bell} />
    </ModelContext.Provider>,
  );
  const feed = async (node: string, bytes: Buffer | string) => {
    pipeline.push(node, bytes, 1_000_000);
    pipeline.idle(node, 1_000_000);
    ui.flush();
    await sleep(80);
  };
  const press = async (keys: string) => {
    r.stdin.write(keys);
    // Ink draws at most 30 frames a second: wait past one.
    await sleep(80);
  };
  // The bell is written on its own; the screen is the last frame that is not it.
  const frame = () => strip(r.frames.filter((f) => f !== "\u0007").at(-1) ?? "");
  return { r, model: ui, feed, press, frame };
}

describe("the whole screen", () => {
  it("opens the crash under the selected alert, scrolls it and closes it", async () => {
    const t = setup();
    await t.feed("P", seed("b21.log"));
    assert.match(t.frame(), /CRIT crash/);
    await t.press("\r");
    assert.match(t.frame(), /BUG: unable to handle kernel NULL pointer dereference in fit_poll_cq/);
    assert.match(t.frame(), /recvpollcq/);
    await t.press("\u001b");
    assert.match(t.frame(), /Alerts/);
    t.r.unmount();
  });

  it("acknowledging hides an alert; help and profile views toggle", async () => {
    const t = setup();
    await t.feed("P", seed("b01.log"));
    assert.match(t.frame(), /segfault/);
    await t.press("a");
    assert.doesNotMatch(t.frame(), /ERR +segfault/);
    await t.press("?");
    assert.match(t.frame(), /acknowledge/i);
    await t.press("?");
    await t.feed("P", seed("b06.log"));
    await t.press("p");
    assert.match(t.frame(), /pcache_miss/);
    await t.press("\u001b");
    assert.match(t.frame(), /Log/);
    t.r.unmount();
  });

  it("filters the log by node and severity, and searches it", async () => {
    const t = setup();
    await t.feed("P", seed("b22p.log"));
    await t.feed("M", seed("b22m.log"));
    await t.press("f");
    assert.match(t.frame(), /node: P/);
    await t.press("s");
    assert.match(t.frame(), /≥ warning/);
    await t.press("/");
    await t.press("syndrome\r");
    assert.match(t.frame(), /search: syndrome/);
    t.r.unmount();
  });

  it("rings the bell on a new critical alert, unless told not to", async () => {
    for (const bell of [true, false]) {
      const t = setup(bell);
      await t.feed("P", seed("b20.log"));
      const rang = t.r.frames.some((f) => f.includes("\u0007"));
      assert.equal(rang, bell);
      t.r.unmount();
    }
  });
});
