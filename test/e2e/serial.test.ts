import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { SerialSource } from "../../src/sources/serial.js";
import { PtyPair } from "./pty-pair.js";
import { killAll, RecordingSink, tempDir, waitFor } from "./support.js";

describe("SerialSource against a socat pty pair", () => {
  const sources: SerialSource[] = [];
  const pairs: PtyPair[] = [];
  const dirs: { remove: () => void }[] = [];

  after(async () => {
    await Promise.all(sources.map((s) => s.stop()));
    await Promise.all(pairs.map((p) => p.unplug()));
    await killAll();
    for (const d of dirs) d.remove();
  });

  it("reads lines, waits while the device is gone, and reattaches on its own when it is back", async () => {
    const tmp = tempDir("serial");
    dirs.push(tmp);
    const pty = new PtyPair(tmp.dir);
    pairs.push(pty);
    await pty.start();

    const sink = new RecordingSink();
    const source = new SerialSource({ path: pty.a, baudRate: 115200 });
    sources.push(source);
    assert.equal(source.kind, "serial");
    source.start(sink);
    await waitFor(() => sink.states().includes("connected"), "the port to open");
    assert.equal(sink.statuses.find((s) => s.state === "connected")?.detail, `${pty.a} at 115200 baud`);

    await pty.write("[    0.000000] Linux version 4.0.0-lego\n[    0.100000] second\n");
    await waitFor(() => sink.text.includes("second\n"), "the first lines");
    assert.equal(sink.text, "[    0.000000] Linux version 4.0.0-lego\n[    0.100000] second\n");

    await pty.unplug();
    await waitFor(
      () => sink.states().some((s) => s === "waiting" || s === "retrying"),
      "waiting after the device vanished",
    );
    // With the links gone the device is absent, so the source must settle on waiting, not back off.
    await waitFor(() => sink.states().includes("waiting"), "the waiting state");
    assert.match(sink.statuses.find((s) => s.state === "waiting")?.error ?? "", /ttyA/);

    const before = sink.statuses.length;
    await pty.start();
    await waitFor(() => sink.statuses.slice(before).some((s) => s.state === "connected"), "the reattach");
    await pty.write("[    5.000000] after replug\n");
    await waitFor(() => sink.text.includes("after replug\n"), "a line after the reattach");
    assert.equal(sink.reconnects, 1);
    assert.ok(sink.text.endsWith("second\n[    5.000000] after replug\n"), JSON.stringify(sink.text));
  });

  it("waits for a device that does not exist yet and attaches once it appears", async () => {
    const tmp = tempDir("serial-late");
    dirs.push(tmp);
    const pty = new PtyPair(tmp.dir);
    pairs.push(pty);

    const sink = new RecordingSink();
    const source = new SerialSource({
      path: pty.a,
      baudRate: 9600,
      dataBits: 8,
      parity: "none",
      stopBits: 1,
    });
    sources.push(source);
    source.start(sink);
    await waitFor(() => sink.states().includes("waiting"), "waiting for the absent device");
    const waiting = sink.statuses.find((s) => s.state === "waiting");
    assert.equal(waiting?.retryInMs, 1_000);
    assert.ok(sink.statuses.every((s) => s.state !== "retrying" && s.state !== "connected"));

    await pty.start();
    await waitFor(() => sink.states().includes("connected"), "the device to be opened");
    await pty.write("[    0.000000] hello late\n");
    await waitFor(() => sink.text.includes("hello late\n"), "a line from the late device");
    assert.equal(sink.reconnects, 0);

    await source.stop();
    assert.equal(sink.states().at(-1), "closed");
  });
});
