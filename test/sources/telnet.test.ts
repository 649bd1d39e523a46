import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MAX_SUBNEGOTIATION, TelnetStripper } from "../../src/sources/tcp.js";

const IAC = 0xff;
const WILL = 0xfb;
const WONT = 0xfc;
const DO = 0xfd;
const DONT = 0xfe;
const SB = 0xfa;
const SE = 0xf0;
const NOP = 0xf1;
const GA = 0xf9;

const ascii = (s: string) => [...Buffer.from(s, "latin1")];

/** Runs `bytes` through one stripper in the given chunks and joins the output. */
function strip(chunks: number[][]): number[] {
  const t = new TelnetStripper();
  return chunks.flatMap((c) => [...t.push(Uint8Array.from(c))]);
}

/** Cuts `bytes` at the given (sorted, distinct) offsets. */
function cut(bytes: number[], at: number[]): number[][] {
  const out: number[][] = [];
  let from = 0;
  for (const i of [...at, bytes.length]) {
    out.push(bytes.slice(from, i));
    from = i;
  }
  return out;
}

// A ser2net-like greeting: option negotiation, an RFC 2217 subnegotiation holding an escaped 0xFF,
// data with an escaped 0xFF, a bare command, and console text around it all.
const STREAM = [
  ...[IAC, WILL, 1, IAC, WILL, 3, IAC, DO, 3, IAC, DONT, 34, IAC, WONT, 24],
  ...ascii("[    0.000000] Linux version\r\n"),
  ...[IAC, SB, 44, 1, 0, 1, IAC, IAC, 0, IAC, SE],
  ...ascii("a"),
  ...[IAC, IAC],
  ...ascii("b"),
  ...[IAC, NOP, IAC, GA],
  ...ascii("[    0.100000] done\n"),
];
const EXPECTED = [...ascii("[    0.000000] Linux version\r\na"), 0xff, ...ascii("b[    0.100000] done\n")];

describe("TelnetStripper", () => {
  it("passes plain text through untouched, as the same array", () => {
    const t = new TelnetStripper();
    const chunk = Buffer.from("[    1.000000] hello\n");
    assert.equal(t.push(chunk), chunk);
  });

  it("drops negotiation, subnegotiation and bare commands and unescapes IAC IAC", () => {
    assert.deepEqual(strip([STREAM]), EXPECTED);
  });

  it("gives the same output when cut at any single point", () => {
    for (let i = 0; i <= STREAM.length; i++)
      assert.deepEqual(strip(cut(STREAM, [i])), EXPECTED, `cut at ${i}`);
  });

  it("gives the same output when fed one byte at a time", () => {
    assert.deepEqual(strip(STREAM.map((b) => [b])), EXPECTED);
  });

  it("gives the same output for any chunking of any stream", () => {
    // Bytes biased towards the command range so that IAC sequences are frequent.
    const byte = fc.oneof(
      fc.constantFrom(IAC, IAC, WILL, WONT, DO, DONT, SB, SE, NOP),
      fc.integer({ min: 0, max: 255 }),
    );
    fc.assert(
      fc.property(
        fc.array(byte, { maxLength: 200 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (bytes, rawCuts) => {
          const at = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          assert.deepEqual(strip(cut(bytes, at)), strip([bytes]));
        },
      ),
    );
  });

  it("keeps every data byte of a stream with only escaped IACs", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
        const escaped = [...data].flatMap((b) => (b === IAC ? [IAC, IAC] : [b]));
        assert.deepEqual(strip([escaped]), [...data]);
      }),
    );
  });

  it("gives up on a subnegotiation that never ends, so stray bytes cannot silence the console", () => {
    const noise = new Array<number>(MAX_SUBNEGOTIATION).fill(0x41);
    const out = strip([[IAC, SB, ...noise, ...ascii("x"), ...ascii("after\n")]]);
    assert.deepEqual(out, ascii("after\n"));
  });
});
