import { access, appendFile, mkdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import ssh2, {
  type AuthenticationType,
  type AuthHandlerMiddleware,
  type ClientChannel,
  type ConnectConfig,
  type HostVerifier,
  type NextAuthHandler,
  type ParsedKey,
  type ServerHostKeyAlgorithm,
} from "ssh2";
import {
  checkHostKey,
  fingerprint,
  keyTypeOf,
  knownHostsLine,
  knownHostsName,
  knownKeyTypes,
} from "./known-hosts.js";
import type { PauseLatch } from "./pause.js";
import { type BackoffOptions, type Connection, FatalSourceError, ReconnectingSource } from "./reconnect.js";
import type { SourceSink } from "./source.js";
import { expandTilde, localUserName, parseSshConfig } from "./ssh-config.js";

// ssh2 is CommonJS and Node's ESM loader does not see `utils` as a named export.
const { Client, utils } = ssh2;

/** Options of an {@link SshSource}. */
export interface SshOptions {
  /** A host name, address or `~/.ssh/config` alias. */
  host: string;
  /** Overrides the config's Port; 22 by default. */
  port?: number;
  /** Overrides the config's User; the local user name by default. */
  user?: string;
  /** The remote command whose output is the console; `dmesg -w` by default. */
  command?: string;
  /** A private key file to log in with, instead of the config's IdentityFile and the default keys. */
  identity?: string;
  /** Trust and record the host key of a host that known_hosts does not list yet. */
  acceptNewHostKey?: boolean;
  /** `~/.ssh/known_hosts` by default. */
  knownHostsPath?: string;
  /** `~/.ssh/config` by default; a missing file means no settings. */
  configPath?: string;
  /** Interval of SSH keepalive probes; the link counts as dead after three unanswered ones. */
  keepaliveMs?: number;
  /** Asks the user for the passphrase of an encrypted key; resolves to null when the user declines. */
  passphrase?: (prompt: string) => Promise<string | null>;
}

/** Where and as whom an {@link SshSource} logs in, once `~/.ssh/config` is applied. */
export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** Key files to try in order; `explicit` ones were asked for by name and must exist. */
  identities: { file: string; explicit: boolean }[];
  knownHostsPath: string;
}

const DEFAULT_COMMAND = "dmesg -w";
const DEFAULT_KEYS = ["id_ed25519", "id_ecdsa", "id_rsa"];
const DEFAULT_KEEPALIVE_MS = 5_000;
const KEEPALIVE_COUNT_MAX = 3;
const LOGIN_TIMEOUT_MS = 20_000;
const PASSPHRASE_TRIES = 3;
/** How long a closing connection may take to say goodbye before its socket is destroyed. */
const CLOSE_GRACE_MS = 2_000;

/**
 * ssh2's default host key algorithms, in its order. The algorithms for key types known_hosts already
 * holds for a host are moved first, as OpenSSH does, so that a server with several host keys presents the
 * one we can check instead of one that would look new.
 */
const HOST_KEY_ORDER: ServerHostKeyAlgorithm[] = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
  "ssh-rsa",
];
const ALGORITHMS_OF_KEY_TYPE: Record<string, ServerHostKeyAlgorithm[]> = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
  "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
  "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
};

/** The host key algorithms to offer given the key types known for the host; undefined keeps ssh2's default. */
export function hostKeyAlgorithms(knownTypes: string[]): ServerHostKeyAlgorithm[] | undefined {
  const first = knownTypes.flatMap((t) => ALGORITHMS_OF_KEY_TYPE[t] ?? []);
  return first.length === 0 ? undefined : [...new Set([...first, ...HOST_KEY_ORDER])];
}

/**
 * Applies the options over `~/.ssh/config` text: options win over the config, the config over defaults.
 * Identities are the `identity` option, else the config's IdentityFile lines, else the default key names
 * (which are tried only if they exist).
 */
