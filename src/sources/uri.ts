/** A console source, as written on the command line or in the config file. */
export type SourceSpec =
  | {
      kind: "serial";
      path: string;
      baudRate: number;
      dataBits?: 5 | 6 | 7 | 8;
      parity?: "none" | "even" | "odd" | "mark" | "space";
      stopBits?: 1 | 1.5 | 2;
    }
  | { kind: "ssh"; host: string; port?: number; user?: string; command?: string; identity?: string }
  | { kind: "tcp"; host: string; port: number }
  | { kind: "cmd"; command: string }
  | { kind: "file"; path: string; fromStart: boolean }
  | { kind: "stdin" }
  | { kind: "sim"; node: "P" | "M"; speed: number | "max"; loop: boolean };

/** A source URI that cannot be used; the message says what is wrong with it. */
export class UriError extends Error {
  override name = "UriError";
}

const PARITIES = ["none", "even", "odd", "mark", "space"] as const;

/**
 * Reads a source URI: `serial:/dev/ttyUSB0?baud=115200`, `ssh://user@host:port?cmd=...`,
 * `tcp://host:port`, `cmd:<command line>`, `file:path[?from=start]`, or `-` for standard input.
 */
export function parseSourceUri(uri: string): SourceSpec {
  if (uri === "-") return { kind: "stdin" };
  const colon = uri.indexOf(":");
  const scheme = colon > 0 ? uri.slice(0, colon) : "";
  const rest = uri.slice(colon + 1);
  switch (scheme) {
    case "serial":
      return serial(uri, rest);
    case "ssh":
      return ssh(uri);
    case "tcp":
    case "telnet":
      return tcp(uri);
    case "cmd":
      if (rest.trim() === "") throw new UriError(`${uri}: cmd: needs a command line`);
      return { kind: "cmd", command: rest };
    case "sim":
      return sim(uri, rest);
    case "file": {
      const m = /^(.*?)(?:\?from=(start|end))?$/.exec(rest)!;
      if (m[1] === "") throw new UriError(`${uri}: file: needs a path`);
      return { kind: "file", path: m[1]!, fromStart: m[2] === "start" };
    }
    default:
      throw new UriError(
        `${uri}: unknown source; use serial:/dev/ttyX?baud=N, ssh://user@host?cmd=..., tcp://host:port, cmd:..., file:path, sim:P or -`,
      );
  }
}

function query(uri: string, q: string, allowed: readonly string[]): URLSearchParams {
  const params = new URLSearchParams(q);
  for (const k of params.keys()) {
    if (!allowed.includes(k))
      throw new UriError(`${uri}: unknown option "${k}" (known: ${allowed.join(", ")})`);
  }
  return params;
}

function int(uri: string, name: string, v: string | null, ok: (n: number) => boolean): number | undefined {
  if (v === null) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || !ok(n)) throw new UriError(`${uri}: ${name}=${v} is not valid`);
  return n;
}

function serial(uri: string, rest: string): SourceSpec {
  const q = rest.indexOf("?");
  const path = q === -1 ? rest : rest.slice(0, q);
  if (path === "") throw new UriError(`${uri}: serial: needs a device path`);
  const p = query(uri, q === -1 ? "" : rest.slice(q + 1), ["baud", "parity", "databits", "stopbits"]);
  const spec: SourceSpec = {
    kind: "serial",
    path,
    baudRate: int(uri, "baud", p.get("baud"), (n) => n > 0) ?? 115200,
  };
  const dataBits = int(uri, "databits", p.get("databits"), (n) => n >= 5 && n <= 8);
  if (dataBits !== undefined) spec.dataBits = dataBits as 5 | 6 | 7 | 8;
  const parity = p.get("parity");
  if (parity !== null) {
    if (!(PARITIES as readonly string[]).includes(parity))
      throw new UriError(`${uri}: parity=${parity} is not valid`);
    spec.parity = parity as (typeof PARITIES)[number];
  }
  const stop = p.get("stopbits");
  if (stop !== null) {
    if (!["1", "1.5", "2"].includes(stop)) throw new UriError(`${uri}: stopbits=${stop} is not valid`);
    spec.stopBits = Number(stop) as 1 | 1.5 | 2;
  }
  return spec;
}

function sim(uri: string, rest: string): SourceSpec {
  const q = rest.indexOf("?");
  const node = q === -1 ? rest : rest.slice(0, q);
  if (node !== "P" && node !== "M") throw new UriError(`${uri}: sim: simulates P or M`);
  const p = query(uri, q === -1 ? "" : rest.slice(q + 1), ["speed", "loop"]);
  const raw = p.get("speed") ?? "1";
  const speed = raw === "max" ? "max" : Number(raw);
  if (speed !== "max" && !(speed > 0)) throw new UriError(`${uri}: speed=${raw} is not valid`);
  return { kind: "sim", node, speed, loop: p.get("loop") === "1" || p.get("loop") === "true" };
}

function parsedUrl(uri: string): URL {
  try {
    return new URL(uri);
  } catch {
    throw new UriError(`${uri}: not a valid URI`);
  }
}

function ssh(uri: string): SourceSpec {
  const u = parsedUrl(uri);
  if (u.password) throw new UriError(`${uri}: passwords do not belong in URIs; use ssh-agent or identity=`);
  if (!u.hostname) throw new UriError(`${uri}: ssh:// needs a host`);
  const p = query(uri, u.search.slice(1), ["cmd", "identity"]);
  const spec: SourceSpec = { kind: "ssh", host: u.hostname.replace(/^\[|\]$/g, "") };
  if (u.port) spec.port = Number(u.port);
  if (u.username) spec.user = decodeURIComponent(u.username);
  const cmd = p.get("cmd");
  if (cmd !== null) spec.command = cmd;
  const identity = p.get("identity");
  if (identity !== null) spec.identity = identity;
  return spec;
}

function tcp(uri: string): SourceSpec {
  const u = parsedUrl(uri);
  if (!u.hostname || !u.port) throw new UriError(`${uri}: tcp:// needs a host and a port`);
  return { kind: "tcp", host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port) };
}
