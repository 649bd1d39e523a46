import { stat } from "node:fs/promises";
import { SerialPort } from "serialport";
import type { PauseLatch } from "./pause.js";
import {
  type BackoffOptions,
  type Connection,
  FatalSourceError,
  ReconnectingSource,
  WaitingError,
} from "./reconnect.js";
import type { SourceSink } from "./source.js";

/** How to open a serial console. Unset line settings take serialport's defaults (8N1). */
export interface SerialOptions {
  /** Device path, such as `/dev/ttyUSB0` or a pty link. */
  path: string;
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: "none" | "even" | "odd" | "mark" | "space";
  stopBits?: 1 | 1.5 | 2;
}

// The native binding reports a missing device only in its message (no `code`), so both are checked.
const ABSENT_CODES = new Set(["ENOENT", "ENODEV", "ENXIO"]);
const ABSENT_MESSAGE = /no such (file or directory|device)/i;

/** Whether an error means the device is not there, so waiting for it is the right answer. */
function isAbsent(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return (code !== undefined && ABSENT_CODES.has(code)) || ABSENT_MESSAGE.test(err.message);
}

/** Whether the device node exists; `stat` follows links, so a dangling pty link counts as absent. */
async function present(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isAbsent(err)) return false;
    // Anything else (EACCES on a parent directory) is for `open` to report with its own error.
    return true;
  }
}

/**
 * A serial console read with the `serialport` package. It only reads: nothing is ever written to the
 * console, so a monitor can never type into a node by accident. While the device is absent (unplugged,
 * or a pty not created yet) the status is `waiting` and the path is polled; it reattaches on its own.
 *
 * Pausing stops reading the port. The device's buffer then fills and, without flow control, the UART
 * drops what comes next; at console speeds (115200 baud is about 11 KB/s) the monitor never falls
 * that far behind, so this matters only for a fast pty.
 */
export class SerialSource extends ReconnectingSource {
  readonly kind = "serial";
  readonly describe: string;

  constructor(
    private readonly options: SerialOptions,
    backoff?: BackoffOptions,
  ) {
    super(backoff);
    this.describe = `${options.path} at ${options.baudRate} baud`;
  }

  protected async open(sink: SourceSink): Promise<Connection> {
    const { path } = this.options;
    if (!(await present(path))) throw new WaitingError(`${path}: no such device`);
    const port = this.createPort();
    await new Promise<void>((resolve, reject) => {
      port.open((err) =>
        err ? reject(isAbsent(err) ? new WaitingError(`${path}: ${err.message}`) : err) : resolve(),
      );
    });
    return new SerialConnection(port, this.describe, this.latch, (chunk) => sink.data(chunk));
  }

  private createPort(): SerialPort {
    const { path, baudRate, dataBits, parity, stopBits } = this.options;
    try {
      return new SerialPort({
        path,
        baudRate,
        autoOpen: false,
        ...(dataBits === undefined ? {} : { dataBits }),
        ...(parity === undefined ? {} : { parity }),
        ...(stopBits === undefined ? {} : { stopBits }),
      });
    } catch (err) {
      // The constructor only throws on invalid settings, which no retry can fix.
      throw new FatalSourceError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** How often an open port's device node is checked for still being there, ms. */
const PRESENCE_CHECK_MS = 1000;

/** One open port: forwards its bytes and settles `closed` when the port goes away. */
class SerialConnection implements Connection {
  readonly closed: Promise<void>;
  private closing = false;

  constructor(
    private readonly port: SerialPort,
    readonly detail: string,
    latch: PauseLatch,
    onData: (chunk: Uint8Array) => void,
  ) {
    // Attached before the data listener, so that a port opened while paused never starts flowing.
    const release = latch.attach(port);
    port.once("close", release);
    port.on("data", onData);
    this.closed = new Promise<void>((resolve, reject) => {
      // The port does not always hear of its device going away (a pty whose master died can stay quiet),
      // so the device node is looked at too.
      const watch = setInterval(() => {
        void present(port.path).then((here) => {
          if (here || this.closing) return;
          settle(new WaitingError(`${port.path}: device disconnected`));
          if (port.isOpen) port.close(() => undefined);
        });
      }, PRESENCE_CHECK_MS);
      watch.unref();
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearInterval(watch);
        if (err) reject(err);
        else resolve();
      };
      port.on("error", (err: Error) => {
        if (port.isOpen) port.close(() => undefined);
        settle(err);
      });
      port.once("close", (err: (Error & { disconnected?: boolean }) | null) => {
        if (this.closing || !err) settle();
        else this.vanished(err).then(settle, settle);
      });
    });
    // The reconnector may drop a connection without awaiting it (stopped while opening): never leave
    // the rejection unhandled.
    this.closed.catch(() => undefined);
  }

  close(): void {
    this.closing = true;
    if (this.port.isOpen) this.port.close(() => undefined);
  }

  /** A device that is gone is waited for; one that is still there but failed is retried with backoff. */
  private async vanished(err: Error & { disconnected?: boolean }): Promise<Error> {
    const path = this.port.path;
    if (err.disconnected && !(await present(path))) return new WaitingError(`${path}: device disconnected`);
    return err;
  }
}
