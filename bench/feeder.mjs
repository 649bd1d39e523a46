// The console side of the live benchmark, run as a child process so that its CPU is not counted as the
// monitor's. It talks to bench/live.bench.ts over the IPC channel; every time it reports is
// `process.hrtime` in ms (CLOCK_MONOTONIC, the same clock in every process of the machine).
//
//   node bench/feeder.mjs flood PATH pty|file LINES
//     Writes LINES stamped console lines to PATH as fast as it takes them (a pty is written with blocking
//     writes; a file is appended to), then reports `{ type: "done", start, end, lines, bytes }` and exits.
//
//   node bench/feeder.mjs pace CONFIG_JSON
//     CONFIG: { sources: [{ name, kind: "tcp" | "pty", path? }], rate, seconds, batchMs, alertEveryMs }.
//     Opens the ptys and listens on 127.0.0.1 for the TCP sources, reports `{ type: "ready", ports }`,
//     then `{ type: "connected", name }` as clients connect. On `{ type: "go" }` it writes `rate` lines/s
//     to every source in batches every `batchMs` for `seconds`; every `alertEveryMs` one line of each
//     source is an RPC timeout with a caller name of its own. It then reports
//     `{ type: "done", start, end, sent, bytes, alerts: [[caller, writtenAt], ...], maxLagMs }` and
//     stays up (TCP clients connected) until told `{ type: "exit" }` or the parent goes away.
import { closeSync, constants, openSync, writeSync } from "node:fs";
import { createServer } from "node:net";

const now = () => Number(process.hrtime.bigint()) / 1e6;

function send(msg) {
  process.send?.(msg);
}

// The parent going away (even killed) closes the channel: never outlive it.
process.on("disconnect", () => process.exit(0));

/** The printk stamp `[%5lu.%06lu]` of a time in microseconds. */
function stamp(us) {
  const secs = Math.floor(us / 1e6);
  return `[${String(secs).padStart(5)}.${String(us - secs * 1e6).padStart(6, "0")}]`;
}

const hex = (n, width) => n.toString(16).padStart(width, "0");

/** An ordinary console line of about 100 bytes (newline included) that raises no alert. */
function ordinary(seq, us) {
  const st = stamp(us);
  switch (seq % 4) {
    case 0:
      return `${st} ib_mad_completion_handler 2344 got successful recv cq op 128 mad_got_one ${seq}\n`;
    case 1:
      return `${st} pcache: evict set 0x${hex(seq & 0xfff, 3)} way ${seq & 7} pa 0x${hex(seq * 4096, 12)} dirty 0 victim clean ok seq ${seq}\n`;
    case 2:
      return `${st} fit: conn 3 qp 0x${hex(seq & 0xffff, 4)} posted wr_id ${seq} len 4096 to nid 1 imm 0x${hex(seq, 8)} flags 0x2 signaled\n`;
    default:
      return `${st} gpm: pid 19 vma 0x7f${hex(seq & 0xffffff, 6)}000-0x7f${hex((seq + 1) & 0xffffff, 6)}000 rw-p anon mapped ok nid 1\n`;
  }
}

/** Writes all of `buf` to a file descriptor, waiting out a full pty. */
function writeAll(fd, buf) {
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== "EAGAIN") throw e;
    }
  }
}

function flood(path, kind, lines) {
  const flags =
    kind === "pty" ? constants.O_WRONLY | constants.O_NOCTTY : constants.O_WRONLY | constants.O_APPEND;
  const fd = openSync(path, flags);
  const chunkLines = 640;
  let bytes = 0;
  let us = 1_000_000_000;
  const start = now();
  for (let seq = 0; seq < lines; ) {
    let text = "";
    const end = Math.min(lines, seq + chunkLines);
    for (; seq < end; seq++) {
      us += 10;
      text += ordinary(seq, us);
    }
    const buf = Buffer.from(text, "latin1");
    writeAll(fd, buf);
    bytes += buf.length;
  }
  const end = now();
  closeSync(fd);
  send({ type: "done", start, end, lines, bytes });
  process.disconnect();
}

