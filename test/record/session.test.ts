import assert from "node:assert/strict";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { gunzipSync } from "node:zlib";
import {
  isHeader,
  isLine,
  readSession,
  redactSourceUri,
  SessionFormatError,
  type SessionItem,
} from "../../src/record/session.js";
import { SessionWriter } from "../../src/record/writer.js";

const dir = mkdtempSync(join(tmpdir(), "legowatch-session-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;
const NODES = [
  { name: "P", source: "serial:/dev/ttyUSB0?baud=115200" },
  { name: "M", source: "file:consoles/M.log" },
];

async function readAll(path: string): Promise<{ items: SessionItem[]; warnings: string[] }> {
  const warnings: string[] = [];
  const items: SessionItem[] = [];
  for await (const x of readSession(path, (w) => warnings.push(w))) items.push(x);
  return { items, warnings };
}

/** A few records of every kind: lines with escape sequences, non-ASCII text, bytes that are not UTF-8. */
function writeSome(w: SessionWriter): void {
  w.status(T0 + 1, "P", { state: "connecting" });
  w.status(T0 + 2, "P", { state: "connected", detail: "/dev/ttyUSB0 at 115200 baud" });
  w.chunk(T0 + 10, "P", "[    1.000000] Booting \u001b[31mLegoOS\u001b[0m é\r\n[    1.1");
  w.chunk(T0 + 11, "M", "");
  w.reconnect(T0 + 20, "M");
  w.status(T0 + 21, "M", { state: "retrying", retryInMs: 2000, error: "connection refused" });
  w.chunk(T0 + 30, "M", 'quote " and \\ backslash\n');
  w.chunk(T0 + 40, "P", Buffer.from([0x30, 0x5d, 0x20, 0x5b, 0xff, 0xfe, 0x5d, 0x1b, 0x0a]));
  w.chunk(T0 + 50, "P", "unfinished");
  w.idle(T0 + 60, "P");
  w.chunk(T0 + 70, "M", "cut at the close");
}

const BOOTING = "[    1.000000] Booting \u001b[31mLegoOS\u001b[0m é";
const NOT_UTF8 = Buffer.from([
  0x5b, 0x20, 0x20, 0x20, 0x20, 0x31, 0x2e, 0x31, 0x30, 0x5d, 0x20, 0x5b, 0xff, 0xfe, 0x5d, 0x1b,
]);

const EXPECTED = [
  { t: T0 + 1, n: "P", s: { state: "connecting" } },
  { t: T0 + 2, n: "P", s: { state: "connected", detail: "/dev/ttyUSB0 at 115200 baud" } },
  { t: T0 + 10, n: "P", l: BOOTING },
  { t: T0 + 20, n: "M", r: 1 },
  { t: T0 + 21, n: "M", s: { state: "retrying", retryInMs: 2000, error: "connection refused" } },
  { t: T0 + 30, n: "M", l: 'quote " and \\ backslash' },
  { t: T0 + 40, n: "P", l: NOT_UTF8 },
  { t: T0 + 50, n: "P", l: "unfinished", c: 1 },
  { t: T0 + 60, n: "P", i: 1 },
  { t: T0 + 70, n: "M", l: "cut at the close", c: 1 },
];

describe("session files", () => {
  it("round trip: the header, then every record as written", async () => {
    const path = join(dir, "round.jsonl");
    const w = new SessionWriter(path, { nodes: NODES, started: T0, host: "lab1" });
    writeSome(w);
    await w.close();
    const { items, warnings } = await readAll(path);
    assert.deepEqual(warnings, []);
    assert.deepEqual(items[0], {
      format: "legowatch-session",
      version: 3,
      started: T0,
      host: "lab1",
      nodes: NODES,
    });
    assert.deepEqual(items.slice(1), EXPECTED);
    // As documented: JSON lines, the header first, then a record per console line, without its line end;
    // bytes that are not UTF-8 in base64; an unfinished line as a piece (`"c":1`); an empty chunk is no record.
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    assert.equal(JSON.parse(lines[0]!).format, "legowatch-session");
    assert.equal(lines.length, 1 + EXPECTED.length);
    assert.equal(lines[3], `{"t":${T0 + 10},"n":"P","l":${JSON.stringify(BOOTING)}}`);
    assert.equal(lines[7], `{"t":${T0 + 40},"n":"P","x":"${NOT_UTF8.toString("base64")}"}`);
    assert.equal(lines[8], `{"t":${T0 + 50},"n":"P","l":"unfinished","c":1}`);
  });

  it("reads a version 1 session (one record per line) as before", async () => {
    const path = join(dir, "v1.jsonl");
    writeFileSync(
      path,
      [
        JSON.stringify({ format: "legowatch-session", version: 1, started: T0, host: "lab1", nodes: NODES }),
        JSON.stringify({ t: T0 + 10, n: "P", l: "first" }),
        JSON.stringify({ t: T0 + 10, n: "P", l: "second" }),
        "",
      ].join("\n"),
    );
    const { items, warnings } = await readAll(path);
    assert.deepEqual(warnings, []);
    assert.deepEqual(items.slice(1), [
      { t: T0 + 10, n: "P", l: "first" },
      { t: T0 + 10, n: "P", l: "second" },
    ]);
  });

  it("a chunk whose length is wrong costs that chunk only; an idle record reads back", async () => {
    const path = join(dir, "bad-chunk.jsonl");
    writeFileSync(
      path,
      [
        JSON.stringify({ format: "legowatch-session", version: 2, started: T0, host: "lab1", nodes: NODES }),
        // Says 3 bytes, holds 5: the bytes are not followed by a line end where they should be.
        JSON.stringify({ t: T0 + 10, n: "P", len: 3 }),
        "wrong",
        JSON.stringify({ t: T0 + 11, n: "P", len: 5 }),
        "kept\n",
        JSON.stringify({ t: T0 + 12, n: "P", i: 1 }),
        "",
      ].join("\n"),
    );
    const { items, warnings } = await readAll(path);
    assert.deepEqual(items.slice(1), [
      { t: T0 + 11, n: "P", b: Buffer.from("kept\n") },
      { t: T0 + 12, n: "P", i: 1 },
    ]);
    assert.deepEqual(warnings, [`${path}:2: skipped 2 corrupt lines`]);
  });

  it("any bytes in chunks of any size read back exactly (line ends aside), across the reader's buffers", async () => {
    for (const name of ["many.jsonl", "many.jsonl.gz"]) {
      const path = join(dir, name);
      const w = new SessionWriter(path, { nodes: NODES, started: T0 });
      const written = { P: [] as Buffer[], M: [] as Buffer[] };
      let seed = 7;
      const rand = () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      for (let i = 0, total = 0; total < 3 << 19; i++) {
        const data = Buffer.alloc(1 + Math.floor(rand() * 70_000));
        for (let k = 0; k < data.length; k++) data[k] = rand() < 0.05 ? 0x0a : Math.floor(rand() * 256);
        const node = i % 2 ? "P" : "M";
        written[node].push(data);
        total += data.length;
        w.chunk(T0 + i, node, data);
      }
      await w.close();
      const { items, warnings } = await readAll(path);
      assert.deepEqual(warnings, []);
      for (const node of ["P", "M"] as const) {
        const back = Buffer.concat(
          items
            .filter(isLine)
            .filter((x) => x.n === node)
            .flatMap((x) => [Buffer.from(x.l), Buffer.from(x.c ? "" : "\n")]),
        );
        // A line ends at \n or \r\n; the record holds the line without it.
        const sent = Buffer.from(
          Buffer.concat(written[node]).toString("latin1").replaceAll("\r\n", "\n"),
          "latin1",
        );
        const cut = sent.at(-1) === 0x0a ? sent : Buffer.concat([sent, Buffer.from("\n")]);
        const got = back.at(-1) === 0x0a ? back : Buffer.concat([back, Buffer.from("\n")]);
        assert.ok(got.equals(cut), `${node} of ${name}: ${got.length} bytes back of ${cut.length}`);
      }
    }
  });

  it("the host defaults to this machine's name and the start to now", async () => {
    const path = join(dir, "defaults.jsonl");
    const before = Date.now();
    const w = new SessionWriter(path, { nodes: [] });
    await w.ready;
    await w.close();
    const { items } = await readAll(path);
    const h = items[0]!;
    assert.ok(isHeader(h));
    assert.ok(h.started >= before && h.started <= Date.now());
    assert.equal(typeof h.host, "string");
    assert.ok(h.host.length > 0);
  });

  it("writes buffered records within 200 ms, without being closed", async () => {
    const path = join(dir, "flush.jsonl");
    const w = new SessionWriter(path, { nodes: NODES, started: T0 });
    // The header is there at once.
    assert.equal(readFileSync(path, "utf8").split("\n").length, 2);
    // The 200 ms run from a running recorder: a watch starts its recording thread before lines come,
    // and loading it from source on a machine busy with the whole test suite can take longer.
    await w.ready;
    w.chunk(T0 + 1, "P", "first\nsecond, still arriving");
    await sleep(300);
    assert.match(
      readFileSync(path, "utf8"),
      /"l":"first"\}\n\{"t":1700000000001,"n":"P","l":"second, still arriving","c":1\}\n$/,
    );
    await w.close();
  });

  it("after a flood, the line it ended in the middle of is written within 200 ms too", async () => {
    const path = join(dir, "flood-tail.jsonl");
    const w = new SessionWriter(path, { nodes: NODES, started: T0 });
    await w.ready;
    // Over 64 KiB at once: handed over at once, its unfinished last line held by the recording thread.
    w.chunk(T0 + 1, "P", `${"x".repeat(70_000)}\nstill arriving`);
    await sleep(350);
    assert.match(readFileSync(path, "utf8"), /"l":"still arriving","c":1\}\n$/);
    await w.close();
  });

  it("skips a torn last line with a warning naming the file and line", async () => {
    const path = join(dir, "torn.jsonl");
    const w = new SessionWriter(path, { nodes: NODES, started: T0 });
    writeSome(w);
    await w.close();
    const lines = readFileSync(path).toString("latin1").split("\n").length;
    appendFileSync(path, '{"t":1700000000040,"n":"P","l":"cut he');
    const { items, warnings } = await readAll(path);
    assert.deepEqual(items.slice(1), EXPECTED);
    assert.equal(warnings.length, 1);
    // The line after the last complete one.
    assert.match(
      warnings[0]!,
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${lines}: .*torn`),
    );
  });

  it("skips a corrupt record in the middle with a warning and reads on", async () => {
    const path = join(dir, "corrupt.jsonl");
    writeFileSync(
      path,
      `${[
        JSON.stringify({ format: "legowatch-session", version: 1, started: T0, host: "h", nodes: NODES }),
        '{"t":1,"n":"P","l":"a"}',
        "garbage{",
        '{"t":"soon","n":"P","l":"bad time"}',
        '{"t":2,"n":"P","s":{"state":"exploded"}}',
        '{"t":3,"n":"P","l":"b"}',
      ].join("\n")}\n`,
    );
    const { items, warnings } = await readAll(path);
    assert.deepEqual(
      items.slice(1).map((x) => ("l" in x ? x.l : "?")),
      ["a", "b"],
    );
    // Three bad lines in a row: one warning.
    assert.deepEqual(warnings, [`${path}:3: skipped 3 corrupt lines`]);
  });

  it("refuses a file that is not a session", async () => {
    const path = join(dir, "console.log");
    writeFileSync(path, "[    0.000000] Linux version\n");
    await assert.rejects(readAll(path), SessionFormatError);
    const newer = join(dir, "v9.jsonl");
    writeFileSync(
      newer,
      `${JSON.stringify({ format: "legowatch-session", version: 9, started: T0, nodes: [] })}\n`,
    );
    await assert.rejects(readAll(newer), /version 9/);
  });

  it("gzip: a .gz path is compressed and reads back the same", async () => {
    const path = join(dir, "round.jsonl.gz");
    const w = new SessionWriter(path, { nodes: NODES, started: T0, host: "lab1" });
    writeSome(w);
    await w.close();
    const bytes = readFileSync(path);
    assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b]);
    assert.match(gunzipSync(bytes).toString(), /^\{"format":"legowatch-session"/);
    const { items, warnings } = await readAll(path);
    assert.deepEqual(warnings, []);
    assert.deepEqual(items.slice(1), EXPECTED);
  });

  it("gzip: flushed records can be read while the writer is still open", async () => {
    const path = join(dir, "open.jsonl.gz");
    const w = new SessionWriter(path, { nodes: NODES, started: T0 });
    await w.ready;
    for (let i = 0; i < 100; i++) w.chunk(T0 + i, "P", `line ${i}\n`);
    await sleep(350);
    // Each write is a gzip member of its own: what was flushed reads back whole.
    const { items, warnings } = await readAll(path);
    assert.equal(items.length, 101);
    assert.deepEqual(warnings, []);
    await w.close();
    assert.deepEqual((await readAll(path)).warnings, []);
  });

  it("gzip: a truncated file is read up to where it breaks, with warnings", async () => {
    const path = join(dir, "cut.jsonl.gz");
    const w = new SessionWriter(path, { nodes: NODES, started: T0, flushMs: 10 });
    for (let i = 0; i < 2000; i++) {
      w.chunk(T0 + i, "P", `[ ${i}.000000] some console line number ${i} ${"x".repeat(i % 37)}\n`);
      if (i % 100 === 99) await sleep(15);
    }
    await w.close();
    const full = readFileSync(path).length;
    truncateSync(path, Math.floor(full * 0.6));
    const { items, warnings } = await readAll(path);
    assert.ok(items.length > 100 && items.length < 2001, `read ${items.length} items`);
    // Lines come back in order, none damaged.
    items.slice(1).forEach((x, i) => {
      assert.ok(isLine(x));
      assert.match(x.l.toString(), new RegExp(`^\\[ ${i}\\.000000\\]`));
    });
    assert.ok(warnings.some((m) => /cut short/.test(m)));
  });

  it("rotation: a new file past maxBytes, each starting with the header; read as one session", async () => {
    const path = join(dir, "rot.jsonl");
    const w = new SessionWriter(path, { nodes: NODES, started: T0, host: "h", maxBytes: 2000 });
    for (let i = 0; i < 100; i++) w.chunk(T0 + i, "P", `line ${i} ${"y".repeat(40)}\n`);
    await w.close();
    assert.ok(w.files.length >= 3, `${w.files.length} files`);
    assert.deepEqual(w.files.slice(0, 3), [path, `${path}.1`, `${path}.2`]);
    for (const f of w.files) {
      const lines = readFileSync(f, "utf8").trimEnd().split("\n");
      assert.deepEqual(JSON.parse(lines[0]!), w.header);
      // Over the limit only by the record that took it there.
      if (f !== w.files.at(-1)) assert.ok(readFileSync(f).length <= 2000 + 100);
      assert.ok(lines.length > 1);
    }
    const { items, warnings } = await readAll(path);
    assert.deepEqual(warnings, []);
    assert.equal(items.filter(isHeader).length, 1);
    assert.deepEqual(
      items.slice(1).map((x) => (isHeader(x) ? -1 : x.t)),
      Array.from({ length: 100 }, (_, i) => T0 + i),
    );
  });

  it("rotation: a left-over part of an earlier session is not read", async () => {
    const path = join(dir, "stale.jsonl");
    const old = new SessionWriter(path, { nodes: NODES, started: T0 - 1000, host: "h", maxBytes: 300 });
    for (let i = 0; i < 10; i++) old.chunk(T0 - 1000 + i, "P", `old ${i} ${"z".repeat(40)}\n`);
    await old.close();
    assert.ok(existsSync(`${path}.1`));
    const w = new SessionWriter(path, { nodes: NODES, started: T0, host: "h" });
    w.chunk(T0, "P", "new\n");
    await w.close();
    const { items, warnings } = await readAll(path);
    assert.deepEqual(
      items.slice(1).map((x) => (isLine(x) ? x.l : "")),
      ["new"],
    );
    assert.match(warnings[0]!, /stale\.jsonl\.1: belongs to another session/);
  });

  it("rotation works for gzip too", async () => {
    const path = join(dir, "rot.jsonl.gz");
    const w = new SessionWriter(path, { nodes: NODES, started: T0, maxBytes: 200, flushMs: 5 });
    for (let i = 0; i < 50; i++) {
      w.chunk(T0 + i, "P", `line ${i} ${Math.random().toString(36)}\n`);
      await sleep(10);
    }
    await w.close();
    assert.ok(w.files.length >= 2, `${w.files.length} files`);
    for (const f of w.files) assert.deepEqual([...readFileSync(f).subarray(0, 2)], [0x1f, 0x8b]);
    const { items, warnings } = await readAll(path);
    assert.deepEqual(warnings, []);
    assert.equal(items.length, 51);
  });

  it("header sources have their secrets removed", async () => {
    const nodes = [
      { name: "A", source: "tcp://admin:hunter2@console-server:7001" },
      {
        name: "B",
        source: "ssh://lab@console-host?cmd=tail%20-F%20M.log&identity=keys/id_ed25519&password=hunter2",
      },
      { name: "C", source: "cmd:ipmitool -I lanplus -H bmc3 -U admin -P hunter2 sol activate" },
      { name: "D", source: "cmd:sshpass -p 'hunter2' ssh lab@console-host console M" },
      {
        name: "E",
        source: "cmd:IPMI_PASSWORD=hunter2 conserver-client --token=hunter2 --password hunter2 M",
      },
      { name: "F", source: "tcp://host:7001?token=hunter2&pass=hunter2&x=1" },
    ];
    const path = join(dir, "secrets.jsonl");
    const w = new SessionWriter(path, { nodes, started: T0 });
    await w.close();
    const text = readFileSync(path, "utf8");
    assert.doesNotMatch(text, /hunter2/);
    const { items } = await readAll(path);
    const h = items[0]!;
    assert.ok(isHeader(h));
    assert.deepEqual(
      h.nodes.map((n) => n.source),
      [
        "tcp://admin:***@console-server:7001",
        "ssh://lab@console-host?cmd=tail%20-F%20M.log&identity=keys/id_ed25519&password=***",
        "cmd:ipmitool -I lanplus -H bmc3 -U admin -P *** sol activate",
        "cmd:sshpass -p *** ssh lab@console-host console M",
        "cmd:IPMI_PASSWORD=*** conserver-client --token=*** --password *** M",
        "tcp://host:7001?token=***&pass=***&x=1",
      ],
    );
  });

  it("redaction keeps URIs without secrets as written", () => {
    for (const uri of [
      "serial:/dev/ttyUSB0?baud=115200",
      "ssh://lab@console-host:2222?cmd=dmesg -w&identity=/home/lab/.ssh/id_ed25519",
      "file:/var/log/consoles/M.log?from=start",
      "cmd:console -s P",
      "sim:P?speed=max",
      "-",
    ]) {
      assert.equal(redactSourceUri(uri), uri);
    }
  });

  it("a write that fails in the recording thread stops the recording and is reported once", async () => {
    const path = join(dir, "blocked.jsonl");
    // The next part's name is taken by a directory: the rotation cannot open it.
    mkdirSync(`${path}.1`, { recursive: true });
    const errors: Error[] = [];
    const w = new SessionWriter(path, {
      nodes: NODES,
      started: T0,
      maxBytes: 300,
      onError: (e) => errors.push(e),
    });
    for (let i = 0; i < 20; i++) w.chunk(T0 + i, "P", `line ${i} ${"w".repeat(40)}\n`);
    await w.close();
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /EISDIR|illegal operation on a directory/);
    // What was written before the failure reads back.
    const items: SessionItem[] = [];
    for await (const x of readSession(path, undefined, { parts: false })) items.push(x);
    assert.ok(items.length > 2 && items.slice(1).every(isLine));
    // Without onError, close() rejects with it.
    const again = new SessionWriter(path, { nodes: NODES, started: T0, maxBytes: 300 });
    for (let i = 0; i < 20; i++) again.chunk(T0 + i, "P", `line ${i} ${"w".repeat(40)}\n`);
    await assert.rejects(again.close(), /EISDIR|illegal operation on a directory/);
  });

  it("a file that cannot be written throws when it is opened", () => {
    assert.throws(() => new SessionWriter(join(dir, "no", "such", "dir.jsonl"), { nodes: [] }), /ENOENT/);
    // The header is written at once, so a full disk shows up here too.
    if (existsSync("/dev/full")) assert.throws(() => new SessionWriter("/dev/full", { nodes: [] }), /ENOSPC/);
  });
});
