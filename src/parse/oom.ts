import type { EventBase, OomEvent } from "./events.js";
import { eventOf, type FieldsOf, type FormatRow, firstRow, type LineFamily } from "./family.js";
import type { LogLine } from "./line.js";

/**
 * The OOM killer's verdict (Linux mm/oom_kill.c), one line in every generation:
 *
 * - 2.6.32-4.x: `Out of memory: Kill process %d (%s) score %u or sacrifice child`, then a second line,
 *   `Killed process %d (%s) total-vm:...`, about the same kill (not counted again);
 * - 5.x on: `Out of memory: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, ...`;
 * - a memory cgroup at its limit says `Memory cgroup out of memory: ...` instead, and the sysctl
 *   `oom_kill_allocating_task` makes it `Out of memory (oom_kill_allocating_task): ...`.
 *
 * A comm may hold blanks and parentheses, so it is the shortest run that what follows confirms.
 */

type Fields = FieldsOf<OomEvent>;

const ROWS: readonly FormatRow<Fields>[] = [
  {
    re: /^(Memory cgroup )?[Oo]ut of memory(?: \(oom_kill_allocating_task\))?: Kill(?:ed)? process (\d+) \((.{0,16}?)\)(?: score (\d+)| total-vm:(\d+)kB, anon-rss:(\d+)kB|[ .,]|$)/,
    build: (m) => {
      const f: Fields = { pid: Number(m[2]), comm: m[3]! };
      if (m[1]) f.cgroup = true;
      if (m[4]) f.score = Number(m[4]);
      if (m[5]) f.totalVmKb = Number(m[5]);
      if (m[6]) f.anonRssKb = Number(m[6]);
      return f;
    },
  },
];

/** The OOM killer's kills as `oom` events. */
export const oomFamily: LineFamily = {
  name: "oom",
  keys: ["ut of memory: Kill", "oom_kill_allocating_task): Kill"],
  parse(line: LogLine, base: EventBase): OomEvent | null {
    const fields = firstRow(ROWS, line.msg);
    return fields ? eventOf<OomEvent>(base, "oom", fields) : null;
  },
};
