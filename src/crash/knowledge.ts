import type { CrashEvent, ParsedEvent, StuckWorkerEvent } from "../parse/events.js";
import { type CrashStore, describeHistory } from "./store.js";
import { ImageSymbolizer, type Symbolized } from "./symbolize.js";

/** The events with a stack worth knowing about: crashes, warnings and stuck workers' remote dumps. */
export type DumpEvent = CrashEvent | StuckWorkerEvent;

/** True for the events {@link CrashKnowledge.note} takes. */
const isDumpEvent = (e: ParsedEvent): e is DumpEvent =>
  e.type === "crash" || e.type === "warning" || e.type === "stuck_worker";

/** What legowatch learnt about one crash, warning or stuck worker, after the fact. */
export interface CrashNotes {
  /** Its frames resolved against the node's kernel image, when one was given. */
  symbolized?: Symbolized;
  /** `new`, or `seen 3 times before, first on ...`, when a store is kept (crashes and warnings). */
  history?: string;
  /** Why the store could not be updated. */
  storeError?: string;
}

/** Options of {@link CrashKnowledge}. */
export interface CrashKnowledgeOptions {
  /** Kernel image per node, for symbolization. */
  vmlinux?: Readonly<Record<string, string>>;
  store?: CrashStore;
  /** Names this run in the store (a session file, or the scanned files). */
  session?: string;
}

/** Crashes kept with their notes: a crash storm left running for days must not grow without bound. */
const MAX_NOTED = 1000;
/** Reports waiting to be learnt about, at most. */
const MAX_PENDING = 256;

const key = (e: { node: string; line: number }) => `${e.node}\u0000${e.line}`;

/**
 * Symbolizes crashes and keeps their history, off the parser's path: {@link note} starts the work and
 * returns at once; what is known so far is read with {@link get}. Nothing here ever throws at the caller:
 * a missing tool, image or store becomes a line in the notes.
 */
export class CrashKnowledge {
  private readonly notes = new Map<string, CrashNotes>();
  private readonly events: DumpEvent[] = [];
  private readonly pending = new Map<string, Promise<CrashNotes>>();
  private readonly symbolizers = new Map<string, ImageSymbolizer>();
  private readonly listeners = new Set<(e: DumpEvent, n: CrashNotes) => void>();
  /** The work, one crash at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: CrashKnowledgeOptions) {}

  /**
   * True when there is something to learn about `e`: a crash or warning with a store or an image, a stuck
   * worker's first report with an image (its repeats say the same).
   */
  wants(e: ParsedEvent): e is DumpEvent {
    if (!isDumpEvent(e)) return false;
    const image = this.o.vmlinux?.[e.node] !== undefined;
    return e.type === "stuck_worker" ? image && e.repeat === 1 : image || this.o.store !== undefined;
  }

  /** {@link note} for an event it {@link wants}, from a pipeline's `onEvent`; null for any other event. */
  offer(e: ParsedEvent): Promise<CrashNotes> | null {
    return this.wants(e) ? this.note(e) : null;
  }

  /** Starts learning about `e` (once per event); resolves with its notes. */
  note(e: DumpEvent): Promise<CrashNotes> {
    const k = key(e);
    const known = this.pending.get(k);
    if (known) return known;
    const done = this.notes.get(k);
    if (done) return Promise.resolve(done);
    // A WARN_ON in a loop must not queue work (and store writes) without end: past a bound, say so.
    if (this.pending.size >= MAX_PENDING)
      return Promise.resolve({ storeError: `${MAX_PENDING} reports already waiting; this one was skipped` });
    this.events.push(e);
    if (this.events.length > MAX_NOTED) {
      const old = this.events.shift()!;
      this.notes.delete(key(old));
    }
    const p = this.serially(() => this.learn(e)).then((n) => {
      if (this.events.includes(e)) this.notes.set(k, n);
      this.pending.delete(k);
      for (const f of this.listeners) f(e, n);
      return n;
    });
    this.pending.set(k, p);
    return p;
  }

