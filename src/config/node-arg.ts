/** The characters of a node name: letters, digits and `_ . : -`. */
const NAME = "[A-Za-z0-9_.:-]+";
/** A node name, as the config and every `NAME=...` argument take it. */
export const NODE_NAME = new RegExp(`^${NAME}$`);
const ASSIGNMENT = new RegExp(`^(${NAME})=(.+)$`);

/** `NAME=VALUE` with a node name before the `=`: `{ name, value }`, or null for anything else. */
export function nodeAssignment(arg: string): { name: string; value: string } | null {
  const m = ASSIGNMENT.exec(arg);
  return m ? { name: m[1]!, value: m[2]! } : null;
}
