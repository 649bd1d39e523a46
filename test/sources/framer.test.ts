import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  type FramedLine,
  hasDirtyByte,
  LineFramer,
  mayHoldStamp,
  splitAtStamps,
} from "../../src/sources/framer.js";

function frame(chunks: (Uint8Array | string)[], max?: number): FramedLine[] {
  const f = new LineFramer(max === undefined ? {} : { maxLineLength: max });
  const out: FramedLine[] = [];
  for (const c of chunks) out.push(...f.push(c));
  out.push(...f.end());
  return out;
}
const texts = (ls: FramedLine[]) => ls.map((l) => l.text);
const bytes = (s: string) => new TextEncoder().encode(s);

describe("line framing", () => {
  it("ends lines at LF, CRLF, lone CR and doubled CRs", () => {
    assert.deepEqual(texts(frame(["a\nb\r\nc\rd\r\r\ne"])), ["a", "b", "c", "d", "e"]);
  });

  it("keeps empty lines (printk's timestamp-only lines matter)", () => {
    assert.deepEqual(texts(frame(["a\n\nb\n"])), ["a", "", "b"]);
  });

  it("flushes a partial last line at the end, and on demand while live", () => {
    const f = new LineFramer();
    assert.deepEqual(f.push("[  1.000000] half"), []);
    assert.equal(f.pending, true);
    assert.deepEqual(texts(f.flush()), ["[  1.000000] half"]);
    assert.deepEqual(texts(f.push(" more\n")), [" more"]);
  });

  it("turns invalid UTF-8 into U+FFFD and decodes characters cut across chunks", () => {
    const euro = bytes("€\n");
    assert.deepEqual(texts(frame([euro.slice(0, 1), euro.slice(1, 2), euro.slice(2)])), ["€"]);
    assert.deepEqual(texts(frame([new Uint8Array([0x61, 0xff, 0xfe, 0x62, 0x0a])])), ["a\ufffd\ufffdb"]);
  });

  it("drops NUL bytes and strips ANSI, OSC and control sequences but keeps the raw line", () => {
    const [l] = frame(["\u001b[31mBUG:\u001b[0m x\u0000y\u001b]0;title\u0007\u0008!\n"]);
    assert.equal(l!.text, "BUG: xy!");
    assert.ok(l!.raw.includes("\u001b[31m"));
  });

  it("splits a line holding several printk stamps at each", () => {
    const ls = frame(["[   10.000000] Network is not compiled. Halt.[   10.000100] next one\n"]);
    assert.deepEqual(texts(ls), ["[   10.000000] Network is not compiled. Halt.", "[   10.000100] next one"]);
    assert.deepEqual(
      ls.map((l) => l.lineNo),
      [1, 1],
    );
  });

  it("keeps a log level or a syslog prefix with the stamp after it, and splits at the next", () => {
    const syslog = "Nov 26 01:02:03 node7 kernel: [  124.000000] BUG: x";
    assert.deepEqual(texts(frame([`${syslog}\n`])), [syslog]);
    assert.deepEqual(texts(frame([`<4>[  124.000000] a[  124.000100] b\n`])), [
      "<4>[  124.000000] a",
      "[  124.000100] b",
    ]);
    assert.deepEqual(texts(frame([`${syslog}[  124.000100] next\n`])), [syslog, "[  124.000100] next"]);
    // Anything else before the first stamp is a line of its own, as a printk without a newline leaves it.
    assert.deepEqual(texts(frame(["partial [  124.000000] next\n"])), ["partial", "[  124.000000] next"]);
  });

  it("does not split at brackets that are not stamps", () => {
    const line =
      "[  227.054974] CPU14 PID22 strace__munmap([0x7fffb0ba9000 - 0x7fffb4000000], 54882304) = 0, 0x0";
    assert.deepEqual(texts(frame([`${line}\n`])), [line]);
  });

  it("cuts a line over the limit into pieces marked truncated", () => {
    const ls = frame([`${"x".repeat(25)}\nok\n`], 10);
    assert.deepEqual(
      ls.map((l) => [l.text.length, l.truncated ?? false, l.lineNo]),
      [
        [10, true, 1],
        [10, true, 2],
        [5, true, 3],
        [2, false, 4],
      ],
    );
  });

  it("numbers physical lines from 1", () => {
    assert.deepEqual(
      frame(["a\nb\nc"]).map((l) => l.lineNo),
      [1, 2, 3],
    );
  });
});