export function resolveTarget(o: SshOptions, configText: string, home: string = homedir()): SshTarget {
  const cfg = parseSshConfig(configText, o.host, { home });
  const identities = o.identity
    ? [{ file: expandTilde(o.identity, home), explicit: true }]
    : cfg.identityFiles.length > 0
      ? cfg.identityFiles.map((file) => ({ file, explicit: false }))
      : DEFAULT_KEYS.map((k) => ({ file: join(home, ".ssh", k), explicit: false }));
  return {
    host: cfg.hostName ?? o.host,
    port: o.port ?? cfg.port ?? 22,
    user: o.user ?? cfg.user ?? localUserName(),
    identities,
    knownHostsPath: expandTilde(o.knownHostsPath ?? join(home, ".ssh", "known_hosts"), home),
  };
}

/**
 * A console read over SSH: runs a command (`dmesg -w` by default, without a pty) on the node and streams
 * its output. Host keys are checked against known_hosts; login uses ssh-agent, then key files, never a
 * password. Drops are retried with backoff; a changed or unknown host key and an unusable encrypted key
 * close the source, because retrying cannot fix them.
 *
 * Pausing stops reading the command's output: ssh2 then stops opening the channel's window, so the
 * server holds the command back (its pipe fills) while other traffic, keepalives included, goes on.
 */
export class SshSource extends ReconnectingSource {
  readonly kind = "ssh";
  readonly describe: string;
  /** Key loads by file: a decrypted key is kept so that a reconnect does not ask for the passphrase again. */
  private readonly keys = new Map<string, Promise<KeyLoad>>();

  constructor(
    private readonly options: SshOptions,
    backoff?: BackoffOptions,
  ) {
    super(backoff);
    const user = options.user ? `${options.user}@` : "";
    const port = options.port ? `:${options.port}` : "";
    this.describe = `ssh ${user}${options.host}${port}`;
  }

  protected async open(sink: SourceSink, signal: AbortSignal): Promise<Connection> {
    const home = homedir();
    const configText = await readOptional(expandTilde(this.options.configPath ?? "~/.ssh/config", home));
    const target = resolveTarget(this.options, configText, home);
    const steps = await authSteps(target);
    const known = await readOptional(target.knownHostsPath);
    const algorithms = hostKeyAlgorithms(knownKeyTypes(known, target.host, target.port));
    return connectSession({
      options: this.options,
      target,
      steps,
      algorithms,
      keys: this.keys,
      sink,
      latch: this.latch,
      signal,
    });
  }
}

type AuthStep = { kind: "agent"; socket: string } | { kind: "key"; file: string };

/** The login methods to try, in order: ssh-agent, then the key files that exist. */
async function authSteps(target: SshTarget): Promise<AuthStep[]> {
  const steps: AuthStep[] = [];
  const socket = process.env.SSH_AUTH_SOCK;
  if (socket) steps.push({ kind: "agent", socket });
  for (const { file, explicit } of target.identities) {
    if (await exists(file)) steps.push({ kind: "key", file });
    else if (explicit) throw new FatalSourceError(`SSH identity file ${tildify(file)} does not exist`);
  }
  if (steps.length === 0) {
    const tried = target.identities.map((i) => tildify(i.file)).join(", ");
    throw new FatalSourceError(
      `no way to log in to ${target.host}: SSH_AUTH_SOCK is not set and none of ${tried} exists`,
    );
  }
  return steps;
}

interface SessionParams {
  options: SshOptions;
  target: SshTarget;
  steps: AuthStep[];
  algorithms: ServerHostKeyAlgorithm[] | undefined;
  keys: Map<string, Promise<KeyLoad>>;
  sink: SourceSink;
  latch: PauseLatch;
  signal: AbortSignal;
}

