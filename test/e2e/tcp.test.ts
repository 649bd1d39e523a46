import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Monitor } from "../../src/live/monitor.js";
import { Pipeline } from "../../src/pipeline.js";
import type { BackoffOptions } from "../../src/sources/reconnect.js";
import { TcpSource } from "../../src/sources/tcp.js";
import {
  floodLines,
  freePort,
  kill,
  killAll,
  RecordingSink,
  spawnTracked,
  tempDir,
  waitFor,
} from "./support.js";

// Short delays keep the tests quick; the production defaults only change how long the waits are.
const FAST: BackoffOptions = { minMs: 100, maxMs: 400, waitMs: 100 };

/** A console server on 127.0.0.1 that greets every client with `greeting` and tracks its sockets. */
class ConsoleServer {
  readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(greeting: Uint8Array) {
    this.server = createServer((s) => {
      this.sockets.add(s);
      s.once("close", () => this.sockets.delete(s));
      s.on("error", () => undefined);
      s.write(greeting);
    });
  }

  static async listen(port: number, greeting: Uint8Array): Promise<ConsoleServer> {
    const c = new ConsoleServer(greeting);
    await new Promise<void>((resolve, reject) => {
      c.server.once("error", reject);
      c.server.listen(port, "127.0.0.1", () => resolve());
    });
    return c;
  }

  /** Sends bytes to every connected client. */
  send(text: string): void {
    for (const s of this.sockets) s.write(text);
  }

  /** Stops listening and drops every client, as a console server that goes down does. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const IAC = 0xff;
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p))));

describe("TcpSource against a real TCP server", () => {
  const sources: TcpSource[] = [];
  const servers: ConsoleServer[] = [];

  after(async () => {
    await Promise.all(sources.map((s) => s.stop()));
    await Promise.all(servers.map((s) => s.close()));
  });

  it("receives lines without telnet bytes, reconnects after the server goes away and comes back", async () => {
    const port = await freePort();
    // ser2net in telnet mode opens with option negotiation; the source must drop it.
    const first = await ConsoleServer.listen(
      port,
      bytes([IAC, 0xfb, 1, IAC, 0xfb, 3], "[    0.000000] boot one\n"),
    );
    servers.push(first);
    const sink = new RecordingSink();
    const source = new TcpSource({ host: "127.0.0.1", port }, FAST);
    sources.push(source);
    assert.equal(source.kind, "tcp");
    source.start(sink);

    await waitFor(() => sink.text.includes("boot one\n"), "the greeting");
    first.send("[    1.000000] live line\n");
    await waitFor(() => sink.text.includes("live line\n"), "a live line");
    assert.equal(sink.text, "[    0.000000] boot one\n[    1.000000] live line\n");
    const connected = sink.statuses.find((s) => s.state === "connected");
    assert.equal(connected?.detail, `127.0.0.1:${port}`);

    await first.close();
    await waitFor(() => sink.states().includes("retrying"), "retrying after the server closed");
    const dropAt = sink.statuses.length;
    // Let at least one attempt be refused while nothing listens.
    await waitFor(() => sink.statuses.slice(dropAt).some((s) => s.state === "retrying"), "a refused retry");

    const second = await ConsoleServer.listen(port, bytes("[    0.000000] boot two\n"));
    servers.push(second);
    await waitFor(() => sink.text.includes("boot two\n"), "the greeting after the server came back");
    second.send("[    2.000000] after reconnect\n");
    await waitFor(() => sink.text.includes("after reconnect\n"), "a line after the reconnect");

    assert.equal(sink.reconnects, 1);
    const states = sink.states();
    const lastRetry = states.lastIndexOf("retrying");
    assert.ok(lastRetry > states.indexOf("connected"), `states: ${states.join(" ")}`);
    assert.equal(states.slice(lastRetry).at(-1), "connected", `states: ${states.join(" ")}`);
    assert.ok(sink.statuses.some((s) => s.state === "retrying" && /ECONNREFUSED/.test(s.error ?? "")));
  });

  it("retries a connection refused at start until the server appears", async () => {
    const port = await freePort();
    const sink = new RecordingSink();
    const source = new TcpSource({ host: "127.0.0.1", port }, FAST);
    sources.push(source);
    source.start(sink);

    await waitFor(
      () => sink.statuses.filter((s) => s.state === "retrying").length >= 2,
      "two refused attempts",
    );
    assert.match(sink.statuses.find((s) => s.state === "retrying")?.error ?? "", /ECONNREFUSED/);
    assert.ok(sink.statuses.every((s) => s.state !== "connected"));

    const server = await ConsoleServer.listen(port, bytes("[    0.000000] finally\n"));
    servers.push(server);
    await waitFor(() => sink.text.includes("finally\n"), "the first line once the server listens");
    assert.equal(sink.reconnects, 0);

    await source.stop();
    assert.equal(sink.states().at(-1), "closed");
    await waitFor(() => server.sockets.size === 0, "the server to see the client go");
  });
});

describe("a TCP flood into the monitor", { timeout: 120_000 }, () => {
  const tmp = tempDir("tcp-flood");
  after(async () => {
    await killAll();
    tmp.remove();
  });

  it("is slowed down at the server instead of dropped: 50 MB, every line counted", async () => {
    const LINES = 500_000; // 50 MB
    const flood = join(tmp.dir, "flood");
    const parts: Buffer[] = [];
    for (let i = 0; i < LINES; i += 10_000) parts.push(floodLines(i, 10_000));
    writeFileSync(flood, Buffer.concat(parts));
    // The console server is its own process, as on a real cluster: it writes as fast as the
    // socket takes, whatever the monitor's event loop is doing.
    const port = await freePort();
    const server = spawnTracked("socat", [
      "-u",
      `OPEN:${flood}`,
      `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`,
    ]);
    // A parser slower than loopback, whatever the machine: 5 µs more a line (at most 200,000 lines/s,
    // 20 MB/s), so that the flood certainly outruns it and the monitor has to push back.
    const pipeline = new Pipeline({
      onLine: () => {
        const until = performance.now() + 0.005;
        while (performance.now() < until);
      },
    });
    const source = new TcpSource({ host: "127.0.0.1", port }, FAST);
    let dropped = 0;
    // A small bound, so that a monitor that did not pause the socket would certainly drop.
    const monitor = new Monitor([{ name: "T", source }], pipeline, {
      maxQueuedBytes: 4 * 1024 * 1024,
      pauseAboveBytes: 1024 * 1024,
      resumeBelowBytes: 256 * 1024,
      onDropped: (_node, lines) => (dropped += lines),
    });
    monitor.start();
    try {
      await waitFor(
        () => dropped > 0 || pipeline.engine.node("T").lines >= LINES,
        () => `every line (${pipeline.engine.node("T").lines} of ${LINES} so far)`,
        100_000,
      );
    } finally {
      await monitor.stop();
      await kill(server);
    }
    // 50 MB through a monitor that holds at most 4 MiB, into a parser slower than the sender: whatever
    // did not fit waited at the sender (the monitor pausing the socket, or TCP's own window while the
    // parser was busy), and nothing was lost.
    assert.equal(dropped, 0, "no line dropped");
    assert.equal(pipeline.engine.node("T").lines, LINES);
  });
});
