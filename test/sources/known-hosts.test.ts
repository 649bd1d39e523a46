import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  checkHostKey,
  fingerprint,
  hostFieldMatches,
  keyTypeOf,
  knownHostsLine,
  knownKeyTypes,
  parseKnownHosts,
} from "../../src/sources/known-hosts.js";
import { tempDir } from "../e2e/support.js";

/** An SSH public key blob of the given type with random key material (the checks never look inside). */
function blob(type: string, bytes = 32): Buffer {
  const t = Buffer.from(type);
  const len = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return Buffer.concat([len(t.length), t, len(bytes), randomBytes(bytes)]);
}
const line = (hosts: string, key: Buffer, type = "ssh-ed25519") =>
  `${hosts} ${type} ${key.toString("base64")}`;

describe("known_hosts", () => {
  const tmp = tempDir("known-hosts");
  let realKey: Buffer;
  let realPub: string;

  before(() => {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(tmp.dir, "k")]);
    realPub = join(tmp.dir, "k.pub");
    realKey = Buffer.from(readFileSync(realPub, "utf8").split(" ")[1]!, "base64");
  });
  after(() => tmp.remove());

  it("computes fingerprints exactly as ssh-keygen -l prints them", () => {
    const out = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", realPub], { encoding: "utf8" });
    assert.equal(fingerprint(realKey), out.split(" ")[1]);
    assert.match(fingerprint(realKey), /^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it("reads the key type from the blob, and rejects malformed blobs", () => {
    assert.equal(keyTypeOf(realKey), "ssh-ed25519");
    assert.equal(keyTypeOf(blob("ssh-rsa")), "ssh-rsa");
    assert.equal(keyTypeOf(Buffer.from([0, 0])), null);
    assert.equal(keyTypeOf(Buffer.from([0, 0, 0, 200, 65])), null);
  });

  it("skips comments, blank, malformed and unknown-marker lines", () => {
    const k = blob("ssh-ed25519");
    const text = [
      "# comment",
      "",
      "   ",
      "onlyhost",
      "h ssh-ed25519 !!notbase64",
      "@bogus h ssh-ed25519 AAAA",
      line("h", k),
    ];
    const entries = parseKnownHosts(text.join("\n"));
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.hosts, "h");
    assert.ok(entries[0]!.key.equals(k));
  });

  it("matches plain entries: comma lists, wildcards, negation, case", () => {
    const k = blob("ssh-ed25519");
    const text = line("node1,node2.cluster,10.0.0.5", k);
    for (const h of ["node1", "NODE2.cluster", "10.0.0.5"])
      assert.equal(checkHostKey(text, h, 22, "ssh-ed25519", k), "known");
    assert.equal(checkHostKey(text, "node3", 22, "ssh-ed25519", k), "unknown");
    assert.ok(hostFieldMatches("*.cluster,!bad.cluster", "good.cluster"));
    assert.ok(!hostFieldMatches("*.cluster,!bad.cluster", "bad.cluster"));
    assert.ok(hostFieldMatches("node?", "node7"));
    assert.ok(!hostFieldMatches("node?", "node17"));
  });

  it("keeps ports apart: a bare name is port 22, [host]:port any other", () => {
    const k = blob("ssh-ed25519");
    const text = line("[node1]:2222", k);
    assert.equal(checkHostKey(text, "node1", 2222, "ssh-ed25519", k), "known");
    assert.equal(checkHostKey(text, "node1", 22, "ssh-ed25519", k), "unknown");
    assert.equal(checkHostKey(line("node1", k), "node1", 2222, "ssh-ed25519", k), "unknown");
    assert.equal(checkHostKey(line("node1", k), "node1", 22, "ssh-ed25519", k), "known");
  });

  it("matches hashed entries made by ssh-keygen -H, on port 22 and others", () => {
    const file = join(tmp.dir, "hashed");
    writeFileSync(file, `${line("node1", realKey)}\n${line("[10.1.2.3]:2200", realKey)}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    const text = readFileSync(file, "utf8");
    assert.match(text, /^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /m);
    assert.ok(!text.includes("node1"));
    assert.equal(checkHostKey(text, "node1", 22, "ssh-ed25519", realKey), "known");
    assert.equal(checkHostKey(text, "10.1.2.3", 2200, "ssh-ed25519", realKey), "known");
    assert.equal(checkHostKey(text, "node2", 22, "ssh-ed25519", realKey), "unknown");
    assert.equal(checkHostKey(text, "10.1.2.3", 22, "ssh-ed25519", realKey), "unknown");
    const other = blob("ssh-ed25519");
    assert.deepEqual(checkHostKey(text, "node1", 22, "ssh-ed25519", other), {
      changed: { expected: fingerprint(realKey), got: fingerprint(other), expectedType: "ssh-ed25519" },
    });
  });

  it("reports a changed key with both fingerprints, also when only another key type is known", () => {
    const old = blob("ssh-ed25519");
    const now = blob("ssh-ed25519");
    assert.deepEqual(checkHostKey(line("h", old), "h", 22, "ssh-ed25519", now), {
      changed: { expected: fingerprint(old), got: fingerprint(now), expectedType: "ssh-ed25519" },
    });
    const rsa = blob("ssh-rsa", 64);
    const text = `${line("h", rsa, "ssh-rsa")}\n${line("h", old)}`;
    // The same-type entry is the one shown as expected.
    assert.deepEqual(checkHostKey(text, "h", 22, "ssh-ed25519", now), {
      changed: { expected: fingerprint(old), got: fingerprint(now), expectedType: "ssh-ed25519" },
    });
    const onlyRsa = checkHostKey(line("h", rsa, "ssh-rsa"), "h", 22, "ssh-ed25519", now);
    assert.deepEqual(onlyRsa, {
      changed: { expected: fingerprint(rsa), got: fingerprint(now), expectedType: "ssh-rsa" },
    });
    // Several keys of different types are all fine when one matches.
    assert.equal(checkHostKey(text, "h", 22, "ssh-rsa", rsa), "known");
  });

  it("refuses keys on @revoked lines, even when also listed as known", () => {
    const k = blob("ssh-ed25519");
    const text = `${line("h", k)}\n@revoked * ssh-ed25519 ${k.toString("base64")}\n`;
    assert.equal(checkHostKey(text, "h", 22, "ssh-ed25519", k), "revoked");
    assert.equal(checkHostKey(text, "h", 22, "ssh-ed25519", blob("ssh-ed25519")).constructor, Object);
    assert.equal(
      checkHostKey(
        `@revoked * ssh-ed25519 ${k.toString("base64")}`,
        "x",
        22,
        "ssh-ed25519",
        blob("ssh-ed25519"),
      ),
      "unknown",
    );
  });

  it("ignores @cert-authority lines (host certificates are not supported)", () => {
    const k = blob("ssh-ed25519");
    assert.equal(
      checkHostKey(`@cert-authority * ssh-ed25519 ${k.toString("base64")}`, "h", 22, "ssh-ed25519", k),
      "unknown",
    );
  });

  it("writes lines that it and ssh-keygen -F both find", () => {
    const file = join(tmp.dir, "written");
    const text = `${knownHostsLine("Node1", 22, "ssh-ed25519", realKey)}\n${knownHostsLine("127.0.0.1", 2222, "ssh-ed25519", realKey)}\n`;
    writeFileSync(file, text);
    assert.equal(text.split("\n")[0], `node1 ssh-ed25519 ${realKey.toString("base64")}`);
    assert.equal(checkHostKey(text, "node1", 22, "ssh-ed25519", realKey), "known");
    assert.equal(checkHostKey(text, "127.0.0.1", 2222, "ssh-ed25519", realKey), "known");
    const found = execFileSync("ssh-keygen", ["-F", "[127.0.0.1]:2222", "-f", file], { encoding: "utf8" });
    assert.match(found, /^\[127\.0\.0\.1\]:2222 ssh-ed25519 /m);
    execFileSync("ssh-keygen", ["-F", "node1", "-f", file], { stdio: "ignore" });
  });

  it("lists the key types known for a host, for host key algorithm order", () => {
    const text = [
      line("h", blob("ssh-rsa", 64), "ssh-rsa"),
      line("h", blob("ssh-ed25519")),
      line("other", blob("x"), "x"),
    ];
    assert.deepEqual(knownKeyTypes(text.join("\n"), "h", 22), ["ssh-rsa", "ssh-ed25519"]);
    assert.deepEqual(knownKeyTypes(text.join("\n"), "nobody", 22), []);
  });
});
