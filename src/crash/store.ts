import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** One sighting of a crash: when, on which node, during which run. */
export interface Sighting {
  /** Milliseconds since the epoch. */
  at: number;
  session?: string;
  node: string;
}

/** Everything kept about one crash title, across runs. */
export interface CrashEntry {
  title: string;
  count: number;
  first: Sighting;
  last: Sighting;
  /** Every node it was seen on, sorted, unique. */
  nodes: string[];
  /** The lines of the report seen at `last.at`. */
  latest: string[];
  /** Up to `keepReports` earlier reports, newest first. */
  earlier: { at: number; report: string[] }[];
}

/** The store could not take a lock or would overwrite another title's entry. */
export class CrashStoreError extends Error {
  override name = "CrashStoreError";
}

export interface CrashStoreOptions {
  /** Earlier reports kept per entry besides the latest; default 5. */
  keepReports?: number;
  onWarning?: (message: string) => void;
  /** How long {@link CrashStore.record} waits for an entry's lock; default 10 s. */
  lockTimeoutMs?: number;
}

/** Only a lock at least this old can be stale: its owner had all that time to write its pid into it. */
const STALE_LOCK_MS = 5_000;

/**
 * A crash history on the local disk, one JSON file per title, shared by every legowatch process of the
 * user: each update is read-modify-write under a per-entry lock file and lands with an atomic rename,
 * so concurrent writers lose nothing and readers never see half a file.
 */
export class CrashStore {
  private readonly keepReports: number;
  private readonly lockTimeoutMs: number;
  private readonly warn: (message: string) => void;

  constructor(
    readonly dir: string,
    o: CrashStoreOptions = {},
  ) {
    this.keepReports = o.keepReports ?? 5;
    this.lockTimeoutMs = o.lockTimeoutMs ?? 10_000;
    this.warn = o.onWarning ?? (() => {});
  }

  /** $XDG_DATA_HOME/legowatch/crashes, else $HOME/.local/share/legowatch/crashes. */
  static defaultDir(env: NodeJS.ProcessEnv = process.env): string {
    // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    const xdg = env.XDG_DATA_HOME;
    const data = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), ".local", "share");
    return join(data, "legowatch", "crashes");
  }

  /** Adds one sighting; returns the entry as it was before (null: never seen) and after. Creates the dir. */
  async record(c: {
    title: string;
    node: string;
    at: number;
    session?: string;
    report: readonly string[];
  }): Promise<{ before: CrashEntry | null; after: CrashEntry }> {
    await mkdir(this.dir, { recursive: true });
    const file = this.fileOf(c.title);
    const lock = await this.lock(file);
    try {
      const read = await readEntry(file);
      if (read === "corrupt") this.warn(`crash store: ${file}: corrupt entry, started again`);
      const before = read === "corrupt" ? null : read;
      // 128 bits of sha256 collide only after some 2^64 titles, so a different title here means a file
      // copied or edited by hand. Refusing keeps that entry intact; a chain of `-2` files would be code
      // that never runs.
      if (before && before.title !== c.title) {
        const m = `${file}: holds "${before.title}", not "${c.title}"; not recorded`;
        this.warn(`crash store: ${m}`);
        throw new CrashStoreError(m);
      }
      const after = update(before, c, this.keepReports);
      const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
      try {
        // No fsync: after a power cut the entry may come back empty, which reads as corrupt and restarts.
        await writeFile(tmp, `${JSON.stringify(after, null, 2)}\n`);
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      return { before, after };
    } finally {
      await rm(lock, { force: true });
    }
  }

  async get(title: string): Promise<CrashEntry | null> {
    const file = this.fileOf(title);
    const e = await this.load(file);
    return e && e.title === title ? e : null;
  }

  /** Every entry, last seen first; a corrupt entry file is skipped with one onWarning line naming the file. */
  async list(): Promise<CrashEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (code(err) === "ENOENT") return [];
      throw err;
    }
    const out: CrashEntry[] = [];
    for (const name of names.filter((n) => ENTRY_NAME.test(n)).sort()) {
      const e = await this.load(join(this.dir, name));
      if (e) out.push(e);
    }
    return out.sort((a, b) => b.last.at - a.last.at);
  }

  private fileOf(title: string): string {
    return join(this.dir, `${createHash("sha256").update(title).digest("hex").slice(0, 32)}.json`);
  }

  private async load(file: string): Promise<CrashEntry | null> {
    const read = await readEntry(file);
    if (read !== "corrupt") return read;
    this.warn(`crash store: ${file}: corrupt entry, skipped`);
    return null;
  }

  /** Takes `<file>.lock` (O_EXCL create, holding our pid); returns its path. */
  private async lock(file: string): Promise<string> {
    const lock = `${file}.lock`;
    const deadline = Date.now() + this.lockTimeoutMs;
    for (;;) {
      try {
        const h = await open(lock, "wx");
        try {
          await h.writeFile(String(process.pid));
        } catch (err) {
          await rm(lock, { force: true });
          throw err;
        } finally {
          await h.close();
        }
        return lock;
      } catch (err) {
        if (code(err) !== "EEXIST") throw err;
      }
      if (await this.breakStale(lock)) continue;
      if (Date.now() >= deadline) {
        throw new CrashStoreError(`${file}: still locked after ${this.lockTimeoutMs} ms (see ${lock})`);
      }
      // Randomized so that writers which collided once do not keep colliding in step.
      await sleep(2 + Math.random() * 18);
    }
  }

  /**
   * Removes the lock when its owner died holding it; true when the lock is gone. Two processes breaking
   * the same stale lock at once could, in a window of microseconds, remove the lock one of them has just
   * re-taken; stale locks only follow a crash, so that is left as is.
   */
  private async breakStale(lock: string): Promise<boolean> {
    let pid: number;
    let age: number;
    try {
      age = Date.now() - (await stat(lock)).mtimeMs;
      pid = Number.parseInt(await readFile(lock, "utf8"), 10);
    } catch (err) {
      if (code(err) === "ENOENT") return true;
      throw err;
    }
    if (age < STALE_LOCK_MS || alive(pid)) return false;
    await rm(lock, { force: true });
    this.warn(`crash store: ${lock}: removed the stale lock of process ${Number.isNaN(pid) ? "?" : pid}`);
    return true;
  }
}

