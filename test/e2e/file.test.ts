import assert from "node:assert/strict";
import { appendFile, rename, truncate, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, describe, it } from "node:test";
import { FileSource, StdinSource } from "../../src/sources/file.js";
import type { Source } from "../../src/sources/source.js";
import { RecordingSink, tempDir, waitFor } from "./support.js";

// A short wait between looks for a missing file, so that the tests do not wait a second each time.
const FAST = { minMs: 100, maxMs: 400, waitMs: 150 };

const tmp = tempDir("file");
after(() => tmp.remove());

let n = 0;
/** A fresh path in the temp dir. */
const fresh = () => join(tmp.dir, `console-${++n}.log`);

/** Starts a source and waits until it follows its file, so that later writes count as appends. */
async function follow(src: Source): Promise<RecordingSink> {
  const sink = new RecordingSink();
  src.start(sink);
  await waitFor(() => sink.states().includes("connected"), "connected");
  return sink;
}

/** Runs `body` with a started file source, stopping it whatever happens. */
async function withFile(
  opts: { path: string; fromStart?: boolean },
  body: (sink: RecordingSink) => Promise<void>,
): Promise<RecordingSink> {
  const src = new FileSource(opts, FAST);
  try {
    const sink = await follow(src);
    await body(sink);
    return sink;
  } finally {
    await src.stop();
  }
}

describe("FileSource", () => {
  it("delivers appends, not what was there before, by default", async () => {
    const path = fresh();
    await writeFile(path, "old line\n");
    const sink = await withFile({ path }, async (sink) => {
      await appendFile(path, "[    1.000000] new line\n");
      await waitFor(() => sink.text.includes("new line"), "the appended line");
      await appendFile(path, "partial");
      await appendFile(path, " then the rest\n");
      await waitFor(() => sink.text.endsWith("the rest\n"), "the second append");
    });
    assert.equal(sink.text, "[    1.000000] new line\npartial then the rest\n");
    assert.equal(sink.states().at(-1), "closed");
  });

  it("reads existing content first with fromStart", async () => {
    const path = fresh();
    await writeFile(path, "old line\n");
    const sink = await withFile({ path, fromStart: true }, async (sink) => {
      await waitFor(() => sink.text === "old line\n", "the existing line");
      await appendFile(path, "new line\n");
      await waitFor(() => sink.text === "old line\nnew line\n", "the appended line");
    });
    assert.equal(sink.reconnects, 0);
  });

  it("delivers a large append whole, in bounded chunks", async () => {
    const path = fresh();
    await writeFile(path, "");
    const big = `${"x".repeat(1023)}\n`.repeat(3 * 1024 + 7);
    let chunks = 0;
    const src = new FileSource({ path }, FAST);
    const sink = new RecordingSink();
    const data = sink.data.bind(sink);
    sink.data = (c) => {
      chunks++;
      assert.ok(c.length <= 1024 * 1024);
      data(c);
    };
    src.start(sink);
    try {
      await waitFor(() => sink.states().includes("connected"), "connected");
      await appendFile(path, big);
      await waitFor(() => sink.text.length === big.length, "all of the append");
      assert.equal(sink.text, big);
      assert.ok(chunks >= 4, `${chunks} chunks`);
    } finally {
      await src.stop();
    }
  });

  it("follows a truncated file from its start", async () => {
    const path = fresh();
    await writeFile(path, "a long line written before the truncation\n");
    const sink = await withFile({ path, fromStart: true }, async (sink) => {
      await waitFor(() => sink.text.includes("before the truncation"), "the first line");
      await truncate(path, 0);
      await appendFile(path, "after\n");
      await waitFor(() => sink.text.endsWith("after\n"), "the line after the truncation");
    });
    assert.equal(sink.text, "a long line written before the truncation\nafter\n");
    assert.ok(
      sink.statuses.some((s) => /truncated/.test(s.detail ?? "")),
      "the truncation shows in the status",
    );
  });

  it("follows rotation without losing the old file's last lines", async () => {
    const path = fresh();
    await writeFile(path, "");
    const sink = await withFile({ path }, async (sink) => {
      await appendFile(path, "old 1\n");
      await waitFor(() => sink.text === "old 1\n", "the first line");
      // Written just before the rename, most likely not read yet when the name moves.
      await appendFile(path, "old 2\n");
      await rename(path, `${path}.1`);
      await writeFile(path, "new 1\n");
      await waitFor(() => sink.text.includes("new 1\n"), "the new file's line");
      await appendFile(path, "new 2\n");
      await waitFor(() => sink.text.endsWith("new 2\n"), "an append to the new file");
    });
    assert.equal(sink.text, "old 1\nold 2\nnew 1\nnew 2\n");
    assert.ok(
      sink.statuses.some((s) => /rotated/.test(s.detail ?? "")),
      "the rotation shows in the status",
    );
    assert.equal(sink.reconnects, 0, "rotation is not a reconnect: nothing is replayed");
  });

  it("waits for a missing file and reads it from its start when it appears", async () => {
    const path = fresh();
    const src = new FileSource({ path }, FAST);
    const sink = new RecordingSink();
    src.start(sink);
    try {
      const waiting = (await waitFor(() => sink.statuses.find((s) => s.state === "waiting"), "waiting"))!;
      assert.match(waiting.error ?? "", /does not exist/);
      await writeFile(path, "first line of a new file\n");
      await waitFor(() => sink.text === "first line of a new file\n", "the new file's content");
      assert.equal(sink.states().at(-1), "connected");
    } finally {
      await src.stop();
    }
  });

  it("waits again when the file is removed, and reads the next one from its start", async () => {
    const path = fresh();
    await writeFile(path, "");
    const src = new FileSource({ path }, FAST);
    const sink = await follow(src);
    try {
      await appendFile(path, "before\n");
      await waitFor(() => sink.text === "before\n", "the first line");
      await unlink(path);
      await waitFor(() => sink.states().includes("waiting"), "the removal noticed");
      await writeFile(path, "after\n");
      await waitFor(() => sink.text === "before\nafter\n", "the recreated file");
    } finally {
      await src.stop();
    }
  });
});

describe("StdinSource", () => {
  it("reads a stream until it ends, then closes", async () => {
    const input = new PassThrough();
    const src = new StdinSource(input);
    const sink = new RecordingSink();
    src.start(sink);
    try {
      assert.equal(src.kind, "stdin");
      input.write("[    0.000000] Linux version\n");
      await waitFor(() => sink.text === "[    0.000000] Linux version\n", "the first line");
      input.end("last\n");
      await waitFor(() => sink.states().at(-1) === "closed", "closed at the end");
      assert.equal(sink.text, "[    0.000000] Linux version\nlast\n");
      assert.deepEqual(sink.states(), ["connected", "closed"]);
    } finally {
      await src.stop();
    }
    assert.deepEqual(sink.states(), ["connected", "closed"], "stop after the end adds nothing");
  });

  it("closes with the error when the stream fails", async () => {
    const input = new PassThrough();
    const src = new StdinSource(input);
    const sink = new RecordingSink();
    src.start(sink);
    input.destroy(new Error("read EIO"));
    await waitFor(() => sink.states().at(-1) === "closed", "closed");
    assert.equal(sink.statuses.at(-1)?.error, "read EIO");
    await src.stop();
  });
});
