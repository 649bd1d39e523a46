import assert from "node:assert/strict";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Alert, AlertChange } from "../../src/engine/alerts.js";
import { Monitor } from "../../src/live/monitor.js";
import { Pipeline } from "../../src/pipeline.js";
import { type RecordedLine, readSessionLines } from "../../src/record/lines.js";
import { attachRecorder } from "../../src/record/recorder.js";
import { replaySession } from "../../src/record/replay.js";
import { isHeader, readSession, type SessionHeader, type SessionItem } from "../../src/record/session.js";
import { SessionWriter } from "../../src/record/writer.js";
import { FileSource } from "../../src/sources/file.js";
import { SerialSource } from "../../src/sources/serial.js";
import { PtyPair } from "./pty-pair.js";
import { kill, killAll, spawnTracked, tempDir, waitFor } from "./support.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const FAST = { minMs: 50, maxMs: 300, waitMs: 100 };
const stamp = (ts: number) => `[${ts.toFixed(6).padStart(12)}]`;

/** What a user sees of an alert change, and of an alert at the end. */
const seen = (a: Alert, change: AlertChange) =>
  `${change} ${a.rule} ${a.node} ${a.severity} x${a.count}: ${a.message}`;
const final = (a: Alert) => `${a.state} ${a.rule} ${a.node} ${a.severity} x${a.count}: ${a.message}`;

async function readAll(path: string): Promise<{ items: SessionItem[]; warnings: string[] }> {
  const items: SessionItem[] = [];
  const warnings: string[] = [];
  for await (const x of readSession(path, (w) => warnings.push(w))) items.push(x);
  return { items, warnings };
}

