import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { type ExportOptions, exportSession, UnknownNodeError } from "../../src/record/export.js";
import { SessionWriter } from "../../src/record/writer.js";

const SEED = new URL("../fixtures/seed/", import.meta.url);
const seedLines = (name: string) => readFileSync(new URL(name, SEED), "utf8").replace(/\n$/, "").split("\n");

const T0 = 1_700_000_000_000;
// P's console as received: the seed's b22p log (an RPC timeout, IB errors, a crash), with a coloured line.
const P = [...seedLines("b22p.log"), "\u001b[1;31m[30950.000000] colour\u001b[0m"];
const M = seedLines("b22m.log");

async function run(path: string, o: Omit<ExportOptions, "out">): Promise<string> {
  const out = new PassThrough();
  let text = "";
  out.on("data", (c: Buffer) => {
    text += c.toString("utf8");
  });
  await exportSession(path, { ...o, out });
  return text;
}

describe("export", () => {
  const dir = mkdtempSync(join(tmpdir(), "legowatch-export-"));
  const two = join(dir, "two.jsonl.gz");
  const one = join(dir, "one.jsonl");
  before(async () => {
    const w = new SessionWriter(two, {
      nodes: [
        { name: "P", source: "serial:/dev/ttyUSB0" },
        { name: "M", source: "file:M.log" },
      ],
      started: T0,
      host: "lab",
    });
    w.status(T0 + 10, "P", { state: "connected" });
    // Interleaved: P a line every 50 ms from 1 s, M every 70 ms from 1.02 s.
    const recs = [
      ...P.map((l, i) => ({ t: T0 + 1000 + i * 50, n: "P", l })),
      ...M.map((l, i) => ({ t: T0 + 1020 + i * 70, n: "M", l })),
    ].sort((a, b) => a.t - b.t);
    for (const r of recs) w.chunk(r.t, r.n, `${r.l}\n`);
    w.reconnect(T0 + 5000, "M");
    // Drained at the stop: stamped a little before the status written ahead of it.
    w.status(T0 + 6000, "P", { state: "closed" });
    // A last line without its line end: complete at the end of the session.
    w.chunk(T0 + 5990, "P", "last");
    await w.close();
    const w1 = new SessionWriter(one, { nodes: [{ name: "P", source: "sim:P" }], started: T0, host: "lab" });
    for (const [i, l] of P.entries()) w1.chunk(T0 + 500 + i * 10, "P", `${l}\n`);
    await w1.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("text with --node: exactly the lines received, escape sequences and all", async () => {
    assert.equal(await run(two, { to: "text", node: "P" }), `${[...P, "last"].join("\n")}\n`);
    assert.equal(await run(two, { to: "text", node: "M" }), `${M.join("\n")}\n`);
  });

  it("text of every node: each line prefixed with its node, in the order received", async () => {
    const text = await run(two, { to: "text" });
    const lines = text.replace(/\n$/, "").split("\n");
    assert.equal(lines.length, P.length + M.length + 1);
    assert.deepEqual(
      lines.filter((l) => l.startsWith("P| ")).map((l) => l.slice(3)),
      [...P, "last"],
    );
    assert.deepEqual(
      lines.filter((l) => l.startsWith("M| ")).map((l) => l.slice(3)),
      M,
    );
    assert.equal(lines[0], `P| ${P[0]}`);
    assert.equal(lines[1], `M| ${M[0]}`);
  });

  it("asciicast: a v2 header, then output events at increasing times", async () => {
    const lines = (await run(two, { to: "asciicast" })).replace(/\n$/, "").split("\n");
    const header = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(header.version, 2);
    assert.equal(header.width, 120);
    assert.equal(header.height, 40);
    assert.equal(header.timestamp, T0 / 1000);
    assert.match(String(header.title), /P, M/);
    const events = lines.slice(1).map((l) => JSON.parse(l) as [number, string, string]);
    assert.equal(events.length, P.length + M.length + 1);
    let last = 0;
    for (const [t, kind, data] of events) {
      assert.equal(kind, "o");
      assert.equal(typeof t, "number");
      assert.ok(t >= last, `${t} after ${last}`);
      last = t;
      assert.match(data, /^[PM]\| .*\r\n$/s);
    }
    assert.deepEqual(events[0], [1, "o", `P| ${P[0]}\r\n`]);
    assert.equal(events[1]![0], 1.02);
    // The line drained at the stop keeps the time of the one before it.
    assert.equal(events.at(-1)![2], "P| last\r\n");
    assert.ok(events.at(-1)![0] >= events.at(-2)![0]);
  });

  it("asciicast of one node: lines as they are", async () => {
    const lines = (await run(one, { to: "asciicast" })).replace(/\n$/, "").split("\n");
    const events = lines.slice(1).map((l) => JSON.parse(l) as [number, string, string]);
    assert.deepEqual(
      events.map((e) => e[2]),
      P.map((l) => `${l}\r\n`),
    );
    assert.deepEqual(events[1], [0.51, "o", `${P[1]}\r\n`]);
    const viaNode = (await run(two, { to: "asciicast", node: "M" })).split("\n");
    assert.equal(JSON.parse(viaNode[1]!)[2], `${M[0]}\r\n`);
  });

  it("jsonl: the scan --json stream, events then the alerts, with the crash", async () => {
    const lines = (await run(two, { to: "jsonl" })).replace(/\n$/, "").split("\n");
    const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const crash = objs.find((o) => o.type === "crash" && o.node === "P");
    assert.ok(crash, "a crash event");
    assert.match(
      String(crash.title),
      /^BUG: unable to handle kernel NULL pointer dereference in fit_poll_cq/,
    );
    assert.ok(objs.some((o) => o.type === "timeout" && o.node === "P"));
    const alerts = objs.filter((o) => o.type === "alert");
    assert.ok(alerts.some((a) => a.rule === "crash" && a.node === "P"));
    assert.ok(alerts.some((a) => a.rule === "rpc-timeout" && a.node === "P"));
    // The alerts still firing close the stream.
    const firstFiring = objs.findIndex((o) => o.type === "alert" && o.state === "firing");
    assert.ok(objs.slice(firstFiring).every((o) => o.type === "alert"));
    // Only that node's, with --node.
    const m = (await run(two, { to: "jsonl", node: "M" })).replace(/\n$/, "").split("\n");
    assert.ok(m.length > 0);
    assert.ok(m.every((l) => (JSON.parse(l) as { node: string }).node === "M"));
  });

  it("a node the session does not have is an error", async () => {
    await assert.rejects(run(two, { to: "text", node: "S" }), UnknownNodeError);
    await assert.rejects(run(two, { to: "jsonl", node: "S" }), /no node S in this session \(nodes: P, M\)/);
  });
});
