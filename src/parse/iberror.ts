import type { EventBase, IbErrorEvent } from "./events.js";
import {
  type Block,
  type BlockFamily,
  eventOf,
  type Feed,
  type FieldsOf,
  type FormatRow,
  firstRow,
  type LineFamily,
} from "./family.js";
import type { LogLine } from "./line.js";

/**
 * FIT completion errors (formats.md F7), mlx4 error completions and EQ events (F8), and the MAD
 * guards (F5), in their April 2018 and HEAD wordings. Rows are anchored at the start of the message
 * (after an optional driver prefix) so that Oops lines and developer notes that name the same
 * functions (`IP: [<...>] fit_poll_cq+0x4ad/0x510`) never count.
 */

type Fields = FieldsOf<IbErrorEvent>;

type Row = FormatRow<Fields>;

/** Every FIT message gained the `fit: ` prefix on 2018-09-11. */
const FIT = "^(?:fit: ?)?";
/** mlx4 messages print bare in April; HEAD adds `<mlx4_ib> FUNC: `, the EQ code may add its own tag. */
const MLX = "^(?:<[\\w-]+> (\\w+): ?|mlx4_\\w+: )?";
const MLX4_CQE = "mlx4_ib_handle_error_cqe";

/**
 * The message of a HEAD `fit_err()` line, after `fit: FUNC()-LINE CPUnn `. The function and CPU are
 * added by the caller; a message not listed here is some other family's (F6 has its own).
 */
const FIT_ERR_ROWS: readonly Row[] = [
  {
    re: /^wc\.status: (.+?), wr_id (-?\d+)$/,
    build: (m) => ({ kind: "wc-status", status: m[1]!, wrId: Number(m[2]) }),
  },
  { re: /^wc\.status: (.+)$/, build: (m) => ({ kind: "wc-status", status: m[1]! }) },
  { re: /^poll_cq error: (-?\d+)/, build: (m) => ({ kind: "poll-failed", code: Number(m[1]) }) },
  {
    // `Err: %d` in the plain send-CQ poll; `err=%d` in its CONFIG_FIT_BATCH_POLL_SEND_CQ twin
    // (fit_internal_poll_sendcq).
    re: /^Fail to poll send_cq\. (?:Err: |err=)(-?\d+)/,
    build: (m) => ({ kind: "poll-failed", code: Number(m[1]) }),
  },
  {
    // fit_send_message_sge(), which sends the ring MRs to the other nodes at boot.
    re: /^Fail to poll CQ\. ret=(-?\d+)/,
    build: (m) => ({ kind: "poll-failed", code: Number(m[1]) }),
  },
  {
    re: /^Fail to post\. ret=(-?\d+)/,
    build: (m) => ({ kind: "fit-error", code: Number(m[1]), detail: m[0] }),
  },
  {
    re: /^conn_id: (\d+) Unknown wc\.opcode: (-?\d+)/,
    build: (m) => ({ kind: "fit-error", connection: Number(m[1]), opcode: Number(m[2]), detail: m[0] }),
  },
  {
    // fit_post_receives_message() says `post_recv conn_id: %d, i: %d, depth: %d`; the socket
    // twin sock_post_receives_message() says `post recv conn_id: %d`. Both WARN_ON(1) after it.
    re: /^Fail to post[ _]recv conn_id: (\d+)/,
    build: (m) => ({ kind: "fit-error", connection: Number(m[1]), detail: m[0] }),
  },
  {
    re: /^(?:Unknown wc\.wc_flags|Wrong index|Unknown wc\.ex\.imm_data)\b.*$/,
    build: (m) => ({ kind: "fit-error", detail: m[0] }),
  },
];

/** `fit: fit_poll_recv_cq()-1878 CPU 4 wc.status: WR flushed, wr_id 12`; the `-LINE` is a source line. */
const FIT_ERR = /^(?:fit: ?)?(\w+)\(\)-\d+ CPU\s*(\d+) (.*)$/;

function fitErr(m: RegExpExecArray): Fields | null {
  const f = firstRow(FIT_ERR_ROWS, m[3]!.trimEnd());
  if (!f) return null;
  f.fn = m[1]!;
  f.cpu = Number(m[2]);
  return f;
}

