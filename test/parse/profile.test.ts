import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { ProfileEvent } from "../../src/parse/events.js";
import { baseOf } from "../../src/parse/family.js";
import { profileFamily } from "../../src/parse/profile.js";
import { lines, parseBlocks } from "../helpers.js";

const SEED = new URL("../fixtures/seed/", import.meta.url);
const seed = (name: string) => readFileSync(new URL(name, SEED), "utf8");

const tables = (text: string) => parseBlocks(profileFamily, text) as ProfileEvent[];

const HEADERS: Record<number, string> = {
  20: " status                  name             total                nr            avg.ns",
  30: " Status                            Name          Total(s)                NR           Avg(ns)",
  35: " Status                                 Name          Total(s)                NR           Avg(ns)",
};
const sep = (w: number) =>
  `-------  ${"-".repeat(w)}  ${"-".repeat(16)}  ${"-".repeat(16)}  ${"-".repeat(16)}`;
/** Renders `"%s  %Ns  %6Ld.%09Ld  %16ld  %16ld"`. */
const row = (w: number, on: boolean, name: string, s: bigint, ns: bigint, nr: bigint, avg: bigint) =>
  `${on ? "     on" : "    off"}  ${name.padStart(w)}  ${String(s).padStart(6)}.${String(ns).padStart(9, "0")}  ${String(nr).padStart(16)}  ${String(avg).padStart(16)}`;
const stamp = (i: number) => `[ 1234.${String(i).padStart(6, "0")}] `;
const stamped = (ls: string[]) => ls.map((l, i) => stamp(i) + l).join("\n");

describe("profile tables (F19)", () => {
  it("April, 20-wide: closes at the second separator, before the timestamp-only blank", () => {
    const ls = lines(
      stamped([
        "Kernel Profile Points",
        HEADERS[20]!,
        sep(20),
        row(20, false, "flush_tlb_others", 0n, 130715n, 53n, 2467n),
        row(20, false, "pcache_miss", 4n, 504660891n, 258211n, 17446n),
        sep(20),
        "",
      ]),
    );
    const block = profileFamily.open(ls[0]!, baseOf(ls[0]!))!;
    assert.deepEqual(
      ls.slice(1, 6).map((l) => block.feed(l)),
      ["take", "take", "take", "take", "done"],
    );
    const [e] = block.close(false) as ProfileEvent[];
    assert.equal(e!.nameWidth, 20);
    assert.equal(e!.truncated, undefined);
    assert.deepEqual(e!.rows[1], {
      name: "pcache_miss",
      on: false,
      totalNs: 4504660891n,
      count: 258211n,
      avgNs: 17446n,
    });
  });

  it("2018-04-25, 30-wide name column with the footer still 20 wide", () => {
    const es = tables(
      stamped([
        "Kernel Profile Points",
        HEADERS[30]!,
        sep(30),
        row(30, false, "handle_p2m_pcache_miss", 12n, 5n, 1000n, 12000001n),
        sep(20),
      ]),
    );
    assert.equal(es.length, 1);
    assert.equal(es[0]!.nameWidth, 30);
    assert.equal(es[0]!.truncated, undefined);
    assert.equal(es[0]!.rows[0]!.totalNs, 12000000005n);
  });

  it("HEAD, 35-wide, `on` rows and values past 2^53", () => {
    const es = tables(
      stamped([
        "Kernel Profile Points",
        HEADERS[35]!,
        sep(35),
        row(35, true, "__pcache_do_fill_page_with_victim", 123456n, 987654321n, 9007199254740993n, 13n),
        row(35, true, "evict_line", 0n, 0n, 0n, 0n),
        sep(35),
      ]),
    );
    const e = es[0]!;
    assert.equal(e.nameWidth, 35);
    assert.deepEqual(
      e.rows.map((r) => [r.name, r.on, r.totalNs, r.count]),
      [
        ["__pcache_do_fill_page_with_victim", true, 123456987654321n, 9007199254740993n],
        ["evict_line", true, 0n, 0n],
      ],
    );
  });

  it("a table cut by the log's end after its header is emitted truncated", () => {
    const es = tables(
      stamped(["Kernel Profile Points", HEADERS[35]!, sep(35), row(35, true, "pcache_miss", 1n, 0n, 2n, 3n)]),
    );
    assert.equal(es.length, 1);
    assert.equal(es[0]!.truncated, true);
    assert.equal(es[0]!.rows.length, 1);
    const headerOnly = tables(stamped(["Kernel Profile Points", HEADERS[20]!]));
    assert.deepEqual(
      headerOnly.map((e) => [e.truncated, e.rows.length]),
      [[true, 0]],
    );
  });

  it("a foreign line cuts a table, and is offered again", () => {
    const es = tables(
      stamped([
        "Kernel Profile Points",
        HEADERS[20]!,
        sep(20),
        row(20, false, "pcache_miss", 1n, 0n, 2n, 3n),
        "ibapi_send_reply() CPU:8 PID:19 timeout (30010 ms), caller: clflush_one+0x1c9/0x370",
        "Kernel Profile Points",
        HEADERS[20]!,
        sep(20),
        sep(20),
      ]),
    );
    assert.deepEqual(
      es.map((e) => [e.truncated, e.rows.length]),
      [
        [true, 1],
        [undefined, 0],
      ],
    );
  });

  it("a title without its header gives nothing", () => {
    assert.deepEqual(tables(stamped(["Kernel Profile Points", "nr_pgfault: 5"])), []);
    assert.deepEqual(tables(stamped(["Kernel Profile Points"])), []);
  });
});

