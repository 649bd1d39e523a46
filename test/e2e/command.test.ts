import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CommandSource } from "../../src/sources/command.js";
import { RecordingSink, tempDir, waitFor } from "./support.js";

// Short delays so that restarts happen within a test's time.
const FAST = { minMs: 100, maxMs: 400, waitMs: 100 };

const tmp = tempDir("cmd");
/** Grandchild pids the tests saw, killed in `after` if a test failed before its source was stopped. */
const grandchildren: number[] = [];

after(() => {
  for (const pid of grandchildren) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone, as it should be.
    }
  }
  tmp.remove();
});

/** Quotes a string for the shell. */
const shq = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** Whether a process is gone: no such pid, or a zombie that only waits to be reaped by init. */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }
}

/** Runs a command until `pidfile` names the grandchild it started; returns the source, sink and pid. */
async function startWithGrandchild(script: string, pidfile: string) {
  const src = new CommandSource({ command: `sh -c ${shq(script)}` }, FAST);
  const sink = new RecordingSink();
  src.start(sink);
  const pid = await waitFor(() => {
    try {
      return Number(readFileSync(pidfile, "utf8").trim()) || 0;
    } catch {
      return 0;
    }
  }, "the grandchild's pid file");
  grandchildren.push(pid);
  assert.equal(gone(pid), false, "the grandchild runs before stop");
  return { src, sink, pid };
}

describe("CommandSource", () => {
  it("streams the lines a command prints", async () => {
    const src = new CommandSource({ command: "echo first; echo second; sleep 1000" }, FAST);
    const sink = new RecordingSink();
    src.start(sink);
    try {
      await waitFor(() => sink.text === "first\nsecond\n", "both lines");
      assert.deepEqual(sink.states().slice(0, 2), ["connecting", "connected"]);
      assert.equal(src.kind, "cmd");
    } finally {
      await src.stop();
    }
    assert.equal(sink.states().at(-1), "closed");
  });

  it("restarts a command that exits, with the exit in the status", async () => {
    const src = new CommandSource({ command: "echo tick; exit 5" }, FAST);
    const sink = new RecordingSink();
    src.start(sink);
    try {
      await waitFor(() => sink.text.split("tick").length - 1 >= 3, "three runs");
      const retry = sink.statuses.find((s) => s.state === "retrying");
      assert.ok(retry, "a retrying status");
      assert.match(retry.error ?? "", /exited with code 5/);
      assert.ok((retry.retryInMs ?? 0) > 0);
      assert.ok(sink.reconnects >= 2, "each restart is announced as a reconnect");
    } finally {
      await src.stop();
    }
  });

  it("puts the last stderr line into the status error", async () => {
    const src = new CommandSource({ command: "echo noise >&2; echo 'no route to node3' >&2; exit 3" }, FAST);
    const sink = new RecordingSink();
    src.start(sink);
    try {
      const retry = (await waitFor(() => sink.statuses.find((s) => s.state === "retrying"), "a retry"))!;
      assert.equal(retry.error, "exited with code 3: no route to node3");
      assert.equal(sink.text, "", "stderr is not console data");
    } finally {
      await src.stop();
    }
  });

  it("retries a command that is not found, saying why", async () => {
    const src = new CommandSource({ command: "legowatch-no-such-command-xyz" }, FAST);
    const sink = new RecordingSink();
    src.start(sink);
    try {
      await waitFor(() => sink.statuses.filter((s) => s.state === "retrying").length >= 2, "two retries");
      const retry = sink.statuses.find((s) => s.state === "retrying")!;
      assert.match(retry.error ?? "", /code 127: .*not found/);
    } finally {
      await src.stop();
    }
  });

  it("kills the whole process group on stop, grandchildren included", async () => {
    const pidfile = join(tmp.dir, "sleep.pid");
    const { src, sink, pid } = await startWithGrandchild(
      `sleep 1000 & echo $! > ${shq(pidfile)}; wait`,
      pidfile,
    );
    const t0 = Date.now();
    await src.stop();
    assert.ok(Date.now() - t0 < 1500, "SIGTERM is enough, no need to wait for SIGKILL");
    await waitFor(() => gone(pid), "the grandchild to be gone", 2000);
    assert.equal(sink.states().at(-1), "closed");
  });

  it("sends SIGKILL to a group that ignores SIGTERM", async () => {
    const pidfile = join(tmp.dir, "stubborn.pid");
    const { src, pid } = await startWithGrandchild(
      `trap '' TERM; sleep 1000 & echo $! > ${shq(pidfile)}; wait`,
      pidfile,
    );
    const t0 = Date.now();
    await src.stop();
    const took = Date.now() - t0;
    assert.ok(took >= 1900 && took < 4000, `stop took ${took} ms, about the 2 s grace`);
    await waitFor(() => gone(pid), "the grandchild to be gone", 2000);
  });
});
