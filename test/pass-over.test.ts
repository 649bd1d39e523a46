import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Engine } from "../src/engine/engine.js";
import { alertJson, eventJson } from "../src/headless/json.js";
import { ConsoleParser } from "../src/parse/console.js";
import { KeyScanner } from "../src/parse/key-scan.js";
import { parserKeys } from "../src/parse/parser.js";
import { PassOver } from "../src/pass-over.js";
import { Pipeline } from "../src/pipeline.js";

/** Everything a front end can see of a run: events, alert changes, and each node's counts and clock. */
function observe(chunks: readonly (readonly [string, Uint8Array])[], passOver: boolean): string[] {
  const seen: string[] = [];
  const p = new Pipeline({
    passOver,
    onEvent: (e) => seen.push(eventJson(e)),
    onAlert: (a, change) => seen.push(`${change} ${alertJson(a)}`),
  });
  for (const [node, bytes] of chunks) p.push(node, bytes, null);
  p.end();
  for (const n of p.engine.nodes.values()) seen.push(`${n.name} lines=${n.lines} lastTs=${n.lastTs}`);
  return seen;
}

const SEED = new URL("./fixtures/seed/", import.meta.url);
const seedLines = readdirSync(SEED)
  .filter((f) => f.endsWith(".log"))
  .flatMap((f) => readFileSync(new URL(f, SEED), "utf8").split("\n"));
const { keys } = parserKeys();

const stamp = fc
  .tuple(fc.integer({ min: 0, max: 99999 }), fc.integer({ min: 0, max: 999999 }))
  .map(([s, us]) => `[${String(s).padStart(5)}.${String(us).padStart(6, "0")}]`);
const word = fc.constantFrom(
  "alloc",
  "done",
  "x",
  "[<ffffffff81062fcd>]",
  "worker[2]",
  "0x1f",
  "=",
  ":",
  "\t",
);
/** Lines of every kind the pass-over must tell apart from those it may count without reading. */
const line = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(stamp, fc.array(word, { maxLength: 8 })).map(([s, w]) => `${s} ${w.join(" ")}`),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(stamp, fc.constantFrom(...keys), word).map(([s, k, w]) => `${s} ${w} ${k} ${w}`),
  },
  { weight: 4, arbitrary: fc.constantFrom(...seedLines) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "[    0.000000] Linux version 4.0.0-lego",
      "[    0.000000] Command line: console=ttyS0",
      "[    0.000000] ordinary line at the zero stamp",
      "<4>[   12.000000] level first",
      "[   12.000000][  T123] caller tag",
      "[   12.000000][  C1]fit:",
      "[   12.000000] fit:   ",
      "[   12.000000] fit:",
      // The lost-CQE banner opens on its bare `fit:` line.
      "[   12.000000] fit:\n*****\n*****     Fail to to get the CQE from send_cq after 10 seconds\n*****",
      "[   12.000000] first half[   12.000001] second half",
      "no stamp at all",
      "Nov 26 01:02:03 node7 kernel: fit:\nNov 26 01:02:03 node7 kernel: *****\nNov 26 01:02:03 node7 kernel: *****     Fail to to get the CQE from send_cq after 10 seconds",
      "2026-11-26T01:02:03.5+00:00 node7 kernel: fit:  ",
      "[Thu Nov 26 01:02:03 2026] fit:",
      "Nov 26 01:02:03 node7 kernel: an ordinary line from syslog",
      "[Thu Nov 26 01:02:03 2026] an ordinary line from dmesg -T",
      "Nov 26 01:02:03 node7 kernel: [   12.000000] fit:",
      "Nov 26 01:02:03 node7 kernel: [   12.000000] kern.log keeps the stamp",
      "[   12.000000] node7 kernel: fit:\n[   12.000000] node7 kernel: *****\n[   12.000000] node7 kernel: *****     Fail to to get the CQE from send_cq after 10 seconds",
      "[   12.000000][  T1] node7 kernel: fit:",
      "[   12.000000] node7 kernel: the journal's monotonic form",
      "[   12.000000] node7 kernel:",
      "   continuation of the line before",
      "[   12.000000] with a carriage return\r",
      "[   12.000000] tab\tand bell\u0007",
      "[   12.000000] caf\u00e9 non-ASCII",
      "]---",
      "[   12.000000] STDOUT: ---[",
    ),
  },
);
/** A console cut into chunks anywhere, several nodes interleaved. */
const run = fc
  .array(fc.tuple(fc.constantFrom("P", "M"), fc.array(line, { minLength: 1, maxLength: 30 }), fc.nat(97)), {
    minLength: 1,
    maxLength: 12,
  })
  .map((parts) =>
    parts.flatMap(([node, lines, cut]) => {
      const bytes = Buffer.from(`${lines.join("\n")}\n`);
      const at = Math.min(cut, bytes.length);
      return [[node, bytes.subarray(0, at)] as const, [node, bytes.subarray(at)] as const];
    }),
  );

