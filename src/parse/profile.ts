import type { EventBase, ProfileEvent } from "./events.js";
import { type Block, type BlockFamily, eventOf, type Feed } from "./family.js";
import type { LogLine } from "./line.js";

/**
 * The `Kernel Profile Points` table (formats.md F19): title, header, separator, one row per point,
 * separator. Every line is its own printk, so each has a stamp.
 */

type Row = ProfileEvent["rows"][number];

const TITLE = /^\s*Kernel Profile Points\s*$/;
// The name column is `%Ns` after a 7-wide status and two blanks, so its width is the run of blanks
// before `name` plus the four letters, less those two blanks: 20, 30 or 35 depending on the version.
const HEADER = /^ *status( +)name +total(?:\(s\))? +nr +avg(?:\.ns|\(ns\)) *$/i;
const SEPARATOR = /^------- {2}-+ {2}-+ {2}-+ {2}-+\s*$/;
// `"%s  %Ns  %6Ld.%09Ld  %16ld  %16ld"`; some captures carry trailing blanks.
const ROW = /^ *(on|off) +(\S+) +(\d+)\.(\d{9}) +(-?\d+) +(-?\d+)\s*$/;

const NS_PER_S = 1_000_000_000n;

/** Where a table is: after its title, its header, its first separator (the rows), or done. */
type State = "title" | "header" | "rows";

/** One table being collected. */
class ProfileBlock implements Block {
  private state: State = "title";
  private nameWidth = 0;
  private complete = false;
  private readonly rows: Row[] = [];

  constructor(private readonly base: EventBase) {}

  feed(line: LogLine): Feed {
    const msg = line.msg;
    switch (this.state) {
      case "title": {
        const m = HEADER.exec(msg);
        if (!m) return "end";
        this.nameWidth = m[1]!.length + 2;
        this.state = "header";
        return "take";
      }
      case "header":
        if (!SEPARATOR.test(msg)) return "end";
        this.state = "rows";
        return "take";
      case "rows": {
        if (SEPARATOR.test(msg)) {
          this.complete = true;
          return "done";
        }
        const m = ROW.exec(msg);
        if (!m) return "end";
        this.rows.push({
          name: m[2]!,
          on: m[1] === "on",
          totalNs: BigInt(m[3]!) * NS_PER_S + BigInt(m[4]!),
          count: BigInt(m[5]!),
          avgNs: BigInt(m[6]!),
        });
        return "take";
      }
    }
  }

  close(): ProfileEvent[] {
    // A title with no header could be anything; from the header on it is a table, whole or not.
    if (this.state === "title") return [];
    const e = eventOf<ProfileEvent>(this.base, "profile", { nameWidth: this.nameWidth, rows: this.rows });
    if (!this.complete) e.truncated = true;
    return [e];
  }
}

/**
 * Profile tables in all three name widths. A table that stops before its closing separator (the log
 * ended, the node went quiet, or a foreign line came) is still emitted, `truncated`, with the rows
 * so far, as long as its header came; a bare title gives nothing, and so do rows without a title.
 */
export const profileFamily: BlockFamily = {
  name: "profile",
  keys: ["Kernel Profile Points"],
  open(line: LogLine, base: EventBase): Block | null {
    return TITLE.test(line.msg) ? new ProfileBlock(base) : null;
  },
};