describe("profile tables over the seed", () => {
  const withTables = [
    "b06.log",
    "b07.log",
    "b08.log",
    "b09.log",
    "b10.log",
    "b11.log",
    "b12.log",
    "b15.log",
    "b16.log",
  ];

  it("finds the 9 whole April tables of b06-b12, b15 and b16, and nothing elsewhere", () => {
    let total = 0;
    for (const name of readdirSync(SEED).filter((n) => n.endsWith(".log"))) {
      const es = tables(seed(name));
      total += es.length;
      assert.equal(es.length, withTables.includes(name) ? 1 : 0, name);
      for (const e of es) {
        assert.equal(e.truncated, undefined, name);
        assert.equal(e.nameWidth, 20, name);
        assert.deepEqual(
          e.rows.map((r) => r.name),
          ["flush_tlb_others", "__do_kmalloc_node", "pcache_miss", "pcache_flush"],
          name,
        );
      }
    }
    assert.equal(total, 9);
  });

  it("reads b06's values exactly and b12's rows with trailing blanks", () => {
    const b06 = tables(seed("b06.log"))[0]!;
    assert.equal(b06.ts, 308.660051);
    assert.deepEqual(b06.rows[2], {
      name: "pcache_miss",
      on: false,
      totalNs: 4504660891n,
      count: 258211n,
      avgNs: 17446n,
    });
    const b12 = tables(seed("b12.log"))[0]!;
    assert.deepEqual([b12.rows[1]!.count, b12.rows[1]!.avgNs], [1331984n, 910n]);
  });

  it("b13's bare rows are not a table", () => {
    assert.deepEqual(tables(seed("b13.log")), []);
  });
});

const REAL = [
  "[  308.660051] Kernel Profile Points",
  `[  308.663734] ${HEADERS[20]}`,
  `[  308.673431] ${sep(20)}`,
  "[  308.683128]     off      flush_tlb_others       0.000130715                53              2467",
  HEADERS[35]!,
  sep(35),
  row(35, true, "pcache_miss", 1n, 0n, 2n, 3n),
  "[  428.618289]",
];

describe("profile robustness", () => {
  it("never throws on arbitrary line sequences", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom(...REAL)), { maxLength: 60 }), (ls) => {
        for (const e of tables(ls.join("\n"))) assert.ok([20, 30, 35].includes(e.nameWidth));
      }),
    );
  });
});
