import type { EventBase, ProcessEvent } from "./events.js";
import { eventOf, type FieldsOf, type FormatRow, firstRow, type LineFamily } from "./family.js";
import type { LogLine } from "./line.js";

/**
 * Process lifecycle lines (formats.md F22): the `p2m_fork` debug and error lines, April's `newpid:`
 * and the `exited with preempt_count` note. A comm may hold `-` and blanks (`exe.o`,
 * `word_count-pthr`), so `cur:%d-%s new:%d` takes it as the shortest run that ` new:N` at the end
 * of the line confirms.
 */

type Fields = FieldsOf<ProcessEvent>;

type Row = FormatRow<Fields>;

/** `cur:%d-%s new:%d` at the end of a fork line. */
const CUR = "cur:(\\d+)-(.{0,16}?) new:(\\d+)\\s*$";

const fork = (what: "fork-start" | "fork-done", m: RegExpExecArray): Fields => ({
  what,
  cpu: Number(m[1]),
  pid: Number(m[2]),
  comm: m[3]!,
  child: Number(m[4]),
});

const forkError = (m: RegExpExecArray): Fields => ({
  what: "fork-error",
  detail: `${m[1]}:${m[2]}`,
  pid: Number(m[3]),
  comm: m[4]!,
  child: Number(m[5]),
});

const ROWS: readonly Row[] = [
  { re: new RegExp(`^\\w+\\(cpu(\\d+)\\): I ${CUR}`), build: (m) => fork("fork-start", m) },
  { re: new RegExp(`^\\w+\\(cpu(\\d+)\\): O succeed ${CUR}`), build: (m) => fork("fork-done", m) },
  // April: the RPC failed (`net`) or M refused (`reply`); HEAD folds both into `ret`.
  { re: new RegExp(`^\\w+\\(\\):\\. (?:net|ret) (-?\\d+):(.*?) ${CUR}`), build: forkError },
  { re: new RegExp(`^\\w+\\(\\): reply (-?\\d+):(.*?)\\. ${CUR}`), build: forkError },
  {
    re: /^newpid: (\d+) home:\s*(\d+) replica:\s*(\d+)/,
    build: (m) => ({ what: "newpid", pid: Number(m[1]), home: Number(m[2]), replica: Number(m[3]) }),
  },
  {
    re: /^note: (.{1,16}?)\[(\d+)\] exited with preempt_count (-?\d+)/,
    build: (m) => ({ what: "exit-note", comm: m[1]!, pid: Number(m[2]), detail: `preempt_count ${m[3]}` }),
  },
];

/** Fork, newpid and exit-note lines (F22) as `process` events. */
export const processFamily: LineFamily = {
  name: "process",
  keys: ["p2m_fork(", "newpid: ", "exited with preempt_count"],
  parse(line: LogLine, base: EventBase): ProcessEvent | null {
    const fields = firstRow(ROWS, line.msg);
    return fields ? eventOf<ProcessEvent>(base, "process", fields) : null;
  },
};
