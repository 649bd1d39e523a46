import { homedir, userInfo } from "node:os";
import { globMatch } from "./known-hosts.js";

/** What an OpenSSH client config says about one host (only the keywords legowatch uses). */
export interface SshHostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  /** Identity files in config order, with `~` and `%` tokens expanded. */
  identityFiles: string[];
}

/** The local facts `~` and `%` tokens expand to; defaults come from the running process. */
export interface SshConfigContext {
  home?: string;
  localUser?: string;
}

/**
 * Reads the settings for `host` from ssh_config text the way OpenSSH does: a `Host` line opens a block that
 * applies when any of its patterns (`*`, `?`) matches and no `!pattern` does, the first value obtained for a
 * keyword wins, and `IdentityFile` lines add up. `Match` blocks are skipped except `Match all`, and
 * `Include` is not followed: both are rare in cluster setups and a wrong guess would be worse than none.
 */
export function parseSshConfig(text: string, host: string, ctx: SshConfigContext = {}): SshHostConfig {
  const out: SshHostConfig = { identityFiles: [] };
  const rawIdentities: string[] = [];
  let active = true;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
    if (m === null) continue;
    const keyword = m[1]!.toLowerCase();
    const args = splitArgs(m[2]!);
    if (keyword === "host") {
      active = hostMatches(args, host);
      continue;
    }
    if (keyword === "match") {
      active = args.length === 1 && args[0]!.toLowerCase() === "all";
      continue;
    }
    const value = args[0];
    if (!active || value === undefined) continue;
    switch (keyword) {
      case "hostname":
        out.hostName ??= value;
        break;
      case "user":
        out.user ??= value;
        break;
      case "port": {
        const port = Number(value);
        if (out.port === undefined && Number.isInteger(port) && port > 0 && port < 65536) out.port = port;
        break;
      }
      case "identityfile":
        if (value.toLowerCase() !== "none") rawIdentities.push(value);
        break;
    }
  }
  // Tokens are expanded at the end because `%h` and `%r` refer to the final HostName and User.
  const home = ctx.home ?? homedir();
  const localUser = ctx.localUser ?? localUserName();
  if (out.hostName !== undefined) out.hostName = expandTokens(out.hostName, { h: host, "%": "%" });
  const hostName = out.hostName ?? host;
  const tokens = { h: hostName, r: out.user ?? localUser, u: localUser, d: home, "%": "%" };
  out.identityFiles = rawIdentities.map((p) => expandTilde(expandTokens(p, tokens), home));
  return out;
}

/** Replaces a leading `~` or `~/` with the home directory. */
export function expandTilde(path: string, home: string = homedir()): string {
  if (path === "~") return home;
  return path.startsWith("~/") ? `${home}${path.slice(1)}` : path;
}

/** The local user name, falling back to the environment where the passwd database has no entry. */
export function localUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "root";
  }
}

function hostMatches(patterns: string[], host: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith("!")) {
      if (globMatch(p.slice(1), host)) return false;
    } else if (globMatch(p, host)) {
      matched = true;
    }
  }
  return matched;
}

function expandTokens(value: string, tokens: Record<string, string>): string {
  return value.replace(/%(.)/g, (all, t: string) => tokens[t] ?? all);
}

/** Splits arguments on whitespace, keeping double-quoted parts (paths with spaces) together. */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(/"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2]!);
  return out;
}
