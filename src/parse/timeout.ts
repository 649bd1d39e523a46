import type { EventBase, TimeoutEvent } from "./events.js";
import type { Block, BlockFamily, Feed } from "./family.js";
import { eventOf, fnOf } from "./family.js";
import type { LogLine } from "./line.js";

/**
 * FIT RPC timeouts (formats.md F6): the timeout line and the optional follow-up from
 * `net_send_reply_timeout()` that names the real caller.
 */

/** One timeout wording: its regex and the fields its captures give. */
interface Format {
  re: RegExp;
  build(m: RegExpExecArray): Pick<TimeoutEvent, "fn" | "ms" | "caller"> & { cpu?: number; pid?: number };
}

// The `fit: ` prefix came with a shared pr_fmt on 2018-09-11.
const FORMATS: readonly Format[] = [
  {
    re: /^(?:fit: )?ibapi_send_reply\(\) polling timeout \((\d+) ms\), caller: (\S+)\s*$/,
    build: (m) => ({ fn: "ibapi_send_reply", ms: Number(m[1]), caller: m[2]! }),
  },
  {
    // `ibapi_send_reply() CPU:...` and the multicast form, whose `%s` is the function's name.
    re: /^(?:fit: )?(\S+?)(?:\(\))? CPU:(\d+) PID:(\d+) timeout \((\d+) ms\), caller: (\S+)\s*$/,
    build: (m) => ({ fn: m[1]!, cpu: Number(m[2]), pid: Number(m[3]), ms: Number(m[4]), caller: m[5]! }),
  },
];

// Two blanks and CPU/PID from 2018-03-20 (`b24c566b`), one blank and no CPU/PID before.
const FOLLOW_UP = /^\s+\w+\(\) (?:CPU:\d+ PID:\d+ )?caller: (\S+)\s*$/;

/** A timeout line waiting one line for its follow-up. */
class TimeoutBlock implements Block {
  constructor(private readonly e: TimeoutEvent) {}

  feed(line: LogLine): Feed {
    const m = FOLLOW_UP.exec(line.msg);
    if (!m) return "end";
    this.e.via = m[1]!;
    return "done";
  }

  close(): TimeoutEvent[] {
    return [this.e];
  }
}

/**
 * `ibapi_send_reply() CPU:%d PID:%d timeout (%u ms), caller: %pS`, its `polling timeout` variant and
 * the multicast form, each with or without `fit: `. The block is at most two lines: the next line
 * is taken only when it is the `net_send_reply_timeout()` follow-up, whose caller becomes `via`.
 */
export const timeoutFamily: BlockFamily = {
  name: "timeout",
  keys: ["timeout ("],
  open(line: LogLine, base: EventBase): Block | null {
    for (const f of FORMATS) {
      const m = f.re.exec(line.msg);
      if (!m) continue;
      const fields = f.build(m);
      const e = eventOf<TimeoutEvent>(base, "timeout", fields);
      e.callerFn = fnOf(fields.caller);
      return new TimeoutBlock(e);
    }
    return null;
  },
};
