import { killAll } from "../test/e2e/support.js";

/** Something a benchmark started and must undo (a temp dir, a server, a child). */
export type CleanUp = () => void | Promise<void>;

const cleanUps: CleanUp[] = [];

/** Registers a clean-up; they run newest first. */
export function defer(fn: CleanUp): void {
  cleanUps.push(fn);
}

/** A mark to {@link unwind} back to: the clean-ups registered so far. */
export function cleanupMark(): number {
  return cleanUps.length;
}

/** Runs the clean-ups registered after `mark`, newest first; one that fails does not stop the others. */
export async function unwind(mark = 0): Promise<void> {
  while (cleanUps.length > mark) {
    const fn = cleanUps.pop()!;
    try {
      await fn();
    } catch (e) {
      process.stderr.write(`clean-up: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
}

let interrupted = false;

/** True once Ctrl-C or SIGTERM came: long loops stop early. */
export function isInterrupted(): boolean {
  return interrupted;
}

async function onSignal(signal: NodeJS.Signals): Promise<void> {
  if (interrupted) process.exit(130);
  interrupted = true;
  process.stderr.write(`\n${signal}: cleaning up\n`);
  setTimeout(() => process.exit(130), 5_000).unref();
  await unwind(0);
  await killAll();
  process.exit(130);
}

/** Ctrl-C or SIGTERM cleans everything up (within 5 s) and exits 130; a second one exits at once. */
export function cleanUpOnSignals(): void {
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