describe("framing properties", () => {
  // Bytes drawn from what consoles really send: text, line ends, escapes, stamps, broken UTF-8.
  const piece = fc.oneof(
    fc.constantFrom(
      "\n",
      "\r",
      "\r\n",
      "\r\r\n",
      "\u0000",
      "\u001b[1;31m",
      "\u001b]0;t\u0007",
      "[  12.345678] ",
      "€",
      "é",
    ),
    fc.string({ maxLength: 12 }),
  );
  const stream = fc
    .tuple(fc.array(piece, { maxLength: 40 }), fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }))
    .map(([ps, junk]) => {
      const b = bytes(ps.join(""));
      const out = new Uint8Array(b.length + junk.length);
      out.set(b);
      out.set(junk, b.length);
      return out;
    });

  it("any chunking of the same bytes gives the same lines", () => {
    fc.assert(
      fc.property(
        stream,
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 20 }),
        (b, sizes) => {
          const whole = frame([b], 16);
          const chunks: Uint8Array[] = [];
          for (let at = 0, k = 0; at < b.length; k++) {
            const n = sizes[k % sizes.length]!;
            chunks.push(b.slice(at, at + n));
            at += n;
          }
          assert.deepEqual(frame(chunks, 16), whole);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("never throws and never emits a control character or an over-long line", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        for (const l of frame([b], 32)) {
          assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(l.text));
          assert.ok(l.text.length <= 32);
        }
      }),
    );
  });
});

describe("framing helpers", () => {
  const DIRTY = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\xc2]/;

  it("finds a byte that may need cleaning wherever it is, as a regex over the bytes does", () => {
    assert.equal(hasDirtyByte(bytes("plain console line\r\n\tmore\n"), 0, 27), false);
    assert.equal(hasDirtyByte(bytes("colour \u001b[31m"), 0, 12), true);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(7), fc.nat(), fc.nat(), (data, pad, a, b) => {
        // A view at any offset of a larger buffer, so that every alignment is tried.
        const buf = new Uint8Array(pad + data.length);
        buf.set(data, pad);
        const view = buf.subarray(pad);
        const start = data.length === 0 ? 0 : a % (data.length + 1);
        const end = start + (data.length === 0 ? 0 : b % (data.length - start + 1));
        const want = DIRTY.test(Buffer.from(view.subarray(start, end)).toString("latin1"));
        assert.equal(hasDirtyByte(view, start, end), want);
      }),
      { numRuns: 3000 },
    );
  });

  it("says a line may hold a stamp whenever it is split at one", () => {
    assert.equal(mayHoldStamp("[  227.054974] CPU14 strace__munmap([0x7fffb0ba9000 - 0x7fff], 5)"), false);
    assert.equal(mayHoldStamp("hb: worker[0] max_nr_queued=3"), false);
    assert.equal(mayHoldStamp("[ 10.000000] Halt.[   10.000100] next"), true);
    const piece = fc.constantFrom(
      "[",
      "]",
      " ",
      "\t",
      "\u00a0",
      "\u3000",
      "1",
      "0",
      ".",
      "123456",
      "x",
      "[ 1.000000]",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (parts) => {
        const text = parts.join("");
        if (splitAtStamps(text).length > 1) assert.ok(mayHoldStamp(text), JSON.stringify(text));
      }),
      { numRuns: 3000 },
    );
  });
});
