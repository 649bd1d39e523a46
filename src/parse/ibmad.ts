import type { EventBase, IbMadEvent } from "./events.js";
import { eventOf, type FieldsOf, type FormatRow, firstRow, type LineFamily } from "./family.js";
import type { LogLine } from "./line.js";

/**
 * IB management-datagram completions (formats.md F5). The number after the function name in the
 * April forms is `__LINE__`, so it changes between builds and is dropped.
 */

type Fields = FieldsOf<IbMadEvent>;

type Row = FormatRow<Fields>;

const dir = (s: string): "send" | "recv" => (s.toLowerCase() === "send" ? "send" : "recv");

const ROWS: readonly Row[] = [
  {
    // April 2018: `ib_mad_completion_handler 2344 got successful recv cq op 128 mad_got_one 15`.
    re: /^\w+ \d+ got successful (send|recv) cq op (-?\d+) mad_got_one (\d+)/,
    build: (m) => ({ dir: dir(m[1]!), op: Number(m[2]), got: Number(m[3]) }),
  },
  {
    // Between the two: `%s %d dev: %s port: %d %s cq op %d mad_got_one=%d`.
    re: /^\w+ \d+ dev: \S+ port: \d+ (SEND|RECV) cq op (-?\d+) mad_got_one=(\d+)/,
    build: (m) => ({ dir: dir(m[1]!), op: Number(m[2]), got: Number(m[3]) }),
  },
  {
    // HEAD, with CONFIG_DEBUG_INFINIBAND_MAD: no opcode, `ib_mad: ` prefix.
    re: /^(?:ib_mad: )?\w+\(\): dev: \S+ port: \d+ (SEND|RECV) mad_got_one=(\d+)/,
    build: (m) => ({ dir: dir(m[1]!), got: Number(m[2]) }),
  },
];

/** IB MAD completion lines (F5) as `ib_mad` events; they are not a heartbeat. */
export const ibMadFamily: LineFamily = {
  name: "ib_mad",
  keys: ["mad_got_one"],
  parse(line: LogLine, base: EventBase): IbMadEvent | null {
    const fields = firstRow(ROWS, line.msg);
    return fields ? eventOf<IbMadEvent>(base, "ib_mad", fields) : null;
  },
};
