import type { BootEvent, EventBase } from "./events.js";
import { eventOf, type FieldsOf, type FormatRow, firstRow, type LineFamily } from "./family.js";
import type { LogLine } from "./line.js";

/**
 * Boot progress, role and node-ID lines (formats.md F1), in their April 2018 and HEAD wordings.
 * Every row is anchored at the start of the message: these lines are printed whole by one printk,
 * and an anchor keeps prose that merely quotes them (developer notes) from counting.
 */

type Fields = FieldsOf<BootEvent>;

type Row = FormatRow<Fields>;

/** FIT lines gained the `fit: ` prefix on 2018-09-11; older ones have none. */
const FIT = "^(?:fit: ?)?";

/** `enum ib_port_state` (include/rdma/ib_verbs.h), as `ib_query_port` reports it. */
export const IB_PORT_STATES = ["NOP", "DOWN", "INIT", "ARMED", "ACTIVE", "ACTIVE_DEFER"] as const;
export const IB_PORT_ACTIVE = 4;

function portLine(port: number, lid: number, state: number): string {
  return `port ${port} LID ${lid} state ${state} (${IB_PORT_STATES[state] ?? "unknown"})`;
}

const ROWS: readonly Row[] = [
  {
    re: /^(?:LegoOS|Linux) version (\S+)(.*)$/,
    build: (m) => ({ what: "banner", version: m[1]!, detail: `${m[1]}${m[2]}`.trimEnd() }),
  },
  { re: /^Command line: ?(.*)$/, build: (m) => ({ what: "cmdline", detail: m[1]!.trimEnd() }) },
  {
    re: /^x86: Booted up (\d+) nodes?, (\d+) CPUs/,
    build: (m) => ({ what: "cpus", cpus: Number(m[2]), detail: `${m[1]} node(s)` }),
  },
  {
    // April printed `FIT_local_id`, HEAD `FIT_LOCAL_ID`.
    re: new RegExp(`${FIT}\\*{3}\\s+FIT_(?:LOCAL_ID|local_id):\\s*(\\d+)`),
    build: (m) => ({ what: "fit-id", nid: Number(m[1]) }),
  },
  {
    // The table row of this node ends in the ` <---` continuation; other rows prove nothing.
    // A hostname can be empty, which leaves three numbers.
    re: new RegExp(`${FIT}\\*{3}\\s+(\\d+)\\s+(?:(\\S+)\\s+)?(\\d+)\\s+(\\d+)\\s*<---\\s*$`),
    build: (m) =>
      m[2] === undefined
        ? { what: "fit-node", nid: Number(m[1]) }
        : { what: "fit-node", nid: Number(m[1]), detail: m[2] },
  },
  {
    re: new RegExp(`${FIT}Please wait for enough IB MAD \\(number: (\\d+)\\)`),
    build: (m) => ({ what: "mad-wait", detail: `${m[1]} MADs` }),
  },
  {
    // FIT's IB set-up queries its port until the subnet manager makes it ACTIVE, printing the port's
    // state after every query and again after each one-second wait (`%s() after query CPU%d port: %d
    // LID: %d state: %d`, then `%s() CPU%d port: ...`). The RDMA_FIT_API copy prefixes its own name.
    re: /^(?:fit: ?|RDMA_FIT_API: )?\w+\(\) (?:after query )?CPU(\d+) port: (\d+) LID: (\d+) state: (\d+)/,
    build: (m) => {
      const port = Number(m[2]);
      const lid = Number(m[3]);
      const portState = Number(m[4]);
      return {
        what: "ib-port",
        cpu: Number(m[1]),
        port,
        lid,
        portState,
        detail: portLine(port, lid, portState),
      };
    },
  },
  {
    // What it prints once the port is ACTIVE.
    re: /^(?:fit: ?|RDMA_FIT_API: )?Query returned LID: (\d+)/,
    build: (m) => ({
      what: "ib-port",
      lid: Number(m[1]),
      portState: IB_PORT_ACTIVE,
      detail: `LID ${m[1]}, port active`,
    }),
  },
  {
    re: new RegExp(`${FIT}\\*{3}\\s+Successfully built QP for node\\s+(\\d+)(?:\\s+\\[(.*)\\])?`),
    build: (m) =>
      m[2] === undefined
        ? { what: "qp-built", peer: Number(m[1]) }
        : { what: "qp-built", peer: Number(m[1]), detail: m[2] },
  },
  {
    // HEAD: ` ... Node [%2d] Joined. addr %p rkey %d nr_joined_nodes %d`. Mid-2018 fit_poll_cq printed
    // ` .. Node [%2d] Joined. Remote addr %p, rkey %d, num_recvd_rdma_ring_mrs %d` (two dots).
    re: new RegExp(
      `${FIT}\\s*\\.{2,3} Node \\[\\s*(\\d+)\\] Joined\\.(?:.*(?:nr_joined_nodes|num_recvd_rdma_ring_mrs) (\\d+))?`,
    ),
    build: (m) =>
      m[2] === undefined
        ? { what: "node-joined", peer: Number(m[1]) }
        : { what: "node-joined", peer: Number(m[1]), detail: `${m[2]} joined` },
  },
  { re: new RegExp(`${FIT}(?:\\*{3}\\s+)?FIT layer ready to go!`), build: () => ({ what: "fit-ready" }) },
  {
    re: /^thpool: CPU\s*(\d+) (.+?) worker_id: (\d+) UP/,
    build: (m) => ({ what: "worker-up", role: "M", cpu: Number(m[1]), thread: m[2]!, worker: Number(m[3]) }),
  },
  {
    // April's polling thread said only `thpool: CPU%2d %s UP`; it runs on the memory manager too.
    re: /^thpool: CPU\s*(\d+) (.+?) UP\s*$/,
    build: (m) => ({ what: "worker-up", role: "M", cpu: Number(m[1]), thread: m[2]! }),
  },
  {
    // Only the memory manager names its threads `thpool-worker<N>`, so such a pin proves the role.
    re: /^\s*\[(\d+)\] Thread\[(.+?):(\d+)\] pinned at CPU (\d+)/,
    build: (m) => {
      const e: Fields = { what: "pinned", thread: m[2]!, pid: Number(m[3]), cpu: Number(m[4]) };
      if (m[2]!.startsWith("thpool-worker")) e.role = "M";
      return e;
    },
  },
  {
    // The list is sprintf'd into a 64-byte buffer and can come out mangled: count only a clean one.
    re: /^(Online|Active) CPU: ?(.*)$/,
    build: (m) => {
      const list = m[2]!.trimEnd();
      const e: Fields = { what: "cpu-mask", detail: `${m[1]} CPU: ${list}` };
      const n = countCpuList(list);
      if (n !== null) e.cpus = n;
      return e;
    },
  },
  { re: /^Manager is up and running\./, build: () => ({ what: "manager-up" }) },
  { re: /^Processor: Processor manager is running\./, build: () => ({ what: "manager-up", role: "P" }) },
  { re: /^Memory: manager is up and running\./, build: () => ({ what: "manager-up", role: "M" }) },
  { re: /^Processor LLC Configurations:/, build: () => ({ what: "llc-config", role: "P" }) },
  { re: /^Scheduler is up and running/, build: () => ({ what: "scheduler-up" }) },
  {
    // The node number names the bad table entry, not this node.
    re: new RegExp(`${FIT}\\s*((?:Empty|Wrong|Duplicated) hostname .*?on node \\d+)\\s*$`),
    build: (m) => ({ what: "network-config", detail: m[1]! }),
  },
  {
    // fit_establish_conn(): the port's LID is not the one the node table gives this node. One printk
    // whose lines after the first are unstamped `*** ...`; this is the one that says what is wrong.
    // The node then halts (hlt()), so its boot stops here and its peers never see it join.
    re: new RegExp(`${FIT}\\*{3}\\s+(Current LID: \\d+\\. Table LID: \\d+\\.)`),
    build: (m) => ({ what: "network-config", detail: m[1]! }),
  },
  {
    // The panic() that follows the hostname errors; its text may sit inside a `Kernel panic` line.
    re: /Please check your network config!/,
    build: () => ({ what: "network-config", detail: "Please check your network config!" }),
  },
];

