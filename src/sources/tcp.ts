import { connect, type Socket } from "node:net";
import type { PauseLatch } from "./pause.js";
import { type BackoffOptions, type Connection, ReconnectingSource } from "./reconnect.js";
import type { SourceSink } from "./source.js";

/** Where a raw TCP console listens (ser2net, conserver, QEMU `-serial tcp:`). */
export interface TcpOptions {
  host: string;
  port: number;
}

const IAC = 0xff;
const SE = 0xf0;
const SB = 0xfa;
const WILL = 0xfb;
const DONT = 0xfe;

/**
 * A subnegotiation longer than this is taken as line noise that happened to contain `IAC SB`, not as
 * telnet: real ones (terminal type, window size, RFC 2217 port settings) are a few bytes, and without a
 * cap one stray `IAC SB` would silence the console for good.
 */
export const MAX_SUBNEGOTIATION = 512;

enum State {
  Data,
  /** After IAC. */
  Command,
  /** After IAC WILL/WONT/DO/DONT: the option byte comes next. */
  Option,
  /** Inside IAC SB ... IAC SE. */
  Sub,
  /** After IAC inside a subnegotiation. */
  SubIac,
}

/**
 * Removes telnet commands from a console byte stream, keeping the data bytes. Streaming and chunk-safe:
 * a command split across chunks is recognised all the same, so any chunking of a stream gives the same
 * output. Stripping is safe on a raw (non-telnet) console too, because kernel text is ASCII or UTF-8,
 * neither of which ever contains the byte 0xFF that starts a command.
 */
export class TelnetStripper {
  private state = State.Data;
  private subLength = 0;

  /** Feeds bytes and returns the data bytes among them (possibly the same array, possibly empty). */
  push(chunk: Uint8Array): Uint8Array {
    // Most chunks contain no command at all: hand them back untouched.
    if (this.state === State.Data && chunk.indexOf(IAC) === -1) return chunk;
    const out = new Uint8Array(chunk.length);
    let n = 0;
    for (const b of chunk) {
      switch (this.state) {
        case State.Data:
          if (b === IAC) this.state = State.Command;
          else out[n++] = b;
          break;
        case State.Command:
          if (b === IAC) {
            out[n++] = IAC;
            this.state = State.Data;
          } else if (b >= WILL && b <= DONT) {
            this.state = State.Option;
          } else if (b === SB) {
            this.state = State.Sub;
            this.subLength = 0;
          } else {
            this.state = State.Data;
          }
          break;
        case State.Option:
          this.state = State.Data;
          break;
        case State.Sub:
          if (b === IAC) this.state = State.SubIac;
          else this.countSub();
          break;
        case State.SubIac:
          // IAC SE ends it; IAC IAC is an escaped 0xFF inside it; anything else is malformed and skipped.
          if (b === SE) this.state = State.Data;
          else {
            this.state = State.Sub;
            this.countSub();
          }
          break;
      }
    }
    return out.subarray(0, n);
  }

  private countSub(): void {
    if (++this.subLength > MAX_SUBNEGOTIATION) this.state = State.Data;
  }
}

/**
 * A console reached over raw TCP. It only reads: telnet negotiation is stripped and never answered
 * (ser2net and conserver send data regardless), and nothing is written, so the monitor cannot type into
 * a node. A refused, reset or ended connection is retried with backoff until stopped.
 *
 * Pausing stops reading the socket: the kernel's buffers fill and TCP holds the sender back.
 */
export class TcpSource extends ReconnectingSource {
  readonly kind = "tcp";
  readonly describe: string;

  constructor(
    private readonly options: TcpOptions,
    backoff?: BackoffOptions,
  ) {
    super(backoff);
    this.describe = `${options.host}:${options.port}`;
  }

  protected open(sink: SourceSink, signal: AbortSignal): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.options.host, port: this.options.port, signal });
      const fail = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      socket.on("error", fail);
      socket.once("connect", () => {
        socket.off("error", fail);
        // Keepalive notices a peer that vanished without a FIN (a rebooted console server), which a
        // reader that never writes would otherwise wait on forever.
        socket.setKeepAlive(true, 10_000);
        resolve(new TcpConnection(socket, this.describe, sink, this.latch));
      });
    });
  }
}

/** One open socket: strips telnet, forwards data and settles `closed` when the socket ends. */
class TcpConnection implements Connection {
  readonly closed: Promise<void>;
  private readonly stripper = new TelnetStripper();
  private readonly release: () => void;

  constructor(
    private readonly socket: Socket,
    readonly detail: string,
    sink: SourceSink,
    latch: PauseLatch,
  ) {
    // Attached before the data listener, so that a connection made while paused never starts flowing.
    this.release = latch.attach(socket);
    socket.once("close", this.release);
    socket.on("data", (chunk: Buffer) => {
      const data = this.stripper.push(chunk);
      if (data.length > 0) sink.data(data);
    });
    this.closed = new Promise<void>((resolve, reject) => {
      let failure: Error | null = null;
      socket.on("error", (err) => {
        failure = err;
      });
      socket.once("close", () => (failure ? reject(failure) : resolve()));
    });
    // The reconnector may drop a connection without awaiting it: never leave the rejection unhandled.
    this.closed.catch(() => undefined);
  }

  close(): void {
    // What a paused socket already holds is handed on rather than thrown away with it.
    this.release();
    while (this.socket.read() !== null) {}
    this.socket.destroy();
  }
}