const ROWS: readonly Row[] = [
  { re: FIT_ERR, build: fitErr },
  {
    // April send-CQ poll; the second number is the ib_wc_status (12 = retry exceeded).
    re: new RegExp(`${FIT}send request failed at connection (\\d+) as (-?\\d+)`),
    build: (m) => ({ kind: "send-failed", connection: Number(m[1]), status: Number(m[2]) }),
  },
  {
    re: new RegExp(`${FIT}poll send_cq failed at connection (\\d+)`),
    build: (m) => ({ kind: "poll-failed", connection: Number(m[1]) }),
  },
  {
    // `fit_poll_cq` in April, `sock_poll_cq` still at HEAD.
    re: new RegExp(`${FIT}(\\w+): failed status \\((-?\\d+)\\) for wr_id (-?\\d+)`),
    build: (m) => ({ kind: "failed-status", fn: m[1]!, status: Number(m[2]), wrId: Number(m[3]) }),
  },
  {
    re: new RegExp(`${FIT}(\\w+): connection (\\d+) Recv weird event as (-?\\d+)`),
    build: (m) => ({ kind: "weird-event", fn: m[1]!, connection: Number(m[2]), opcode: Number(m[3]) }),
  },
  {
    // A post to a QP refused (queue full, QP in a bad state): pr_info_once + WARN_ON_ONCE in
    // fit_send_message_with_rdma_write_with_imm_request() at HEAD, so once per boot.
    re: new RegExp(`${FIT}Fail to post send to con:(\\d+) ret:(-?\\d+)`),
    build: (m) => ({
      kind: "fit-error",
      connection: Number(m[1]),
      code: Number(m[2]),
      detail: m[0].replace(/^fit: ?/, ""),
    }),
  },
  {
    // The same refusal before fit_err (2018): `%s: send fail %d ret %d` (connection, return value),
    // and the older `%s: send fail %d` of the RDMA read/write path. The socket twin
    // sock_send_message_with_rdma_imm() prints the target node instead of a connection. Whole line
    // only: prose that says "send fail" is not this.
    re: new RegExp(`${FIT}(\\w+): send fail (\\d+)(?: ret (-?\\d+))?\\s*$`),
    build: (m) => {
      const f: Fields = { kind: "fit-error", fn: m[1]!, detail: `send fail ${m[2]}` };
      if (m[1]!.startsWith("sock_")) f.destNode = Number(m[2]);
      else f.connection = Number(m[2]);
      if (m[3] !== undefined) f.code = Number(m[3]);
      return f;
    },
  },
  {
    // The recv-CQ poller's errors between the April strings and fit_err (2018-08 to 09-05): plain
    // pr_err, no function or CPU. HEAD prints the same checks through fit_err (FIT_ERR_ROWS).
    re: new RegExp(
      `${FIT}(Wrong index: -?\\d+|Unknown wc\\[i\\]\\.ex\\.imm_data: \\S+|Unknown wc_flags \\S+)\\s*$`,
    ),
    build: (m) => ({ kind: "fit-error", detail: m[1]! }),
  },
  {
    re: new RegExp(`${FIT}Error: cannot find qp number (\\d+)`),
    build: (m) => ({ kind: "fit-error", qpn: Number(m[1]), detail: `cannot find qp number ${m[1]}` }),
  },
  {
    re: new RegExp(`${FIT}poll CQ failed (-?\\d+)`),
    build: (m) => ({ kind: "poll-failed", code: Number(m[1]) }),
  },
  {
    // Must come before the plain syndrome rows: it names a "vendor syndrome" too.
    re: new RegExp(
      `${MLX}local QP operation err \\(QPN ([0-9a-fA-F]+), WQE index [0-9a-fA-F]+, vendor syndrome ([0-9a-fA-F]+), opcode = ([0-9a-fA-F]+)\\)`,
    ),
    build: (m) => ({
      kind: "syndrome",
      fn: m[1] ?? MLX4_CQE,
      syndrome: 2,
      qpn: Number.parseInt(m[2]!, 16),
      detail: `local QP operation err, vendor syndrome ${m[3]}, opcode ${m[4]}`,
    }),
  },
  {
    re: /^<mlx4_ib> (\w+): ?(?:\w+ )?syndrome (\d+)\s*$/,
    build: (m) => ({ kind: "syndrome", fn: m[1]!, syndrome: Number(m[2]) }),
  },
  {
    re: /^(mlx4_\w+):? syndrome (\d+)\s*$/,
    build: (m) => ({ kind: "syndrome", fn: m[1]!, syndrome: Number(m[2]) }),
  },
  {
    re: new RegExp(`${MLX}CQ_ERROR CQ (.+?) on CQN ([0-9a-fA-F]+)`),
    build: (m) => ({ kind: "cq-error", detail: `CQ ${m[2]} on CQN ${m[3]}` }),
  },
  {
    re: new RegExp(`${MLX}EQ overrun on EQN (\\d+)`),
    build: (m) => ({ kind: "eq-overrun", detail: `EQN ${m[2]}` }),
  },
  { re: new RegExp(`${MLX}event PORT_CHANGE_DOWN arrived`), build: () => ({ kind: "port-down" }) },
  {
    // The receive and send guards all start `BUG! mad_list: %p`; the MAD thread exits after it.
    re: /^BUG! mad_list: (.*)$/,
    build: (m) => ({ kind: "mad-guard", detail: `mad_list: ${m[1]!.trimEnd()}` }),
  },
  {
    re: /^(\w+)\(\): WARNING nr_got: (-?\d+)/,
    build: (m) => ({ kind: "mad-warning", fn: m[1]!, code: Number(m[2]) }),
  },
  {
    re: /^(\w+)\(\): WARNING mad_error/,
    build: (m) => ({ kind: "mad-warning", fn: m[1]!, detail: "mad_error" }),
  },
];

