// ${VAR} and ${VAR:-default} in string values, applied after YAML parsing so that line numbers stay
// those of the file and a variable's value is never parsed as YAML. "$${" writes a literal "${".

import { errorMessage } from "../lib/errors.ts";
import type { Issues } from "./issues.ts";
import { childPath, itemPath, type Raw } from "./raw.ts";

export type Env = Record<string, string | undefined>;

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([^]*))?$/;

/**
 * Replaces every reference in text. ${VAR:-default} uses the default when VAR is unset or empty.
 * Throws when a variable without default is unset or a reference is malformed.
 */
export function expandEnv(text: string, env: Env): { text: string; substituted: boolean } {
  let out = "";
  let substituted = false;
  const missing: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      out += "${";
      i += 3;
    } else if (text.startsWith("${", i)) {
      const close = text.indexOf("}", i + 2);
      if (close < 0) throw new Error(`unclosed "\${" in ${JSON.stringify(text)}; write $\${ for a literal "\${"`);
      const match = REFERENCE.exec(text.slice(i + 2, close));
      if (!match) {
        throw new Error(`"${text.slice(i, close + 1)}" is not a variable reference; write \${NAME} or \${NAME:-default}`);
      }
      const [, name, fallback] = match;
      const value = env[name!];
      if (fallback !== undefined && (value === undefined || value === "")) out += fallback;
      else if (value === undefined) missing.push(name!);
      else out += value;
      substituted = true;
      i = close + 1;
    } else {
      out += text[i];
      i += 1;
    }
  }
  if (missing.length === 1) throw new Error(`environment variable ${missing[0]} is not set`);
  if (missing.length > 1) throw new Error(`environment variables ${missing.join(", ")} are not set`);
  return { text: out, substituted };
}

/** Expands references in every string scalar of the tree (never in keys), reporting problems by path. */
export function substituteEnv(raw: Raw, env: Env, issues: Issues, path = ""): Raw {
  if (raw.kind === "list") {
    return { ...raw, items: raw.items.map((item, i) => substituteEnv(item, env, issues, itemPath(path, i))) };
  }
  if (raw.kind === "map") {
    const entries = raw.entries.map((entry) => ({
      ...entry,
      value: substituteEnv(entry.value, env, issues, childPath(path, entry.key)),
    }));
    return { ...raw, entries };
  }
  if (typeof raw.value !== "string" || !raw.value.includes("${")) return raw;
  try {
    const { text, substituted } = expandEnv(raw.value, env);
    return { ...raw, value: text, text, fromEnv: substituted };
  } catch (err) {
    issues.add(path, errorMessage(err), raw.line);
    return raw;
  }
}
