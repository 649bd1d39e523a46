import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseInput, scan } from "../../src/headless/scan.js";

class Sink extends Writable {
  text = "";
  isTTY = false;
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/seed/${name}`, import.meta.url));

describe("scan, in process", () => {
  it("names nodes from NAME=, --node or the file name", () => {
    assert.deepEqual(parseInput("P=logs/p.log"), { node: "P", path: "logs/p.log" });
    assert.deepEqual(parseInput("logs/m-node.log.gz"), { node: "m-node", path: "logs/m-node.log.gz" });
    assert.deepEqual(parseInput("a.log", "M"), { node: "M", path: "a.log" });
    assert.deepEqual(parseInput("-"), { node: "stdin", path: "-" });
  });

  it("shows progress on a terminal, and clears it", async () => {
    const out = new Sink();
    const err = new Sink();
    err.isTTY = true;
    await scan([{ node: "P", path: fixture("b17.log") }], {
      json: true,
      stdout: out,
      stderr: err,
      stdin: new PassThrough(),
      progressMinBytes: 1,
    });
    assert.match(err.text, /scanning .*b17\.log: 100%/);
    assert.ok(err.text.endsWith("\r\u001b[K"));
  });

  it("shows no progress when stderr is not a terminal", async () => {
    const err = new Sink();
    await scan([{ node: "P", path: fixture("b17.log") }], {
      json: true,
      stdout: new Sink(),
      stderr: err,
      stdin: new PassThrough(),
      progressMinBytes: 1,
    });
    assert.equal(err.text, "");
  });
});
