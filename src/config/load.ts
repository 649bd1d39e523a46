import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { type Config, ConfigSchema } from "./schema.js";

/** A config file that cannot be used; the message names the file and what is wrong in it. */
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

/** Checks config text; errors name the file, the key path and the problem on one line. */
export function parseConfig(text: string, path = "config"): Config {
  let data: unknown;
  try {
    data = parse(text) ?? {};
  } catch (err) {
    throw new ConfigError(`${path}: not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  const r = ConfigSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
    throw new ConfigError(`${path}: ${where}: ${issue.message}`);
  }
  return r.data;
}
