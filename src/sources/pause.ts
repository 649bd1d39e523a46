/** Something whose reading can be held: a stream, a socket, a serial port. */
export interface Pausable {
  pause(): unknown;
  resume(): unknown;
}

/**
 * Whether a source was asked to pause, kept across its connections: the current one is paused and
 * resumed as asked, and one attached while paused starts paused. A source keeps one for its whole life.
 */
export class PauseLatch {
  private held = false;
  private target: Pausable | null = null;
  private waiters: (() => void)[] = [];

  get paused(): boolean {
    return this.held;
  }

  pause(): void {
    if (this.held) return;
    this.held = true;
    this.target?.pause();
  }

  resume(): void {
    if (!this.held) return;
    this.held = false;
    this.target?.resume();
    for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Reads from `target` from now on, pausing it at once if the source is paused; returns a function that
   * lets go of it (when its connection ends), after which pause and resume no longer touch it.
   */
  attach(target: Pausable): () => void {
    this.target = target;
    if (this.held) target.pause();
    return () => {
      if (this.target === target) this.target = null;
    };
  }

  /** Resolves once the source is not paused: at once if it is not, or when `signal` aborts. */
  whenRunning(signal?: AbortSignal): Promise<void> {
    if (!this.held || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener("abort", done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
