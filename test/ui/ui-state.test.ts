import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { INITIAL_STATE, reduce, type UiAction, type UiState } from "../../src/ui/ui-state.js";

const run = (...actions: UiAction[]): UiState => actions.reduce(reduce, INITIAL_STATE);

describe("reduce", () => {
  it("starts on the alerts, following the log tail, with no filter", () => {
    assert.equal(INITIAL_STATE.focus, "alerts");
    assert.equal(INITIAL_STATE.view, "main");
    assert.deepEqual(INITIAL_STATE.log, {
      node: null,
      minSeverity: null,
      skip: 0,
      search: null,
      typing: null,
    });
  });

  it("moves the focus between alerts and log", () => {
    assert.equal(run({ type: "focus-next" }).focus, "log");
    assert.equal(run({ type: "focus-next" }, { type: "focus-next" }).focus, "alerts");
  });

  it("toggles full-screen views and opens a crash from the top", () => {
    const help = run({ type: "view", view: "help" });
    assert.equal(help.view, "help");
    assert.equal(reduce(help, { type: "view", view: "help" }).view, "main");
    const crash = run(
      { type: "open-crash", alertId: "crash#3" },
      { type: "crash-scroll", delta: 5, max: 40 },
    );
    assert.deepEqual([crash.view, crash.crashAlert, crash.crashScroll], ["crash", "crash#3", 5]);
    assert.equal(reduce(crash, { type: "crash-scroll", delta: -10, max: 40 }).crashScroll, 0);
    // Scrolling past the end stops there, so the way back up is never a run of dead keys.
    assert.equal(reduce(crash, { type: "crash-scroll", delta: 100, max: 40 }).crashScroll, 40);
    assert.equal(reduce(crash, { type: "view", view: "crash" }).view, "main");
  });

  it("keeps the alert selection within the list", () => {
    assert.equal(run({ type: "select-alert", delta: -1, count: 3 }).alert, 0);
    assert.equal(
      run({ type: "select-alert", delta: 1, count: 3 }, { type: "select-alert", delta: 1, count: 3 }).alert,
      2,
    );
    assert.equal(run({ type: "select-alert", delta: 10, count: 3 }).alert, 2);
    assert.equal(run({ type: "select-alert", delta: 1, count: 0 }).alert, 0);
  });

  it("clamps the log scroll between following (0) and the oldest line", () => {
    assert.equal(run({ type: "log-scroll", delta: 1, max: 10 }).log.skip, 1);
    assert.equal(run({ type: "log-scroll", delta: 50, max: 10 }).log.skip, 10);
    assert.equal(
      run({ type: "log-scroll", delta: 5, max: 10 }, { type: "log-scroll", delta: -9, max: 10 }).log.skip,
      0,
    );
    // Fewer lines than rows: the bound is negative, nothing scrolls.
    assert.equal(run({ type: "log-scroll", delta: 3, max: -4 }).log.skip, 0);
    assert.equal(run({ type: "log-scroll", delta: 5, max: 10 }, { type: "log-follow" }).log.skip, 0);
    assert.equal(run({ type: "log-skip", skip: 42 }).log.skip, 42);
    assert.equal(run({ type: "log-skip", skip: -1 }).log.skip, 0);
  });

  it("cycles the node filter through every node and back to all, following again", () => {
    const nodes = ["M", "P", "S"];
    const seen: (string | null)[] = [];
    let s = run({ type: "log-scroll", delta: 4, max: 10 });
    for (let i = 0; i < 4; i++) {
      s = reduce(s, { type: "log-node", nodes });
      seen.push(s.log.node);
      assert.equal(s.log.skip, 0);
    }
    assert.deepEqual(seen, ["M", "P", "S", null]);
    // A node that went away: the cycle starts over.
    const gone = reduce(
      { ...INITIAL_STATE, log: { ...INITIAL_STATE.log, node: "X" } },
      { type: "log-node", nodes },
    );
    assert.equal(gone.log.node, null);
  });

  it("cycles the severity filter warning, error, critical, all", () => {
    const seen: (string | null)[] = [];
    let s = INITIAL_STATE;
    for (let i = 0; i < 4; i++) {
      s = reduce(reduce(s, { type: "log-scroll", delta: 2, max: 10 }), { type: "log-severity" });
      seen.push(s.log.minSeverity);
      assert.equal(s.log.skip, 0);
    }
    assert.deepEqual(seen, ["warning", "error", "critical", null]);
  });

  it("types a search in the log, commits it on Enter and keeps the old one on Escape", () => {
    const typing = run(
      { type: "search-start" },
      { type: "search-type", text: "s" },
      { type: "search-type", text: "st" },
    );
    assert.equal(typing.focus, "log");
    assert.equal(typing.log.typing, "st");
    assert.equal(typing.log.search, null);
    const committed = reduce(reduce(typing, { type: "search-type", text: "stucked" }), {
      type: "search-end",
      commit: true,
    });
    assert.equal(committed.log.search, "stucked");
    assert.equal(committed.log.typing, null);
    const again = reduce(reduce(committed, { type: "search-start" }), { type: "search-type", text: "fit" });
    const cancelled = reduce(again, { type: "search-end", commit: false });
    assert.equal(cancelled.log.search, "stucked");
    assert.equal(cancelled.log.typing, null);
    // An empty search clears it.
    const cleared = reduce(reduce(committed, { type: "search-start" }), { type: "search-end", commit: true });
    assert.equal(cleared.log.search, null);
  });

  it("never changes the state it is given", () => {
    const before = structuredClone(INITIAL_STATE);
    run({ type: "focus-next" }, { type: "log-node", nodes: ["M"] }, { type: "search-start" });
    assert.deepEqual(INITIAL_STATE, before);
  });
});