describe("passing over the lines no parser wants", () => {
  it("gives exactly the events, alerts and counts of reading every line", () => {
    fc.assert(
      fc.property(run, (chunks) => {
        assert.deepEqual(observe(chunks, true), observe(chunks, false));
      }),
      { numRuns: 300 },
    );
  });

  it("on the seed's consoles, whole and in small chunks", () => {
    for (const f of readdirSync(SEED).filter((n) => n.endsWith(".log"))) {
      const bytes = readFileSync(new URL(f, SEED));
      for (const size of [bytes.length, 7, 4096]) {
        const chunks: [string, Uint8Array][] = [];
        for (let i = 0; i < bytes.length; i += size) chunks.push([f, bytes.subarray(i, i + size)]);
        assert.deepEqual(observe(chunks, true), observe(chunks, false), `${f} in chunks of ${size}`);
      }
    }
  });
});

describe("PassOver", () => {
  it("reads every line whose message may be a bare exact one, the journal's `host kernel: ` taken off", () => {
    const pass = new PassOver(new ConsoleParser(() => {}), new Engine());
    pass.begin("M", null, () => {});
    const passes = (line: string) => {
      const b = Buffer.from(line, "latin1");
      return pass.passOver(b, 0, b.length, 1);
    };
    assert.equal(passes("[   12.000000] an ordinary line of the console"), true);
    assert.equal(passes("[   12.000000] node7 kernel: an ordinary line"), true);
    assert.equal(passes("[   12.000000] fit:"), false);
    assert.equal(passes("[   12.000000] node7 kernel: fit:"), false);
    assert.equal(passes("[   12.000000][  T1] node-7.lab kernel:fit:  "), false);
  });
});

describe("KeyScanner", () => {
  it("finds every place a key starts, as indexOf does key by key", () => {
    const scanner = new KeyScanner(keys);
    const text = fc.array(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 12 }), word), {
      maxLength: 40,
    });
    fc.assert(
      fc.property(text, fc.nat(5), (parts, cut) => {
        const s = parts.join("");
        const buf = Buffer.from(s, "latin1");
        const start = Math.min(cut, buf.length);
        const want = new Set<number>();
        for (const k of keys) {
          for (let p = s.indexOf(k, start); p !== -1; p = s.indexOf(k, p + 1)) want.add(p);
        }
        assert.deepEqual(
          scanner.scan(buf, start, buf.length),
          [...want].sort((a, b) => a - b),
        );
      }),
      { numRuns: 500 },
    );
  });

  it("finds nothing past the end it is given", () => {
    const scanner = new KeyScanner(["overflow", " sys_"]);
    const buf = Buffer.from("xx overflow sys_ yy");
    assert.deepEqual(scanner.scan(buf, 0, buf.length), [3, 11]);
    assert.deepEqual(scanner.scan(buf, 0, 10), []);
    assert.deepEqual(scanner.scan(buf, 4, buf.length), [11]);
  });
});
