// Reading a config: YAML → raw tree → ${ENV} → schema walk → cross-field rules → Config.
// Every problem found on the way is collected and thrown together as one ConfigErrors.

import { readFileSync } from "node:fs";
import { LineCounter, parseDocument } from "yaml";
import { ConfigError, ConfigErrors, errorMessage } from "../lib/errors.ts";
import { type Env, substituteEnv } from "./env.ts";
import { Issues } from "./issues.ts";
import { fromYaml } from "./raw.ts";
import { applyRules } from "./rules.ts";
import { configSchema } from "./schema.ts";
import type { Config } from "./types.ts";
import { readNode } from "./walk.ts";

export interface ParseOptions {
  /** Variables for ${VAR}; process.env when not given. */
  env?: Env;
  /** File name, shown in place of a YAML path in syntax errors (which have none). */
  source?: string;
}

/** Parses and validates config text; throws ConfigErrors listing every problem found. */
export function parseConfig(text: string, opts: ParseOptions = {}): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigErrors(
      doc.errors.map((error) => new ConfigError(opts.source ?? "", lines.linePos(error.pos[0]).line, `YAML syntax error: ${error.message}`)),
    );
  }
  const issues = new Issues();
  const raw = substituteEnv(fromYaml(doc, lines, issues), opts.env ?? process.env, issues);
  const config = readNode(configSchema, raw, "", issues) as Config;
  if (issues.errors.length === 0) applyRules(config, issues);
  if (issues.errors.length > 0) throw new ConfigErrors(issues.sorted());
  return config;
}

/** Reads and parses a config file; an unreadable file is a ConfigErrors too, naming the path. */
export function loadConfigFile(path: string, env: Env = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigErrors([new ConfigError("", undefined, `cannot read ${path}: ${errorMessage(err)}`)]);
  }
  return parseConfig(text, { env, source: path });
}
