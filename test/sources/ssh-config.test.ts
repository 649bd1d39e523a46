import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostKeyAlgorithms, resolveTarget } from "../../src/sources/ssh.js";
import { parseSshConfig } from "../../src/sources/ssh-config.js";

const ctx = { home: "/home/me", localUser: "me" };

describe("ssh_config parsing", () => {
  const config = `
# LegoOS cluster
Host pcomp*  !pcomp9
    HostName %h.lego.example
    User lego
    Port 2222
    IdentityFile ~/.ssh/lego_ed25519

Host mnode1
  HostName=10.0.0.21
  IdentityFile "~/keys/with space"
  IdentityFile %d/.ssh/%r@%h

Host *
  User fallback
  Port 22
  IdentityFile ~/.ssh/id_all
`;

  it("applies a Host block with wildcards and token expansion in HostName", () => {
    assert.deepEqual(parseSshConfig(config, "pcomp3", ctx), {
      hostName: "pcomp3.lego.example",
      user: "lego",
      port: 2222,
      identityFiles: ["/home/me/.ssh/lego_ed25519", "/home/me/.ssh/id_all"],
    });
  });

  it("honours negated patterns", () => {
    const c = parseSshConfig(config, "pcomp9", ctx);
    assert.equal(c.hostName, undefined);
    assert.equal(c.user, "fallback");
    assert.equal(c.port, 22);
  });

  it("keeps the first value of a keyword, accepts key=value and quotes, expands %d %r %h and ~", () => {
    assert.deepEqual(parseSshConfig(config, "mnode1", ctx), {
      hostName: "10.0.0.21",
      user: "fallback",
      port: 22,
      identityFiles: ["/home/me/keys/with space", "/home/me/.ssh/fallback@10.0.0.21", "/home/me/.ssh/id_all"],
    });
  });

  it("matches case-insensitively and gives nothing for unmatched hosts without a Host * block", () => {
    const text = "host NODE1\n  hostname 1.2.3.4\n  PORT 23\n";
    assert.deepEqual(parseSshConfig(text, "node1", ctx), {
      hostName: "1.2.3.4",
      port: 23,
      identityFiles: [],
    });
    assert.deepEqual(parseSshConfig(text, "node2", ctx), { identityFiles: [] });
  });

  it("applies lines before any Host to every host, and skips Match blocks other than Match all", () => {
    const text =
      "User early\nMatch exec true\n  Port 99\nMatch all\n  HostName everywhere\nHost x\n  User late\n";
    assert.deepEqual(parseSshConfig(text, "x", ctx), {
      user: "early",
      hostName: "everywhere",
      identityFiles: [],
    });
  });

  it("ignores bad ports, IdentityFile none, unknown keywords and comments", () => {
    const text =
      "Host *\n  Port banana\n  Port 0\n  IdentityFile none\n  ProxyJump bastion\n  # Port 7\n  Port 2200\n";
    assert.deepEqual(parseSshConfig(text, "h", ctx), { port: 2200, identityFiles: [] });
  });

  it("is empty for empty text", () => {
    assert.deepEqual(parseSshConfig("", "h", ctx), { identityFiles: [] });
  });
});

describe("ssh target resolution", () => {
  const config = "Host n1\n  HostName 10.0.0.1\n  User lego\n  Port 2222\n  IdentityFile ~/.ssh/lego\n";

  it("lets options win over the config, and the config over defaults", () => {
    const t = resolveTarget({ host: "n1" }, config, "/home/me");
    assert.deepEqual(t, {
      host: "10.0.0.1",
      port: 2222,
      user: "lego",
      identities: [{ file: "/home/me/.ssh/lego", explicit: false }],
      knownHostsPath: "/home/me/.ssh/known_hosts",
    });
    const o = resolveTarget(
      { host: "n1", port: 22, user: "root", identity: "~/k", knownHostsPath: "/tmp/kh" },
      config,
      "/home/me",
    );
    assert.equal(o.port, 22);
    assert.equal(o.user, "root");
    assert.deepEqual(o.identities, [{ file: "/home/me/k", explicit: true }]);
    assert.equal(o.knownHostsPath, "/tmp/kh");
  });

  it("falls back to the default key files when neither option nor config names one", () => {
    const t = resolveTarget({ host: "plain" }, "", "/home/me");
    assert.equal(t.host, "plain");
    assert.equal(t.port, 22);
    assert.deepEqual(
      t.identities.map((i) => i.file),
      ["/home/me/.ssh/id_ed25519", "/home/me/.ssh/id_ecdsa", "/home/me/.ssh/id_rsa"],
    );
  });

  it("asks for known host key types first", () => {
    assert.equal(hostKeyAlgorithms([]), undefined);
    const algos = hostKeyAlgorithms(["ssh-rsa"])!;
    assert.deepEqual(algos.slice(0, 3), ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
    assert.equal(algos.length, new Set(algos).size);
    assert.ok(algos.includes("ssh-ed25519"));
  });
});