/** The number of CPUs in a bitmap list such as `0-7` or `0,2,4-7`, or null when it is not one. */
function countCpuList(list: string): number | null {
  if (!/^\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*$/.test(list)) return null;
  let n = 0;
  for (const part of list.split(",")) {
    const [lo, hi] = part.split("-");
    const a = Number(lo);
    const b = hi === undefined ? a : Number(hi);
    if (b < a) return null;
    n += b - a + 1;
  }
  return n;
}

/** Boot, role and node-ID announcements (F1) as `boot` events. */
export const bootFamily: LineFamily = {
  name: "boot",
  keys: [
    "LegoOS version ",
    "Linux version ",
    "Command line:",
    "x86: Booted up ",
    "FIT_LOCAL_ID",
    "FIT_local_id",
    " <---",
    "Please wait for enough IB MAD",
    "Successfully built QP for node",
    "] Joined.",
    "FIT layer ready to go!",
    "thpool: CPU",
    "] pinned at CPU ",
    "Online CPU:",
    "Active CPU:",
    "Manager is up and running.",
    "Processor manager is running.",
    "Memory: manager is up and running.",
    "Processor LLC Configurations:",
    "Scheduler is up and running",
    " hostname ",
    // Also the LID-mismatch banner's `Table LID: `.
    " LID: ",
    "Please check your network config!",
  ],
  parse(line: LogLine, base: EventBase): BootEvent | null {
    const fields = firstRow(ROWS, line.msg);
    return fields ? eventOf<BootEvent>(base, "boot", fields) : null;
  },
};
