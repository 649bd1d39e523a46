import { type ChildProcess, spawn } from "node:child_process";
import type { PauseLatch } from "./pause.js";
import { type BackoffOptions, type Connection, ReconnectingSource } from "./reconnect.js";
import type { SourceSink } from "./source.js";

/** Options of a {@link CommandSource}. */
export interface CommandOptions {
  /** A shell command line (run with `/bin/sh -c`) whose standard output is the console. */
  command: string;
}

/** How long a stopped command gets after SIGTERM before its process group is sent SIGKILL. */
const KILL_GRACE_MS = 2_000;
/** After SIGKILL, how long to wait for the pipes to close before closing our ends ourselves. */
const PIPE_GRACE_MS = 1_000;
/** The longest stderr line kept for the error message; a runaway line must not grow without bound. */
const MAX_STDERR_LINE = 512;
/** Longest command shown in status lines. */
const MAX_DESCRIBE = 80;

/**
 * A console read from a command's standard output (`ssh host dmesg -w`, `conserver -c node3`).
 * The command runs through `/bin/sh -c` in a process group of its own, so that stopping it also ends
 * whatever it started (pipelines, background jobs). When it exits for any reason, including "not found"
 * (the program may be installed later), it is started again with backoff; the exit code and its last
 * stderr line are the status error.
 *
 * Pausing stops reading the command's output: its pipe fills and its writes block until resumed.
 */
export class CommandSource extends ReconnectingSource {
  readonly kind = "cmd";
  readonly describe: string;
  /** Every run not yet fully ended, so that `stop()` can wait for all of them, even one cut short while starting. */
  private readonly runs = new Set<CommandRun>();

  constructor(
    private readonly options: CommandOptions,
    backoff?: BackoffOptions,
  ) {
    super(backoff);
    const c = options.command.trim();
    this.describe = c.length > MAX_DESCRIBE ? `${c.slice(0, MAX_DESCRIBE - 1)}…` : c;
  }

  override async stop(): Promise<void> {
    await super.stop();
    // The reconnector closes the current run, but a run that finished starting just as it was stopped
    // is closed without being awaited there: wait for every one here.
    await Promise.all(
      [...this.runs].map((r) => {
        r.close();
        return r.ended;
      }),
    );
  }

  protected async open(sink: SourceSink): Promise<CommandRun> {
    const run = new CommandRun(this.options.command, sink, this.latch);
    this.runs.add(run);
    void run.ended.then(() => this.runs.delete(run));
    await run.spawned;
    return run;
  }
}

/** One run of the command: a {@link Connection} that lasts until the process exits and its pipes close. */
class CommandRun implements Connection {
  readonly detail: string;
  /** Resolves once the process has started; rejects if it could not be spawned at all. */
  readonly spawned: Promise<void>;
  /** Rejects when the run is over, with the exit status and the last stderr line. */
  readonly closed: Promise<void>;
  /** Resolves when the run is over, whatever the outcome. */
  readonly ended: Promise<void>;
  private readonly child: ChildProcess;
  private readonly stderr = new LastLine();
  private killing = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly release: () => void;

  constructor(command: string, sink: SourceSink, latch: PauseLatch) {
    this.detail = command;
    // detached: a new process group whose id is the shell's pid, so one kill() reaches every process in it.
    this.child = spawn("/bin/sh", ["-c", command], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    // Attached before the data listener, so that a run started while paused never starts flowing.
    this.release = latch.attach(this.child.stdout!);
    this.child.stdout!.on("data", (chunk: Buffer) => sink.data(chunk));
    this.child.stderr!.on("data", (chunk: Buffer) => this.stderr.push(chunk));

    this.spawned = new Promise((resolve, reject) => {
      this.child.once("spawn", resolve);
      this.child.once("error", reject);
    });
    let exit = "";
    // Background jobs left by a command that exited would keep writing into a pipe nobody reads and
    // pile up across restarts: end the whole group as soon as the shell is gone.
    this.child.once("exit", (code, signal) => {
      exit = code !== null ? `exited with code ${code}` : `killed by ${signal}`;
      this.close();
    });
    // "close" comes after "exit" once both pipes are drained and closed, so no output is lost.
    this.closed = new Promise<void>((_, reject) => {
      this.child.once("close", () => {
        for (const t of this.timers) clearTimeout(t);
        const last = this.stderr.last();
        reject(new Error(last ? `${exit || "ended"}: ${last}` : exit || "ended"));
      });
      this.child.once("error", reject);
    });
    // Marked handled here: when a run is cut short while starting, nobody else awaits it.
    this.closed.catch(() => {});
    this.spawned.catch(() => {});
    this.ended = this.closed.then(
      () => {},
      () => {},
    );
  }

  /** Ends the process group: SIGTERM, SIGKILL after a grace period, then our ends of the pipes. */
  close(): void {
    if (this.killing) return;
    this.killing = true;
    // A paused pipe would never reach its end, and "close" waits for that: read out what the ending
    // group left in it (a pipe's worth at most, since nothing writes any more once the group is gone).
    this.release();
    this.child.stdout?.resume();
    if (this.child.pid === undefined) return;
    this.signalGroup("SIGTERM");
    // While "close" has not come, some process of the group still holds a pipe, so the group still
    // exists and its id cannot have been reused by an unrelated process.
    this.timers.push(
      setTimeout(() => {
        this.signalGroup("SIGKILL");
        // A process that left the group (setsid) may still hold the pipes: stop waiting for it.
        this.timers.push(
          setTimeout(() => {
            this.child.stdout?.destroy();
            this.child.stderr?.destroy();
          }, PIPE_GRACE_MS),
        );
      }, KILL_GRACE_MS),
    );
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}

/** Keeps the last non-empty line of a byte stream, bounded in length. */
class LastLine {
  private readonly decoder = new TextDecoder("utf-8");
  private partial = "";
  private complete = "";

  push(chunk: Uint8Array): void {
    const lines = (this.partial + this.decoder.decode(chunk, { stream: true })).split(/\r?\n|\r/);
    this.partial = lines.pop()!.slice(-MAX_STDERR_LINE);
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i]!.trim();
      if (line) {
        this.complete = line.slice(0, MAX_STDERR_LINE);
        break;
      }
    }
  }

  /** The last line, counting an unterminated one at the end. */
  last(): string {
    return this.partial.trim() || this.complete;
  }
}
