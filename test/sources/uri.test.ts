import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSourceUri } from "../../src/sources/uri.js";

describe("source URIs", () => {
  it("serial with options", () => {
    assert.deepEqual(parseSourceUri("serial:/dev/ttyUSB0?baud=9600&parity=even&databits=7&stopbits=2"), {
      kind: "serial",
      path: "/dev/ttyUSB0",
      baudRate: 9600,
      dataBits: 7,
      parity: "even",
      stopBits: 2,
    });
    assert.deepEqual(parseSourceUri("serial:/dev/ttyS0"), {
      kind: "serial",
      path: "/dev/ttyS0",
      baudRate: 115200,
    });
  });

  it("ssh with user, port, command and identity", () => {
    assert.deepEqual(
      parseSourceUri(
        "ssh://root@console-host:2222?cmd=tail%20-F%20/var/log/consoles/M.log&identity=~/.ssh/lab",
      ),
      {
        kind: "ssh",
        host: "console-host",
        port: 2222,
        user: "root",
        command: "tail -F /var/log/consoles/M.log",
        identity: "~/.ssh/lab",
      },
    );
    assert.deepEqual(parseSourceUri("ssh://storage"), { kind: "ssh", host: "storage" });
  });

  it("tcp, cmd, file and stdin", () => {
    assert.deepEqual(parseSourceUri("tcp://127.0.0.1:7000"), { kind: "tcp", host: "127.0.0.1", port: 7000 });
    assert.deepEqual(parseSourceUri("cmd:ipmitool -I lanplus -H bmc sol activate"), {
      kind: "cmd",
      command: "ipmitool -I lanplus -H bmc sol activate",
    });
    assert.deepEqual(parseSourceUri("file:/var/log/m.log?from=start"), {
      kind: "file",
      path: "/var/log/m.log",
      fromStart: true,
    });
    assert.deepEqual(parseSourceUri("file:m.log"), { kind: "file", path: "m.log", fromStart: false });
    assert.deepEqual(parseSourceUri("-"), { kind: "stdin" });
  });

  it("says what is wrong, on one line", () => {
    const bad: [string, RegExp][] = [
      ["serial:/dev/ttyS0?baud=fast", /baud=fast is not valid/],
      ["serial:/dev/ttyS0?speed=9600", /unknown option "speed"/],
      ["ssh://root:secret@host", /passwords do not belong/],
      ["tcp://host", /needs a host and a port/],
      ["cmd:", /needs a command line/],
      ["http://x", /unknown source/],
      ["/dev/ttyUSB0", /unknown source/],
    ];
    for (const [uri, re] of bad) {
      assert.throws(
        () => parseSourceUri(uri),
        (e: Error) => re.test(e.message) && !e.message.includes("\n"),
        uri,
      );
    }
  });
});
