import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { LineEncoder } from "../../src/record/encode.js";
import { parseRecord } from "../../src/record/session.js";

const T = 1_700_000_000_000;

/** What a reader gets back from the encoder's text: each record, and the node's bytes joined again. */
function decode(text: string): { records: Record<string, unknown>[]; bytes: Buffer } {
  const lines = text.split("\n");
  assert.equal(lines.pop(), "", "every record ends with a line end");
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const parts: Buffer[] = [];
  for (const line of lines) {
    const r = parseRecord(line);
    assert.ok(r && "l" in r, line);
    parts.push(Buffer.from(r.l), Buffer.from(r.c === 1 ? "" : "\n"));
  }
  return { records, bytes: Buffer.concat(parts) };
}

/** `bytes` as lines end in a record: `\r\n` is a line end like `\n`. */
const lineEnds = (b: Buffer) => Buffer.from(b.toString("latin1").replaceAll("\r\n", "\n"), "latin1");

describe("line records", () => {
  it("a record per line: its text without the line end, the node, the time its end arrived", () => {
    const e = new LineEncoder();
    const text =
      e.chunk(T, "P", Buffer.from("[    1.000000] one\r\n[    1.100000] tw")) +
      e.chunk(T + 5, "P", Buffer.from("o\n")) +
      e.chunk(
        T + 6,
        "M",
        Buffer.from('thpool-worker0 nr_queued: 5 1\n"quoted" \\ and \x1b[1mbold\x1b[0m é\n'),
      );
    assert.deepEqual(decode(text).records, [
      { t: T, n: "P", l: "[    1.000000] one" },
      { t: T + 5, n: "P", l: "[    1.100000] two" },
      { t: T + 6, n: "M", l: "thpool-worker0 nr_queued: 5 1" },
      { t: T + 6, n: "M", l: '"quoted" \\ and \x1b[1mbold\x1b[0m é' },
    ]);
  });

  it("bytes that are not UTF-8 are kept in base64; a lone \\r stays in its line", () => {
    const e = new LineEncoder();
    const text = e.chunk(T, "P", Buffer.from([0x61, 0xff, 0x0a, 0x62, 0x0d, 0x63, 0x0a]));
    assert.equal(text, `{"t":${T},"n":"P","x":"Yf8="}\n{"t":${T},"n":"P","l":"b\\rc"}\n`);
  });

  it("an unfinished line waits for its end, or is written as a piece when asked", () => {
    const e = new LineEncoder();
    assert.equal(e.chunk(T, "P", Buffer.from("half")), "");
    assert.equal(e.unfinished("P"), `{"t":${T},"n":"P","l":"half","c":1}\n`);
    assert.equal(e.unfinished("P"), "");
    e.chunk(T, "P", Buffer.from("a"));
    e.chunk(T, "M", Buffer.from("b"));
    assert.equal(decode(e.allUnfinished()).records.length, 2);
  });

  it("a line that never ends is written in pieces of 64 KiB, not held without bound", () => {
    const e = new LineEncoder();
    let text = "";
    for (let i = 0; i < 40; i++) text += e.chunk(T, "P", Buffer.alloc(4096, 0x78));
    const { records } = decode(text);
    assert.ok(records.length >= 2 && records.every((r) => r.c === 1));
    assert.equal(decode(text + e.unfinished("P")).bytes.length, 40 * 4096);
  });

  it("any bytes, cut into chunks anyhow, come back exactly (line ends aside)", () => {
    const byte = fc.oneof(
      fc.constantFrom(0x0a, 0x0d, 0x22, 0x5c, 0x1b, 0x00, 0x09, 0xc3, 0xa9, 0xff),
      fc.integer({ min: 0x20, max: 0x7e }),
    );
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 2000 }), fc.array(fc.nat(300)), (bytes, cuts) => {
        const data = Buffer.from(bytes);
        const e = new LineEncoder();
        let text = "";
        let at = 0;
        for (const n of cuts) {
          text += e.chunk(T, "P", data.subarray(at, at + n));
          at = Math.min(at + n, data.length);
        }
        text += e.chunk(T, "P", data.subarray(at)) + e.allUnfinished();
        // An unfinished last line is a piece: nothing is added to it.
        assert.deepEqual(decode(text).bytes, lineEnds(data));
      }),
    );
  });

  it("the one-pass path for plain ASCII writes what JSON.stringify of each record would", () => {
    const line = fc.stringMatching(/^[ -~]{0,80}$/);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 50 }), fc.boolean(), (lines, crlf) => {
        const data = Buffer.from(lines.map((l) => `${l}${crlf ? "\r\n" : "\n"}`).join(""));
        const want = lines.map((l) => `${JSON.stringify({ t: T, n: "P", l })}\n`).join("");
        assert.equal(new LineEncoder().chunk(T, "P", data), want);
      }),
    );
  });
});
