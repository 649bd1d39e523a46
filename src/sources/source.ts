/** Where a source stands, as shown to the user. */
export type SourceState =
  /** Opening the device or connection. */
  | "connecting"
  /** Bytes can flow. */
  | "connected"
  /** The device or file is not there (yet); it is watched for. */
  | "waiting"
  /** The last attempt failed or the connection dropped; the next attempt is scheduled. */
  | "retrying"
  /** Stopped for good: by the user, or after an error that retrying cannot fix (a changed host key). */
  | "closed";

/** A status change of a source. */
export interface SourceStatus {
  state: SourceState;
  /** What it is connected to or waiting for (`/dev/ttyUSB0 at 115200`, `user@host:22`). */
  detail?: string;
  /** With `retrying`: the delay before the next attempt. */
  retryInMs?: number;
  /** The error that caused this state, one line. */
  error?: string;
}

/** What a source reports to the monitor. */
export interface SourceSink {
  /** Bytes from the console, as they came. */
  data(chunk: Uint8Array): void;
  status(s: SourceStatus): void;
  /**
   * A new connection began after an earlier one: what follows may replay lines already delivered
   * (a new `dmesg -w` prints the whole ring buffer again; `tail -F` prints the last lines).
   */
  reconnected(): void;
  /** Bytes were dropped because a bounded buffer overflowed; never silent. */
  dropped(bytes: number): void;
}

/** One node's console. Sources reconnect on their own until stopped. */
export interface Source {
  /** `serial`, `ssh`, `tcp`, `cmd`, `file`, `stdin`. */
  readonly kind: string;
  /** A short description for status lines (no secrets). */
  readonly describe: string;
  start(sink: SourceSink): void;
  /**
   * Asks the source to stop reading for a while, e.g. when the monitor has fallen behind, so that the
   * console's sender is held back (a full TCP window, an SSH channel window, a pipe) instead of bytes
   * being dropped. It is remembered across reconnects: a connection made while paused starts paused.
   * Bytes may still arrive after pause() (what was already read); a source that cannot pause simply
   * does not implement it.
   */
  pause?(): void;
  /** Reading goes on after {@link pause}. Calling it when not paused does nothing. */
  resume?(): void;
  /** Stops for good and releases everything (ports, sockets, child processes). */
  stop(): Promise<void>;
}
