import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Alert } from "../../src/engine/alerts.js";
import { alertJson } from "../../src/headless/json.js";
import { AlertHook } from "../../src/integrations/on-alert.js";

const tmp = mkdtempSync(join(tmpdir(), "legowatch-hook-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

let seq = 0;
function alert(over: Partial<Alert> = {}): Alert {
  seq++;
  return {
    id: `worker-stuck#${seq}`,
    rule: "worker-stuck",
    severity: "critical",
    node: "M",
    message: "worker 2 stuck in its handler (op 20000000 from node 0) CPU 5, reported 1x",
    count: 1,
    first: { ts: 121, arrival: 1000, line: 7 },
    last: { ts: 121, arrival: 1000, line: 7 },
    evidence: [{ node: "M", line: 7, ts: 121, text: "[  121.000000] watchdog: worker[2] CPU 5 stucked" }],
    state: "firing",
    ...over,
  };
}

/** A shell word for a path. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** True when a process is gone (or a zombie left for its new parent to reap). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

describe("--on-alert hook", () => {
  it("passes a new alert as JSON on stdin with its rule, severity and node in the environment", async () => {
    const out = join(tmp, "delivered.txt");
    const errors: string[] = [];
    const hook = new AlertHook({
      command: `{ printf '%s %s %s\\n' "$LEGOWATCH_RULE" "$LEGOWATCH_SEVERITY" "$LEGOWATCH_NODE"; cat; } >> ${sq(out)}`,
      onError: (m) => errors.push(m),
    });
    const a = alert();
    const expected = alertJson(a);
    hook.alert(a, "fire");
    // What happens to the alert afterwards does not change what the hook was given...
    a.count = 9;
    // ...and only new alerts are passed on.
    hook.alert(a, "update");
    hook.alert(a, "resolve");
    await hook.close();
    const text = readFileSync(out, "utf8");
    const lines = text.split("\n");
    assert.equal(lines[0], "worker-stuck critical M");
    assert.deepEqual(JSON.parse(lines[1]!), JSON.parse(expected));
    assert.equal(JSON.parse(lines[1]!).type, "alert");
    assert.equal(lines.length, 3, "one alert, one JSON line");
    assert.deepEqual(errors, []);
  });

  it("never blocks: alert() returns at once while the command runs", async () => {
    const errors: string[] = [];
    const hook = new AlertHook({ command: "sleep 1", onError: (m) => errors.push(m) });
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) hook.alert(alert(), "fire");
    const took = performance.now() - t0;
    assert.ok(took < 100, `50 alerts took ${took.toFixed(1)} ms`);
    assert.equal(hook.pending, 30, "the rate limit let 30 through; none has started yet");
    await hook.close(0);
  });

  it("reports a failing command with its exit code and last stderr line", async () => {
    const errors: string[] = [];
    const hook = new AlertHook({
      command: "echo first >&2; echo 'boom: no route to pager' >&2; exit 3",
      onError: (m) => errors.push(m),
    });
    hook.alert(alert(), "fire");
    await hook.close();
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /--on-alert "echo first >&2; .*exit 3": exit code 3: boom: no route to pager$/);
  });

  it("a command that ignores its input and succeeds is no failure", async () => {
    const errors: string[] = [];
    const hook = new AlertHook({ command: "true", onError: (m) => errors.push(m) });
    const big = alert({ message: "x".repeat(200_000) });
    hook.alert(big, "fire");
    await hook.close();
    assert.deepEqual(errors, []);
  });

  it("reports a missing command", async () => {
    const errors: string[] = [];
    const hook = new AlertHook({ command: "legowatch-no-such-command-x1", onError: (m) => errors.push(m) });
    hook.alert(alert(), "fire");
    await hook.close();
    assert.equal(errors.length, 1);
    assert.match(
      errors[0]!,
      /legowatch-no-such-command-x1": exit code 127 \(command not found\): .*not found/,
    );
  });

  it("kills a hanging command (and what its shell started) after the timeout and reports it", async () => {
    const errors: string[] = [];
    const pidFile = join(tmp, "hang.pid");
    const hook = new AlertHook({
      command: `sleep 30 & echo $! > ${sq(pidFile)}; echo 'still waiting for the pager' >&2; wait`,
      timeoutMs: 300,
      onError: (m) => errors.push(m),
    });
    const t0 = performance.now();
    hook.alert(alert(), "fire");
    assert.ok(performance.now() - t0 < 20);
    await until(() => errors.length > 0);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /: killed after 300 ms \(timeout\), SIGTERM: still waiting for the pager$/);
    const sleeper = Number(readFileSync(pidFile, "utf8"));
    await until(() => gone(sleeper), 2000); // the shell's child was killed too
    assert.equal(hook.pending, 0);
    await hook.close();
  });

  it("rate-limits, and says how many alerts were held back once the window is over", async () => {
    const out = join(tmp, "limited.txt");
    const errors: string[] = [];
    const hook = new AlertHook({
      command: `cat >> ${sq(out)}`,
      maxPerMinute: 2,
      windowMs: 400,
      onError: (m) => errors.push(m),
    });
    for (let i = 0; i < 5; i++) hook.alert(alert(), "fire");
    await until(() => hook.pending === 0);
    assert.equal(readFileSync(out, "utf8").trim().split("\n").length, 2);
    assert.deepEqual(errors, [], "nothing said before the window is over");
    await until(() => errors.length > 0);
    assert.deepEqual(errors, ["3 alerts not passed to the hook (rate limit)"]);
    // A new window: alerts pass again.
    hook.alert(alert(), "fire");
    await hook.close();
    assert.equal(readFileSync(out, "utf8").trim().split("\n").length, 3);
    assert.equal(errors.length, 1);
  });

  it("bounds the queue and counts what did not fit", async () => {
    const errors: string[] = [];
    const hook = new AlertHook({
      command: "cat > /dev/null; sleep 0.1",
      concurrency: 1,
      maxQueued: 2,
      onError: (m) => errors.push(m),
    });
    for (let i = 0; i < 5; i++) hook.alert(alert(), "fire");
    assert.equal(hook.pending, 2);
    await until(() => hook.pending === 0);
    await hook.close();
    assert.deepEqual(errors, ["3 alerts not passed to the hook (queue full: the command is too slow)"]);
  });

  it("close() waits for running hooks, but only so long", async () => {
    const out = join(tmp, "close.txt");
    const errors: string[] = [];
    const slow = new AlertHook({ command: `sleep 0.2; cat > ${sq(out)}`, onError: (m) => errors.push(m) });
    slow.alert(alert(), "fire");
    await slow.close();
    assert.ok(existsSync(out), "the run finished before close() returned");

    const stuck = new AlertHook({ command: "sleep 30", timeoutMs: 60_000, onError: (m) => errors.push(m) });
    stuck.alert(alert(), "fire");
    await until(() => stuck.pending === 1);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    await stuck.close(200);
    assert.ok(performance.now() - t0 < 2000, "bounded");
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /"sleep 30": killed by SIGKILL$/);
    // Closed: nothing more is run.
    stuck.alert(alert(), "fire");
    assert.equal(stuck.pending, 0);
  });
});
