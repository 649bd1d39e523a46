import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { CrashStore, CrashStoreError, describeHistory } from "../../src/crash/store.js";

const root = mkdtempSync(join(tmpdir(), "legowatch-crash-store-"));
after(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
/** A store in a fresh directory (not created yet: record must create it), collecting its warnings. */
function fresh(o: { keepReports?: number; lockTimeoutMs?: number } = {}) {
  const warnings: string[] = [];
  const dir = join(root, `s${++dirs}`, "crashes");
  return { dir, warnings, store: new CrashStore(dir, { ...o, onWarning: (m) => warnings.push(m) }) };
}

const fileOf = (dir: string, title: string) =>
  join(dir, `${createHash("sha256").update(title).digest("hex").slice(0, 32)}.json`);

const T0 = 1_790_000_000_000;
const TITLE = "BUG: unable to handle kernel NULL pointer dereference in fit_poll_cq";
const sighting = (at: number, node = "P", n = 0) => ({ title: TITLE, node, at, report: [`report ${n}`] });

describe("CrashStore.record", () => {
  it("counts sightings and keeps the first, the last and every node", async () => {
    const { dir, store, warnings } = fresh();
    const one = await store.record({ ...sighting(T0, "P", 1), session: "run-1" });
    assert.equal(one.before, null);
    assert.deepEqual(one.after, {
      title: TITLE,
      count: 1,
      first: { at: T0, node: "P", session: "run-1" },
      last: { at: T0, node: "P", session: "run-1" },
      nodes: ["P"],
      latest: ["report 1"],
      earlier: [],
    });

    const two = await store.record(sighting(T0 + 1000, "M", 2));
    assert.deepEqual(two.before, one.after);
    assert.equal(two.after.count, 2);
    assert.deepEqual(two.after.first, { at: T0, node: "P", session: "run-1" });
    assert.deepEqual(two.after.last, { at: T0 + 1000, node: "M" });
    assert.deepEqual(two.after.nodes, ["M", "P"]);
    assert.deepEqual(two.after.latest, ["report 2"]);
    assert.deepEqual(two.after.earlier, [{ at: T0, report: ["report 1"] }]);

    assert.deepEqual(await store.get(TITLE), two.after);
    assert.equal(await store.get("never seen"), null);
    // The file is named after the title's hash and holds the title itself.
    assert.equal(JSON.parse(readFileSync(fileOf(dir, TITLE), "utf8")).title, TITLE);
    assert.deepEqual(warnings, []);
  });

  it("keeps the newest report and at most keepReports earlier ones, newest first", async () => {
    const { store } = fresh({ keepReports: 2 });
    for (let i = 1; i <= 5; i++) await store.record(sighting(T0 + i, "P", i));
    const e = await store.get(TITLE);
    assert.equal(e?.count, 5);
    assert.deepEqual(e.latest, ["report 5"]);
    assert.deepEqual(e.earlier, [
      { at: T0 + 4, report: ["report 4"] },
      { at: T0 + 3, report: ["report 3"] },
    ]);
  });

  it("orders a sighting older than the last one by its time", async () => {
    const { store } = fresh();
    await store.record(sighting(T0 + 100, "P", 1));
    const { after } = await store.record(sighting(T0, "M", 2));
    assert.equal(after.first.at, T0);
    assert.equal(after.last.at, T0 + 100);
    assert.deepEqual(after.latest, ["report 1"]);
    assert.deepEqual(after.earlier, [{ at: T0, report: ["report 2"] }]);
  });

  it("starts a corrupt entry again, with one warning", async () => {
    for (const bad of ["{not json", JSON.stringify({ title: TITLE, count: "many" })]) {
      const { dir, store, warnings } = fresh();
      await store.record(sighting(T0));
      const file = fileOf(dir, TITLE);
      writeFileSync(file, bad);
      const { before, after } = await store.record(sighting(T0 + 1));
      assert.equal(before, null);
      assert.equal(after.count, 1);
      assert.deepEqual(warnings, [`crash store: ${file}: corrupt entry, started again`]);
    }
  });

  it("refuses to overwrite a file that holds another title", async () => {
    const { dir, store, warnings } = fresh();
    await store.record({ ...sighting(T0), title: "another crash" });
    const other = readFileSync(fileOf(dir, "another crash"), "utf8");
    writeFileSync(fileOf(dir, TITLE), other);

    await assert.rejects(store.record(sighting(T0)), (err: Error) => {
      assert.ok(err instanceof CrashStoreError);
      assert.ok(err.message.includes(fileOf(dir, TITLE)), err.message);
      return true;
    });
    assert.equal(warnings.length, 1);
    assert.equal(readFileSync(fileOf(dir, TITLE), "utf8"), other);
    assert.equal(await store.get(TITLE), null);
  });
});

describe("CrashStore.list", () => {
  it("lists every entry, last seen first", async () => {
    const { store } = fresh();
    await store.record({ ...sighting(T0 + 20), title: "B" });
    await store.record({ ...sighting(T0 + 10), title: "A" });
    await store.record({ ...sighting(T0 + 30), title: "C" });
    await store.record({ ...sighting(T0 + 5), title: "B" });
    assert.deepEqual(
      (await store.list()).map((e) => [e.title, e.last.at]),
      [
        ["C", T0 + 30],
        ["B", T0 + 20],
        ["A", T0 + 10],
      ],
    );
  });

  it("skips a corrupt entry with one warning naming the file", async () => {
    const { dir, store, warnings } = fresh();
    await store.record({ ...sighting(T0), title: "good" });
    await store.record(sighting(T0));
    const file = fileOf(dir, TITLE);
    writeFileSync(file, "[]");
    assert.deepEqual(
      (await store.list()).map((e) => e.title),
      ["good"],
    );
    assert.deepEqual(warnings, [`crash store: ${file}: corrupt entry, skipped`]);
    assert.equal(await store.get(TITLE), null);
    assert.equal(warnings.length, 2);
  });

  it("is empty when the directory does not exist yet", async () => {
    assert.deepEqual(await fresh().store.list(), []);
  });
});

describe("CrashStore locking", () => {
  it("loses no update when two processes record the same title at once", async () => {
    const { dir, store } = fresh();
    const cwd = fileURLToPath(new URL("../..", import.meta.url));
    const child = () =>
      new Promise<void>((resolve, reject) => {
        const p = spawn(
          process.execPath,
          ["--import", "tsx", "test/crash/store-child.ts", dir, TITLE, "200"],
          { cwd, stdio: ["ignore", "ignore", "pipe"] },
        );
        let stderr = "";
        p.stderr.on("data", (b: Buffer) => {
          stderr += b;
        });
        p.on("error", reject);
        p.on("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`store-child exited ${code}: ${stderr}`)),
        );
      });
    await Promise.all([child(), child()]);

    const e = await store.get(TITLE);
    assert.equal(e?.count, 400);
    assert.equal(e.nodes.length, 2);
    assert.deepEqual(readdirSync(dir), [fileOf(dir, TITLE).slice(dir.length + 1)]);
  });

  it("removes a stale lock left by a process that died", async () => {
    const { dir, store, warnings } = fresh({ lockTimeoutMs: 2000 });
    await store.record(sighting(T0));
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    assert.ok(dead);
    const lock = `${fileOf(dir, TITLE)}.lock`;
    writeFileSync(lock, String(dead));
    const old = Date.now() / 1000 - 60;
    utimesSync(lock, old, old);

    const { after } = await store.record(sighting(T0 + 1));
    assert.equal(after.count, 2);
    assert.ok(!existsSync(lock));
    assert.deepEqual(warnings, [`crash store: ${lock}: removed the stale lock of process ${dead}`]);
  });

  it("waits for a live lock, then rejects naming the entry file", async () => {
    const { dir, store } = fresh({ lockTimeoutMs: 100 });
    await store.record(sighting(T0));
    const lock = `${fileOf(dir, TITLE)}.lock`;
    // Ours, and old: a live owner makes a lock not stale however old it is.
    writeFileSync(lock, String(process.pid));
    const old = Date.now() / 1000 - 60;
    utimesSync(lock, old, old);

    const started = Date.now();
    await assert.rejects(store.record(sighting(T0 + 1)), (err: Error) => {
      assert.ok(err instanceof CrashStoreError);
      assert.ok(err.message.includes(fileOf(dir, TITLE)), err.message);
      return true;
    });
    assert.ok(Date.now() - started >= 100);
    assert.ok(existsSync(lock), "someone else's lock is left alone");
    rmSync(lock);
    assert.equal((await store.record(sighting(T0 + 2))).after.count, 2);
  });
});

describe("CrashStore.defaultDir", () => {
  it("uses XDG_DATA_HOME when it is set and absolute, else ~/.local/share", () => {
    assert.equal(
      CrashStore.defaultDir({ XDG_DATA_HOME: "/data/u", HOME: "/home/u" }),
      "/data/u/legowatch/crashes",
    );
    assert.equal(CrashStore.defaultDir({ HOME: "/home/u" }), "/home/u/.local/share/legowatch/crashes");
    assert.equal(
      CrashStore.defaultDir({ XDG_DATA_HOME: "", HOME: "/home/u" }),
      "/home/u/.local/share/legowatch/crashes",
    );
    assert.equal(
      CrashStore.defaultDir({ XDG_DATA_HOME: "data", HOME: "/home/u" }),
      "/home/u/.local/share/legowatch/crashes",
    );
  });
});

describe("describeHistory", () => {
  const entry = (count: number, at: number) => ({
    title: TITLE,
    count,
    first: { at, node: "P" },
    last: { at, node: "P" },
    nodes: ["P"],
    latest: [],
    earlier: [],
  });

  it("says new, or how often and since when, in local time", () => {
    assert.equal(describeHistory(null), "new");
    // Built from local fields, so the expected text holds in any time zone.
    const at = new Date(2026, 10, 25, 14, 2, 59).getTime();
    assert.equal(describeHistory(entry(3, at)), "seen 3 times before, first on 2026-11-25 14:02");
    assert.equal(
      describeHistory(entry(1, new Date(2027, 0, 5, 3, 7).getTime())),
      "seen 1 time before, first on 2027-01-05 03:07",
    );
  });
});
