/**
 * A recorder in a process of its own, for the test that kills one with SIGKILL: follows a console file
 * (node `N`, read from its start) through the monitor and records into a session file.
 * Usage: node --import tsx test/record/record-child.ts SESSION LOG. Prints `connected` once it follows.
 */
import { Monitor } from "../../src/live/monitor.js";
import { Pipeline } from "../../src/pipeline.js";
import { attachRecorder } from "../../src/record/recorder.js";
import { SessionWriter } from "../../src/record/writer.js";
import { FileSource } from "../../src/sources/file.js";

const [session, log] = process.argv.slice(2);
if (!session || !log) {
  process.stderr.write("usage: record-child.ts SESSION LOG\n");
  process.exit(2);
}
const writer = new SessionWriter(session, { nodes: [{ name: "N", source: `file:${log}?from=start` }] });
const rec = attachRecorder(writer);
const pipeline = new Pipeline({
  dedupReplays: true,
  onChunk: rec.onChunk,
  onIdle: rec.onIdle,
  onReconnect: rec.onReconnect,
});
const monitor = new Monitor(
  [{ name: "N", source: new FileSource({ path: log, fromStart: true }) }],
  pipeline,
  {
    onStatus: (s) => {
      rec.onStatus(s);
      if (s.state === "connected") process.stdout.write("connected\n");
    },
  },
);
// The recording thread is up before the console is followed, as in a watch started before its lines.
await writer.ready;
monitor.start();
// Runs until killed; the monitor's timer does not hold the process, this does.
setInterval(() => {}, 1 << 30);