/** "new", or "seen 3 times before, first on 2026-11-25 14:02" (local time, minutes), for the screen and alerts. */
export function describeHistory(before: CrashEntry | null): string {
  if (!before) return "new";
  const n = before.count;
  return `seen ${n} ${n === 1 ? "time" : "times"} before, first on ${localMinute(before.first.at)}`;
}

const ENTRY_NAME = /^[0-9a-f]{32}\.json$/;

/** `2026-11-25 14:02`, local time: how the store's times are shown. */
export function localMinute(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function update(
  prev: CrashEntry | null,
  c: { title: string; node: string; at: number; session?: string; report: readonly string[] },
  keep: number,
): CrashEntry {
  const seen: Sighting = { at: c.at, node: c.node, ...(c.session !== undefined && { session: c.session }) };
  const report = [...c.report];
  if (!prev) {
    return {
      title: c.title,
      count: 1,
      first: seen,
      last: seen,
      nodes: [c.node],
      latest: report,
      earlier: [],
    };
  }
  // Sightings may arrive out of order (an old log scanned late): reports are kept ordered by time, and
  // on a tie the new one counts as newer. (The sort is stable.)
  const [newest, ...rest] = [
    { at: c.at, report },
    { at: prev.last.at, report: prev.latest },
    ...prev.earlier,
  ].sort((a, b) => b.at - a.at);
  return {
    title: c.title,
    count: prev.count + 1,
    first: c.at < prev.first.at ? seen : prev.first,
    last: c.at >= prev.last.at ? seen : prev.last,
    nodes: [...new Set([...prev.nodes, c.node])].sort(),
    latest: newest!.report,
    earlier: rest.slice(0, Math.max(0, keep)),
  };
}

/** The entry in `file`; null when there is none; "corrupt" when it is not JSON of the right shape. */
async function readEntry(file: string): Promise<CrashEntry | null | "corrupt"> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if (code(err) === "ENOENT") return null;
    throw err;
  }
  try {
    const v: unknown = JSON.parse(text);
    return isEntry(v) ? v : "corrupt";
  } catch {
    return "corrupt";
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const isLines = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");
const isSighting = (v: unknown): boolean =>
  isObject(v) &&
  Number.isFinite(v.at) &&
  typeof v.node === "string" &&
  (v.session === undefined || typeof v.session === "string");

function isEntry(v: unknown): v is CrashEntry {
  return (
    isObject(v) &&
    typeof v.title === "string" &&
    Number.isInteger(v.count) &&
    (v.count as number) > 0 &&
    isSighting(v.first) &&
    isSighting(v.last) &&
    isLines(v.nodes) &&
    isLines(v.latest) &&
    Array.isArray(v.earlier) &&
    v.earlier.every((r) => isObject(r) && Number.isFinite(r.at) && isLines(r.report))
  );
}

/** A pid we cannot signal for lack of permission still exists; one that is not a pid at all is nobody. */
function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return code(err) !== "ESRCH";
  }
}

const code = (err: unknown): unknown => (err as NodeJS.ErrnoException | null)?.code;
