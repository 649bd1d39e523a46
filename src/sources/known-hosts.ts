import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * The verdict on a host key. `revoked` means the key is listed on an `@revoked` line; `changed` means the
 * host is known with another key (of the same type, or only of other types), and carries both fingerprints.
 */
export type HostKeyCheck =
  | "known"
  | "unknown"
  | "revoked"
  | { changed: { expected: string; got: string; expectedType: string } };

/** One usable line of a known_hosts file. */
export interface KnownHostEntry {
  /** `@revoked` or `@cert-authority`, when the line has a marker. */
  marker?: "revoked" | "cert-authority";
  /** The host field as written: a comma list of patterns, or one hashed `|1|salt|hmac` entry. */
  hosts: string;
  keyType: string;
  key: Buffer;
}

/**
 * Parses known_hosts text. Comments, blank lines and lines that are not well formed are skipped, as OpenSSH
 * skips them, so that one bad line does not hide the others.
 */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"];
    if (fields[0]?.startsWith("@")) {
      const m = fields.shift();
      if (m === "@revoked") marker = "revoked";
      else if (m === "@cert-authority") marker = "cert-authority";
      else continue;
    }
    const [hosts, keyType, b64] = fields;
    if (hosts === undefined || keyType === undefined || b64 === undefined) continue;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) continue;
    const entry: KnownHostEntry = { hosts, keyType, key: Buffer.from(b64, "base64") };
    if (marker !== undefined) entry.marker = marker;
    out.push(entry);
  }
  return out;
}

/** The name a host has in known_hosts: the bare name on port 22, `[host]:port` on any other port. */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/**
 * Whether a known_hosts host field names `name` (from {@link knownHostsName}). Hashed fields are
 * `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`; plain fields are comma lists of patterns with `*` and
 * `?`, where a `!pattern` that matches excludes the host whatever else matches.
 */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith("|")) {
    const parts = field.split("|");
    if (parts.length !== 4 || parts[1] !== "1") return false;
    const salt = Buffer.from(parts[2]!, "base64");
    const want = Buffer.from(parts[3]!, "base64");
    const got = createHmac("sha1", salt).update(name).digest();
    return want.length === got.length && timingSafeEqual(want, got);
  }
  let matched = false;
  for (const pattern of field.split(",")) {
    if (pattern.startsWith("!")) {
      if (globMatch(pattern.slice(1), name)) return false;
    } else if (globMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** Case-insensitive glob match with `*` and `?`, as OpenSSH matches host patterns. */
export function globMatch(pattern: string, text: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "i").test(text);
}

/** The key type written inside an SSH public key blob (its first string), or null if the blob is malformed. */
export function keyTypeOf(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return null;
  const type = blob.toString("latin1", 4, 4 + len);
  return /^[\x21-\x7e]+$/.test(type) ? type : null;
}

/** The OpenSSH fingerprint of a public key blob: `SHA256:` and the unpadded base64 of its SHA-256. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/**
 * Checks the key a server presented against known_hosts text. A key on a matching `@revoked` line is
 * refused first. Otherwise an exact match is `known`; a host known with a different key is `changed`,
 * also when it is known only with keys of other types: a legitimate server still offers the type we
 * know (see {@link knownKeyTypes}), so a sudden new type is treated as the attack it may be.
 * `@cert-authority` lines are ignored: host certificates are not supported.
 */
export function checkHostKey(
  knownHostsText: string,
  host: string,
  port: number,
  keyType: string,
  keyBlob: Buffer,
): HostKeyCheck {
  const name = knownHostsName(host, port);
  const entries = parseKnownHosts(knownHostsText).filter((e) => hostFieldMatches(e.hosts, name));
  if (entries.some((e) => e.marker === "revoked" && e.key.equals(keyBlob))) return "revoked";
  const plain = entries.filter((e) => e.marker === undefined);
  if (plain.some((e) => e.key.equals(keyBlob))) return "known";
  const other = plain.find((e) => e.keyType === keyType) ?? plain[0];
  if (other === undefined) return "unknown";
  return {
    changed: { expected: fingerprint(other.key), got: fingerprint(keyBlob), expectedType: other.keyType },
  };
}

/** The key types known_hosts holds for a host, in file order, so the client can ask for those first. */
export function knownKeyTypes(knownHostsText: string, host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const types = parseKnownHosts(knownHostsText)
    .filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name))
    .map((e) => e.keyType);
  return [...new Set(types)];
}

/** The known_hosts line that records a host key (plain, not hashed, like `ssh -o HashKnownHosts=no`). */
export function knownHostsLine(host: string, port: number, keyType: string, keyBlob: Buffer): string {
  return `${knownHostsName(host, port)} ${keyType} ${keyBlob.toString("base64")}`;
}