describe("recording a live watch, and replaying it", { timeout: 120_000 }, () => {
  const tmp = tempDir("record");
  after(async () => {
    await killAll();
    tmp.remove();
  });

  it("a serial node and a file node, recorded through the monitor, replay to the same alerts", async () => {
    const pty = new PtyPair(tmp.dir);
    await pty.start();
    const file = join(tmp.dir, "M.log");
    writeFileSync(file, "");
    const session = join(tmp.dir, "live.jsonl.gz");
    const writer = new SessionWriter(session, {
      nodes: [
        { name: "P", source: `serial:${pty.a}?baud=115200` },
        { name: "M", source: `file:${file}` },
      ],
    });
    const rec = attachRecorder(writer);
    const changes: string[] = [];
    const pipeline = new Pipeline({
      dedupReplays: true,
      onChunk: rec.onChunk,
      onIdle: rec.onIdle,
      onReconnect: rec.onReconnect,
      onAlert: (a, c) => changes.push(seen(a, c)),
    });
    const monitor = new Monitor(
      [
        { name: "P", source: new SerialSource({ path: pty.a, baudRate: 115200 }, FAST) },
        { name: "M", source: new FileSource({ path: file }, FAST) },
      ],
      pipeline,
      { onStatus: rec.onStatus },
    );
    const has = (rule: string, node: string) => () =>
      pipeline.engine.all.some((a) => a.rule === rule && a.node === node);
    try {
      monitor.start();
      await waitFor(
        () =>
          monitor.statuses.get("P")?.state === "connected" &&
          monitor.statuses.get("M")?.state === "connected",
        "both consoles to connect",
      );
      // P, over the serial line: its RPC to M times out.
      await pty.write(`${stamp(30800.1)} pcache: miss on 0x7f0000001000\r\n`);
      await pty.write(
        `${stamp(30801.29616)} ibapi_send_reply() CPU:8 PID:19 timeout (30010 ms), caller: clflush_one+0x1c9/0x370\r\n`,
      );
      await waitFor(has("rpc-timeout", "P"), () => `rpc-timeout on P: ${changes.join("; ")}`);
      // M, in its console file: a user process segfaults, then an IB error burst.
      appendFileSync(
        file,
        `${stamp(30900)} word_count-pthr[29]: segfault at 0x4e842010 ip 0000000000420354 sp 00007fffb17f9bc0 error 6\n`,
      );
      await waitFor(has("segfault", "M"), () => `segfault on M: ${changes.join("; ")}`);
      const burst = [
        "mlx4_ib_handle_error_cqe syndrome 21",
        "mlx4_ib_handle_error_cqe syndrome 5",
        "send request failed at connection 1 as 12",
        "mlx4_ib_handle_error_cqe syndrome 5",
        "fit_poll_cq: failed status (5) for wr_id 305",
        "fit_poll_cq: failed status (5) for wr_id 306",
        "fit_poll_cq: connection 1 Recv weird event as -1",
      ];
      appendFileSync(file, burst.map((l, i) => `${stamp(30913.6 + i * 0.05)} ${l}\n`).join(""));
      await waitFor(has("ib-error-storm", "M"), () => `ib-error-storm on M: ${changes.join("; ")}`);
      // The serial adapter is unplugged and plugged back: the source waits, then reconnects.
      await pty.unplug();
      await waitFor(() => monitor.statuses.get("P")?.state !== "connected", "P to notice the unplug");
      await pty.start();
      await waitFor(() => monitor.statuses.get("P")?.state === "connected", "P to reattach");
      await pty.write(
        `${stamp(30990)} ib_mad_completion_handler 2337 got successful recv cq op 128 mad_got_one 21\r\n`,
      );
      await waitFor(() => pipeline.engine.node("P").lines >= 3, "P's line after the reconnect");
      // Quiet long enough for anything held back to come out on the clock.
      await sleep(1500);
    } finally {
      await monitor.stop();
      await writer.close();
      await pty.unplug();
    }
    const live = pipeline.engine.all.map(final);
    assert.ok(changes.length >= 3, changes.join("\n"));

    const { items, warnings } = await readAll(session);
    assert.deepEqual(warnings, []);
    assert.ok(isHeader(items[0]!));
    assert.ok(
      items.some((x) => "r" in x && x.n === "P"),
      "P's reconnect is recorded",
    );
    assert.ok(items.some((x) => "s" in x && x.n === "P" && x.s.state === "waiting"));
    assert.ok(
      items.some((x) => "l" in x && x.n === "P" && !x.c && x.l.toString().includes("ibapi_send_reply")),
      "P's lines are recorded one per record",
    );

    const replayed: string[] = [];
    const p = await replaySession(session, { speed: "max", onAlert: (a, c) => replayed.push(seen(a, c)) });
    assert.deepEqual(replayed, changes);
    assert.deepEqual(p.engine.all.map(final), live);
  });

  for (const name of ["killed.jsonl", "killed.jsonl.gz"]) {
    it(`a recorder killed with SIGKILL leaves a readable session (${name})`, async () => {
      const log = join(tmp.dir, `${name}.console.log`);
      const session = join(tmp.dir, name);
      writeFileSync(log, "");
      const child = spawnTracked(
        process.execPath,
        ["--import", "tsx", join(root, "test/record/record-child.ts"), session, log],
        { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
      );
      let out = "";
      child.stdout!.on("data", (c: Buffer) => {
        out += c.toString();
      });
      await waitFor(() => out.includes("connected"), "the recorder to follow its file");
      // A line every 10 ms for 2 s, each stamped with when it was written.
      const written: number[] = [];
      const until = Date.now() + 2000;
      for (let i = 0; Date.now() < until; i++) {
        written.push(Date.now());
        appendFileSync(log, `${stamp(i / 100)} line ${i}\n`);
        await sleep(10);
      }
      const killedAt = Date.now();
      await kill(child, "SIGKILL");

      const warnings: string[] = [];
      const items: (SessionHeader | RecordedLine)[] = [];
      for await (const x of readSessionLines(session, (w) => warnings.push(w))) items.push(x);
      assert.ok(isHeader(items[0]!));
      const lines = items.filter((x) => "l" in x);
      // What is there is a prefix of what was written, in order, nothing damaged.
      lines.forEach((x, i) => {
        assert.equal(x.l, `${stamp(i / 100)} line ${i}`);
      });
      // The file is followed every 200 ms and the session flushed every 200 ms: whatever was written
      // well before the kill is there.
      const missing = written.length - lines.length;
      const lastKept = lines.length > 0 ? lines.at(-1)!.t : 0;
      const lostMs = killedAt - lastKept;
      assert.ok(
        written.every((at, i) => at > killedAt - 700 || i < lines.length),
        `${missing} of ${written.length} lines missing; the last one kept arrived ${lostMs} ms before the kill`,
      );
      assert.ok(lostMs < 600, `the last line kept arrived ${lostMs} ms before the kill`);
      // A gzip session is written a member per flush: at most the member being written is cut.
      assert.ok(
        warnings.every((w) => name.endsWith(".gz") && /cut short/.test(w)),
        warnings.join("\n"),
      );
    });
  }
});
