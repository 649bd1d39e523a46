import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config/load.js";

describe("the config file", () => {
  it("reads nodes, thresholds and roles", () => {
    const c = parseConfig(
      [
        "nodes:",
        "  - name: P",
        "    role: P",
        "    source: serial:/dev/ttyUSB0?baud=115200",
        "  - name: M",
        "    source: ssh://lab@console-host?cmd=tail -F /var/log/consoles/M.log",
        "alerts:",
        "  stuckSeconds: 25",
      ].join("\n"),
      "legowatch.yaml",
    );
    assert.equal(c.nodes?.length, 2);
    assert.equal(c.alerts?.stuckSeconds, 25);
  });

  it("names the file, the line and the key of a bad value", () => {
    assert.throws(
      () => parseConfig("alerts:\n  stuckSeconds: -3\n", "lw.yaml"),
      /^ConfigError: lw\.yaml:2: alerts\.stuckSeconds: /,
    );
  });

  it("names an unknown key at its own line", () => {
    assert.throws(
      () => parseConfig("alerts:\n  stuckSeconds: 3\n  stuckSecs: 4\n", "lw.yaml"),
      (e: Error) => /^lw\.yaml:3: alerts\.stuckSecs: /.test(e.message),
    );
  });

  it("checks each node's source URI", () => {
    assert.throws(
      () => parseConfig("nodes:\n  - name: P\n    source: serial:/dev/ttyS0?baud=fast\n", "lw.yaml"),
      /lw\.yaml:3: nodes\.0\.source: serial:\/dev\/ttyS0\?baud=fast: baud=fast is not valid/,
    );
  });

  it("says where YAML itself is broken", () => {
    assert.throws(
      () => parseConfig("alerts:\n  stuckSeconds: [1,\n", "lw.yaml"),
      /^ConfigError: lw\.yaml:\d+: not valid YAML/,
    );
  });
});