/**
 * FIT, mlx4 and MAD-guard error lines (F5, F7, F8) as `ib_error` events. Informational EQ and IRQ lines
 * (`qp_event`, `cq_completion`, `PORT_CHANGE_UP`) give null.
 */
export const ibErrorFamily: LineFamily = {
  name: "ib_error",
  keys: [
    "send request failed at connection",
    "poll send_cq failed",
    "failed status (",
    "Recv weird event as",
    "cannot find qp number",
    "poll CQ failed",
    "wc.status: ",
    "poll_cq error: ",
    "Unknown wc.",
    "Wrong index: ",
    "Fail to post recv",
    "Fail to post_recv",
    "Fail to post send to con:",
    "Fail to post. ret=",
    ": send fail ",
    "Fail to poll send_cq",
    "Fail to poll CQ. ret=",
    "Unknown wc[i].ex.imm_data",
    "Unknown wc_flags ",
    " syndrome ",
    "local QP operation err",
    "CQ_ERROR CQ ",
    "EQ overrun on EQN",
    "PORT_CHANGE_DOWN",
    "BUG! mad_list",
    "WARNING nr_got",
    "WARNING mad_error",
  ],
  parse(line: LogLine, base: EventBase): IbErrorEvent | null {
    const fields = firstRow(ROWS, line.msg);
    return fields ? eventOf<IbErrorEvent>(base, "ib_error", fields) : null;
  },
};

/** Lines after the banner's first all start with five stars. */
const STARS = "*****";
const LEAD = /^\*{5}\s*/;
const FAIL = /^(?:fit: ?)?Fail to (?:to )?get the CQE from send_cq(?: \(([^)]*)\))? after (\d+) seconds/;
const WHERE = /^(?:CPU:\s*(\d+)\s+)?connection_id:\s*(\d+)\s+dest node:\s*(\d+)/;
/** The longest banner (2018-08-27) has seven lines after its first; more means it is not one. */
const MAX_LINES = 8;

/**
 * The "Fail to to get the CQE from send_cq" banner, one printk with embedded newlines: a stamped
 * first line holding only `fit:` (HEAD) or nothing, then unstamped `*****` lines. It opens on the
 * `fit:` line, or on the first `*****` line when the first line was empty (that event has no stamp).
 */
class LostCqeBlock implements Block {
  private lines = 0;
  private failed = false;
  private readonly fields: Fields = { kind: "lost-cqe" };

  constructor(private readonly base: EventBase) {}

  feed(line: LogLine): Feed {
    const msg = line.msg.trimEnd();
    if (line.ts !== null || !msg.startsWith(STARS) || ++this.lines > MAX_LINES) return "end";
    this.read(msg);
    return this.failed && msg === STARS ? "done" : "take";
  }

  /**
   * Takes what a banner line says; the ones that say nothing (`*****`, the NIC advice) are skipped.
   * True for the `Fail to to get the CQE` line.
   */
  read(msg: string): boolean {
    const body = msg.replace(LEAD, "");
    const f = FAIL.exec(body);
    if (f) {
      this.failed = true;
      const ptr = f[1] === undefined ? "" : ` (${f[1]})`;
      this.fields.detail = `no CQE from send_cq${ptr} after ${f[2]} seconds`;
      return true;
    }
    const w = WHERE.exec(body);
    if (w) {
      if (w[1] !== undefined) this.fields.cpu = Number(w[1]);
      this.fields.connection = Number(w[2]);
      this.fields.destNode = Number(w[3]);
    }
    return false;
  }

  close(_cut: boolean): IbErrorEvent[] {
    // A cut banner still reports a lost CQE once its `Fail` line came; without it, it was no banner.
    return this.failed ? [eventOf<IbErrorEvent>(this.base, "ib_error", this.fields)] : [];
  }
}

/** The lost send-CQE banner (F7), every wording since 2018-08-27, as one `lost-cqe` `ib_error` event. */
export const lostCqeFamily: BlockFamily = {
  name: "lost_cqe",
  keys: ["get the CQE from send_cq"],
  exact: ["fit:"],
  open(line: LogLine, base: EventBase): Block | null {
    const msg = line.msg.trim();
    if (msg === "fit:") return new LostCqeBlock(base);
    // Opened on a banner line itself (the first line was empty, or a one-line older wording): read
    // it, since the block only sees the lines after it.
    const block = new LostCqeBlock(base);
    const fail = block.read(msg);
    return fail || msg.startsWith(STARS) ? block : null;
  },
};
