// Shared by the config tests: build YAML line by line (so line numbers are plain to see) and collect
// the messages of a refused config.

import type { Env } from "../../src/config/env.ts";
import { parseConfig } from "../../src/config/load.ts";
import { ConfigErrors } from "../../src/lib/errors.ts";

/** A valid gossip key: base64 of 32 bytes. */
export const GOSSIP_KEY = Buffer.alloc(32, 7).toString("base64");

/** Joins lines into a YAML document; line N of the file is argument N. */
export function yaml(...lines: string[]): string {
  return lines.join("\n") + "\n";
}

/** The messages of the ConfigErrors the text is refused with; fails the test when it loads. */
export function problemsOf(text: string, env: Env = {}): string[] {
  try {
    parseConfig(text, { env });
  } catch (err) {
    if (err instanceof ConfigErrors) return err.errors.map((error) => error.message);
    throw err;
  }
  throw new Error("expected the config to be refused, but it loaded");
}