/** Connects, verifies the host, logs in and starts the command; resolves once the command runs. */
function connectSession(p: SessionParams): Promise<Connection> {
  const { options, target, signal } = p;
  const detail = `${target.user}@${target.host}:${target.port}`;
  const command = options.command ?? DEFAULT_COMMAND;
  const client = new Client();
  const login = new LoginState(target);
  // Set by the host key check: the reason the handshake was refused, which ssh2 reports only as "Host denied".
  let refusal: Error | null = null;

  return new Promise<Connection>((resolve, reject) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      // A passphrase prompt may end after the attempt was given up: no timer then.
      if (done) return;
      timer = setTimeout(() => fail(new Error(`timed out logging in to ${detail}`)), LOGIN_TIMEOUT_MS);
    };
    const disarm = () => clearTimeout(timer);
    const finish = () => {
      done = true;
      disarm();
      signal.removeEventListener("abort", onAbort);
    };
    const fail = (err: Error) => {
      if (done) return;
      finish();
      client.destroy();
      reject(err);
    };
    const onAbort = () => fail(new Error("stopped"));
    signal.addEventListener("abort", onAbort, { once: true });

    client.on("error", (err: Error & { level?: string }) => {
      // ssh2 reports a missing or empty agent as an error but goes on with the next method.
      if (err.level === "agent") return login.note(`ssh-agent: ${err.message}`);
      if (err.level === "client-authentication") return fail(login.failure());
      fail(refusal ?? new Error(`${detail}: ${err.message}`));
    });
    client.on("close", () => fail(refusal ?? new Error(`connection to ${detail} closed during login`)));
    client.on("ready", () => {
      client.exec(command, (err, channel) => {
        if (done) return channel?.close();
        if (err) return fail(new Error(`cannot run "${command}" on ${detail}: ${err.message}`));
        finish();
        resolve(liveSession(client, channel, detail, command, p.sink, p.latch));
      });
    });

    const verifier: HostVerifier = (key, verify) => {
      verifyHostKey(target, options.acceptNewHostKey === true, key).then(
        () => verify(true),
        (e: unknown) => {
          refusal = e instanceof Error ? e : new Error(String(e));
          verify(false);
        },
      );
    };
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      // Our own timer covers the whole login and pauses while the user types a passphrase.
      readyTimeout: 0,
      keepaliveInterval: options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      hostVerifier: verifier,
      authHandler: authHandler(p, login, () => done, { pause: disarm, resume: arm }),
    };
    if (p.algorithms) config.algorithms = { serverHostKey: p.algorithms };
    arm();
    try {
      client.connect(config);
    } catch (e) {
      fail(e instanceof Error ? e : new Error(String(e)));
    }
  });
}

/** What the login attempts ran into, to explain a failed login in one line. */
class LoginState {
  readonly tried: string[] = [];
  readonly notes: string[] = [];
  /** Encrypted keys that could not be used because no passphrase was given. */
  readonly locked: string[] = [];
  /** Encrypted keys whose passphrase was wrong every time. */
  readonly badPassphrase: string[] = [];

  constructor(private readonly target: SshTarget) {}

  note(s: string): void {
    this.notes.push(s);
  }

  /** The error for a login that ran out of methods: fatal when only the user can fix the key. */
  failure(): Error {
    const locked = this.locked[0];
    if (locked !== undefined) {
      return new FatalSourceError(
        `SSH key ${tildify(locked)} is encrypted and no passphrase was given: run on a terminal to be asked, or load it into ssh-agent (ssh-add)`,
      );
    }
    const bad = this.badPassphrase[0];
    if (bad !== undefined) return new FatalSourceError(`wrong passphrase for SSH key ${tildify(bad)}`);
    const t = this.target;
    const tried = this.tried.length > 0 ? this.tried.join(", ") : "no method the server accepts";
    const notes = this.notes.length > 0 ? `; ${this.notes.join("; ")}` : "";
    return new Error(`permission denied for ${t.user}@${t.host}:${t.port} (tried ${tried})${notes}`);
  }
}

/**
 * Offers the login methods one by one, loading (and if need be decrypting) each key only when its turn
 * comes, so that a working agent means no passphrase prompt.
 */
function authHandler(
  p: SessionParams,
  login: LoginState,
  isDone: () => boolean,
  timer: { pause: () => void; resume: () => void },
): AuthHandlerMiddleware {
  let i = 0;
  const username = p.target.user;
  // ssh2 takes `false` for "no more methods", which its types do not list.
  const noMore = false as unknown as AuthenticationType;
  const next = async (methodsLeft: AuthenticationType[] | null): Promise<Parameters<NextAuthHandler>[0]> => {
    while (i < p.steps.length) {
      const step = p.steps[i++]!;
      if (methodsLeft && !methodsLeft.includes("publickey")) break;
      if (step.kind === "agent") {
        login.tried.push("ssh-agent");
        return { type: "agent", username, agent: step.socket };
      }
      const key = await loadKey(step.file, p, login, timer);
      if (isDone()) break;
      if (key) {
        login.tried.push(tildify(step.file));
        return { type: "publickey", username, key };
      }
    }
    return noMore;
  };
  return (methodsLeft, _partial, callback) => {
    next(methodsLeft).then(
      (method) => {
        if (!isDone()) callback(method);
      },
      (err: unknown) => {
        login.note(String(err));
        if (!isDone()) callback(noMore);
      },
    );
  };
}

