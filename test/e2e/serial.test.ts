import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { existsSync, lstatSync, rmSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { SerialSource } from "../../src/sources/serial.js";
import { kill, killAll, RecordingSink, spawnTracked, tempDir, waitFor } from "./support.js";

/** A socat pty pair: the source opens `a`, the test writes to `b` as the node's console would. */
class PtyPair {
  readonly a: string;
  readonly b: string;
  private socat: ChildProcess | null = null;
  private writer: FileHandle | null = null;

  constructor(dir: string) {
    this.a = join(dir, "ttyA");
    this.b = join(dir, "ttyB");
  }

  async start(): Promise<void> {
    this.socat = spawnTracked("socat", [`pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`]);
    await waitFor(() => existsSync(this.a) && existsSync(this.b), "socat's pty links");
  }

  /**
   * Writes to the far end. The handle stays open between writes: closing the last opener of a pty
   * makes socat see end of file and exit.
   */
  async write(text: string): Promise<void> {
    this.writer ??= await open(this.b, "w");
    await this.writer.write(text);
  }

  /** Kills socat the hard way (as an unplugged adapter vanishes) and removes the links it leaves. */
  async unplug(): Promise<void> {
    await this.writer?.close();
    this.writer = null;
    if (this.socat) await kill(this.socat, "SIGKILL");
    this.socat = null;
    for (const link of [this.a, this.b]) if (isLink(link)) rmSync(link, { force: true });
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

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