async function pace(cfg) {
  const perAlert = Math.round((cfg.rate * cfg.alertEveryMs) / 1000);
  const total = Math.round(cfg.rate * cfg.seconds);
  const sources = cfg.sources.map((s, index) => ({
    ...s,
    index,
    seq: 0,
    bytes: 0,
    alerts: 0,
    // Kernel time moves at the real pace of the lines.
    us: 2_000_000_000 + index * 1_000_000,
    fd: null,
    server: null,
    socket: null,
  }));
  const ports = {};
  for (const s of sources) {
    if (s.kind === "pty") {
      s.fd = openSync(s.path, constants.O_WRONLY | constants.O_NOCTTY);
      continue;
    }
    s.server = createServer((sock) => {
      sock.setNoDelay(true);
      sock.on("error", () => undefined);
      s.socket?.destroy();
      s.socket = sock;
      send({ type: "connected", name: s.name });
    });
    await new Promise((resolve, reject) => {
      s.server.once("error", reject);
      s.server.listen(0, "127.0.0.1", resolve);
    });
    ports[s.name] = s.server.address().port;
  }

  const alertTimes = [];
  let start = 0;
  let lastTick = 0;
  let maxLagMs = 0;
  let timer = null;

  const alertAt = Math.floor(perAlert / 2);
  const batch = (s, due) => {
    let text = "";
    const callers = [];
    const add = () => {
      const seq = s.seq++;
      s.us += Math.round(1e6 / cfg.rate);
      if (seq % perAlert !== alertAt) {
        text += ordinary(seq, s.us);
        return;
      }
      const caller = `clflush_one_s${s.index}_${s.alerts++}`;
      callers.push(caller);
      text += `${stamp(s.us)} ibapi_send_reply() CPU:8 PID:19 timeout (30010 ms), caller: ${caller}+0x1c9/0x370\n`;
    };
    while (s.seq < due) add();
    // A timeout line waits one line for its follow-up: never end a batch on one, or its alert would wait
    // for the next batch.
    if (s.seq > 0 && (s.seq - 1) % perAlert === alertAt) add();
    if (text === "") return;
    const buf = Buffer.from(text, "latin1");
    const at = now();
    for (const c of callers) alertTimes.push([c, at]);
    if (s.fd !== null) writeAll(s.fd, buf);
    else s.socket.write(buf);
    s.bytes += buf.length;
  };

  const tick = () => {
    const t = now();
    maxLagMs = Math.max(maxLagMs, t - lastTick - cfg.batchMs);
    lastTick = t;
    const due = Math.min(total, Math.floor(((t - start) * cfg.rate) / 1000));
    for (const s of sources) batch(s, due);
    if (sources.every((s) => s.seq >= total)) {
      clearInterval(timer);
      const sent = {};
      const bytes = {};
      for (const s of sources) {
        sent[s.name] = s.seq;
        bytes[s.name] = s.bytes;
      }
      send({ type: "done", start, end: now(), sent, bytes, alerts: alertTimes, maxLagMs });
    }
  };

  process.on("message", (msg) => {
    if (msg?.type === "go" && timer === null) {
      start = now();
      lastTick = start;
      timer = setInterval(tick, cfg.batchMs);
    } else if (msg?.type === "exit") {
      clearInterval(timer);
      for (const s of sources) {
        if (s.fd !== null) closeSync(s.fd);
        s.socket?.destroy();
        s.server?.close();
      }
      process.disconnect();
    }
  });
  send({ type: "ready", ports });
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "flood") flood(args[0], args[1], Number(args[2]));
else if (mode === "pace") await pace(JSON.parse(args[0]));
else {
  process.stderr.write("usage: node bench/feeder.mjs flood PATH pty|file LINES | pace CONFIG_JSON\n");
  process.exit(2);
}