/** The outcome of loading one key file. */
type KeyLoad = { key: ParsedKey } | { locked: true } | { badPassphrase: true } | { note: string };

/**
 * Loads a key for one login attempt. Loads are shared through the source's map, so a reconnect reuses a
 * decrypted key and an attempt that starts while a passphrase prompt is open waits for that same prompt.
 * The login timer is paused meanwhile: the user may take a while to type.
 */
async function loadKey(
  file: string,
  p: SessionParams,
  login: LoginState,
  timer: { pause: () => void; resume: () => void },
): Promise<ParsedKey | null> {
  let pending = p.keys.get(file);
  if (pending === undefined) {
    pending = readKey(file, p.options.passphrase);
    p.keys.set(file, pending);
    // Only a usable key is worth keeping; anything else is tried afresh on the next attempt.
    pending.then(
      (r) => "key" in r || p.keys.delete(file),
      () => p.keys.delete(file),
    );
  }
  timer.pause();
  let r: KeyLoad;
  try {
    r = await pending;
  } finally {
    timer.resume();
  }
  if ("key" in r) return r.key;
  if ("locked" in r) login.locked.push(file);
  else if ("badPassphrase" in r) login.badPassphrase.push(file);
  else login.note(r.note);
  return null;
}

/** Reads and parses a private key, asking for its passphrase (up to three times) if it is encrypted. */
async function readKey(file: string, passphrase: SshOptions["passphrase"]): Promise<KeyLoad> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (e) {
    return { note: `${tildify(file)}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
  }
  let parsed = utils.parseKey(data);
  if (parsed instanceof Error && /no passphrase given/i.test(parsed.message)) {
    if (!passphrase) return { locked: true };
    for (let t = 0; t < PASSPHRASE_TRIES; t++) {
      const pass = await passphrase(`Enter passphrase for key '${tildify(file)}': `);
      if (pass === null) return { locked: true };
      parsed = utils.parseKey(data, pass);
      if (!(parsed instanceof Error)) break;
    }
    if (parsed instanceof Error) return { badPassphrase: true };
  }
  if (parsed instanceof Error) return { note: `${tildify(file)}: ${parsed.message}` };
  // parseKey returns an array for files holding several keys; OpenSSH uses the first.
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
  if (!key.isPrivateKey()) return { note: `${tildify(file)} is not a private key` };
  return { key };
}

/** Checks the server's key against known_hosts; throws a {@link FatalSourceError} to refuse it. */
async function verifyHostKey(target: SshTarget, acceptNew: boolean, blob: Buffer): Promise<void> {
  const path = target.knownHostsPath;
  const name = knownHostsName(target.host, target.port);
  const type = keyTypeOf(blob);
  if (type === null) throw new FatalSourceError(`${name} sent a malformed host key`);
  const verdict = checkHostKey(await readOptional(path), target.host, target.port, type, blob);
  const got = `${type} ${fingerprint(blob)}`;
  if (verdict === "known") return;
  if (verdict === "revoked") {
    throw new FatalSourceError(
      `host key of ${name} (${got}) is marked @revoked in ${tildify(path)}; refusing to connect`,
    );
  }
  if (verdict === "unknown") {
    if (!acceptNew) {
      throw new FatalSourceError(
        `host ${name} is not in ${tildify(path)} (its key is ${got}); if that fingerprint is right, run again with --accept-new-host-key to trust it`,
      );
    }
    await appendKnownHost(path, knownHostsLine(target.host, target.port, type, blob));
    return;
  }
  const { expected, expectedType } = verdict.changed;
  throw new FatalSourceError(
    `WARNING: HOST KEY OF ${name} HAS CHANGED (possible man-in-the-middle attack): ${tildify(path)} has ${expectedType} ${expected} but the server sent ${got}; refusing to connect, remove the old line only if you know why it changed`,
  );
}

/** Appends a line to known_hosts, creating the file (mode 600) and its directory (mode 700) if missing. */
async function appendKnownHost(path: string, line: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const text = await readOptional(path);
  const sep = text === "" || text.endsWith("\n") ? "" : "\n";
  await appendFile(path, `${sep}${line}\n`, { mode: 0o600 });
}

/**
 * The running command: stdout goes to the sink, the last stderr line is kept for the error message, and
 * `closed` settles when the channel or the connection ends.
 */
function liveSession(
  client: InstanceType<typeof Client>,
  channel: ClientChannel,
  detail: string,
  command: string,
  sink: SourceSink,
  latch: PauseLatch,
): Connection {
  let settle!: (err: Error | null) => void;
  const closed = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  // The reconnector awaits `closed` right after this returns; this only keeps an early drop from being
  // reported as an unhandled rejection.
  closed.catch(() => {});

  // Output that arrives in the same tick as the exec reply is held back until the reconnector has had its
  // turn: it calls `reconnected()` after this returns, and a replayed ring buffer must come after that call.
  let live = false;
  const early: Buffer[] = [];
  const goLive = () => {
    if (live) return;
    live = true;
    for (const c of early.splice(0)) sink.data(c);
  };
  setImmediate(goLive);

  const stderr = new LastLine();
  let exit: { code: number | null; signal?: string } | null = null;
  let lastError: Error | null = null;
  let closing = false;
  let result: Error | null | undefined;
  let grace: NodeJS.Timeout | undefined;

  const ended = (): Error | null => {
    if (closing) return null;
    const why = stderr.value ? `: ${stderr.value}` : "";
    if (exit?.signal) return new Error(`"${command}" on ${detail} was killed by ${exit.signal}${why}`);
    if (exit?.code === 0) return null;
    if (exit) return new Error(`"${command}" on ${detail} exited with status ${exit.code}${why}`);
    const cause = lastError ? `: ${lastError.message}` : "";
    return new Error(
      `connection to ${detail} lost${cause}${stderr.value ? ` (stderr: ${stderr.value})` : ""}`,
    );
  };
  const end = () => {
    if (result !== undefined) return;
    result = ended();
    goLive();
    client.end();
    grace = setTimeout(() => client.destroy(), CLOSE_GRACE_MS);
  };

  // Attached before the data listener, so that a session opened while paused never starts flowing.
  const release = latch.attach(channel);
  channel.on("data", (c: Buffer) => (live ? sink.data(c) : early.push(c)));
  channel.stderr.on("data", (c: Buffer) => stderr.push(c));
  channel.on("exit", (code: number | null, signal?: string) => {
    exit = signal ? { code, signal } : { code };
  });
  channel.on("close", end);
  const failed = (err: Error) => {
    lastError = err;
    end();
  };
  client.on("error", failed);
  channel.on("error", failed);
  client.on("close", () => {
    // A paused channel may still hold output the server sent before the link went: hand it on, since
    // nothing will resume this channel once the session is over.
    release();
    while (channel.read() !== null) {}
    end();
    clearTimeout(grace);
    settle(result ?? null);
  });

  return {
    detail,
    closed,
    close() {
      closing = true;
      // Without a pty the remote command outlives the session until it next writes; ask it to stop now.
      // Servers that do not support signal requests ignore this.
      try {
        channel.signal("TERM");
      } catch {}
      end();
    },
  };
}

/** The last non-empty line of a byte stream, at most 300 characters. */
class LastLine {
  private readonly decoder = new TextDecoder();
  private partial = "";
  private last = "";

  push(chunk: Buffer): void {
    const lines = (this.partial + this.decoder.decode(chunk, { stream: true })).split(/\r\n|\r|\n/);
    this.partial = lines.pop() ?? "";
    for (const l of lines) if (l.trim() !== "") this.last = l.trim();
    if (this.partial.length > 4096) this.partial = this.partial.slice(-4096);
  }

  get value(): string {
    return (this.partial.trim() || this.last).slice(0, 300);
  }
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Shows paths under the home directory with `~`, shorter in status lines. */
function tildify(path: string): string {
  const home = homedir();
  return path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}