  /** Calls `f` with each crash's notes as they complete (the screen redraws, headless output prints). */
  subscribe(f: (e: DumpEvent, n: CrashNotes) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /** The notes on the event at `node`'s line `line`, once they are complete. */
  get(at: { node: string; line: number }): CrashNotes | undefined {
    return this.notes.get(key(at));
  }

  /** Every crash and warning noted, in order, with its notes once complete. */
  noted(): { event: DumpEvent; notes: CrashNotes | undefined }[] {
    return this.events.map((event) => ({ event, notes: this.get(event) }));
  }

  /** Resolves when everything started so far is done. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending.values()]);
  }

  /**
   * Runs `f` after the work queued before it, each in a later turn of the event loop: a burst of crashes
   * starts no process while the parser is busy with it, and never hundreds of them at once.
   */
  private serially<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => new Promise<void>((r) => setImmediate(r))).then(f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async learn(e: DumpEvent): Promise<CrashNotes> {
    const out: CrashNotes = {};
    const image = this.o.vmlinux?.[e.node];
    const [frames, ip] = e.type === "stuck_worker" ? [e.frames ?? [], e.rip] : [e.frames, e.ip];
    const symbolizing = image ? this.symbolizer(image).resolve(frames, ip) : undefined;
    if (this.o.store && e.type !== "stuck_worker") {
      try {
        const { before } = await this.o.store.record({
          title: e.title,
          node: e.node,
          at: e.arrival ?? Date.now(),
          session: this.o.session,
          report: e.report,
        });
        out.history = describeHistory(before);
      } catch (err) {
        out.storeError = `crash store: ${(err as Error).message}`;
      }
    }
    if (symbolizing) out.symbolized = await symbolizing;
    return out;
  }

  private symbolizer(image: string): ImageSymbolizer {
    let s = this.symbolizers.get(image);
    if (!s) {
      s = new ImageSymbolizer(image);
      this.symbolizers.set(image, s);
    }
    return s;
  }
}

/** `file:line`, as notes, JSON and the screen write a source location. */
export const sourceOf = (l: { file: string; line: number }): string => `${l.file}:${l.line}`;

/**
 * The notes in one line: the history (or why there is none, else `unknown`), the guilty line, a note on
 * symbols; `new; guilty fs/x.c:12`.
 */
export function describeNotes(n: CrashNotes | undefined, unknown = ""): string {
  const parts = [n?.history ?? n?.storeError ?? unknown];
  const s = n?.symbolized;
  if (s?.guilty) parts.push(`guilty ${sourceOf(s.guilty)}`);
  if (s?.note) parts.push(s.note);
  return parts.filter((p) => p !== "").join("; ");
}

/** What the notes of `e` are about: a crash's title, or the stuck worker. */
export function dumpTitle(e: DumpEvent): string {
  return e.type === "stuck_worker" ? `worker[${e.worker}] stuck` : e.title;
}

/**
 * An event with what was learnt about it, for JSON: `frames[].file`/`line` (innermost location),
 * `guilty_file` (`file:line`), `symbolize_note`, `history`.
 */
export function withNotes<E extends DumpEvent>(e: E, n: CrashNotes | undefined): E {
  if (!n) return e;
  const out = { ...e } as E & Record<string, unknown>;
  const s = n.symbolized;
  if (s) {
    if (s.ip?.locs[0]) out.ip_file = sourceOf(s.ip.locs[0]);
    out.frames = (e.frames ?? []).map((f, i) => {
      const loc = s.frames[i]?.locs[0];
      return loc ? { ...f, file: loc.file, line: loc.line } : f;
    });
    if (s.guilty) out.guilty_file = sourceOf(s.guilty);
    if (s.note) out.symbolize_note = s.note;
  }
  if (n.history) out.history = n.history;
  if (n.storeError) out.store_error = n.storeError;
  return out;
}
