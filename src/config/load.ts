import { existsSync, readFileSync } from "node:fs";
import { LineCounter, parseDocument } from "yaml";
import { parseSourceUri, UriError } from "../sources/uri.js";
import { type Config, ConfigSchema } from "./schema.js";

/** The config file read when none is named and it exists. */
export const DEFAULT_CONFIG = "legowatch.yaml";

/** A config file that cannot be used; the message names the file, the line and the key at fault. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads and checks a YAML config file. */
export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`${path}: ${(err as Error).message}`);
  }
  return parseConfig(text, path);
}

/** The named config, else `./legowatch.yaml` when present, else none. */
export function findConfig(named?: string): Config | undefined {
  if (named) return loadConfig(named);
  return existsSync(DEFAULT_CONFIG) ? loadConfig(DEFAULT_CONFIG) : undefined;
}

/** Checks config text; an error names the file, the line, the key path and the problem, on one line. */
export function parseConfig(text: string, path = "config"): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const where = (keys: readonly PropertyKey[]): string => {
    // The deepest node that exists, so an unknown or mistyped key points at its own line.
    for (let n = keys.length; n >= 0; n--) {
      const node = doc.getIn(keys.slice(0, n) as (string | number)[], true) as
        | { range?: [number, number, number] }
        | undefined;
      if (node?.range) return `${path}:${lines.linePos(node.range[0]).line}`;
    }
    return path;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError(
      `${path}:${e.linePos?.[0]?.line ?? "?"}: not valid YAML: ${e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`,
    );
  }
  const r = ConfigSchema.safeParse(doc.toJS() ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const unknown = "keys" in issue && Array.isArray(issue.keys) ? (issue.keys as string[]).slice(0, 1) : [];
    const keys: PropertyKey[] = [...issue.path, ...unknown];
    const key = keys.length > 0 ? keys.join(".") : "(top level)";
    throw new ConfigError(`${where(keys)}: ${key}: ${issue.message}`);
  }
  for (const [i, node] of (r.data.nodes ?? []).entries()) {
    try {
      parseSourceUri(node.source);
    } catch (err) {
      if (err instanceof UriError)
        throw new ConfigError(`${where(["nodes", i, "source"])}: nodes.${i}.source: ${err.message}`);
      throw err;
    }
  }
  return r.data;
}
