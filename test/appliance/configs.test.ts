// The example configs in appliance/etc/vigil: the compiled binary's `check-config` accepts each one
// with its secrets in the environment, as the units pass them from vigil.env, and refuses it, naming
// the key, when a secret is missing or left empty as in vigil.env.example.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import { BINARY } from "../helpers/vigil-process.ts";

const DIR = resolve(import.meta.dir, "../../appliance/etc/vigil");
const CONFIGS = [
  { file: "overwatch.yaml", mode: "overwatch" },
  { file: "agent.yaml", mode: "agent" },
  { file: "standalone.yaml", mode: "standalone" },
];
const GOSSIP_KEY = Buffer.alloc(32, 7).toString("base64");

/** NAME=value lines of an environment file, as systemd's EnvironmentFile= reads them. */
function envFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

const exampleEnv = envFile(readFileSync(join(DIR, "vigil.env.example"), "utf8"));
const configOf = (file: string) => parse(readFileSync(join(DIR, file), "utf8"));

/** The ${VAR} names in a config's values (not its comments). */
function referenced(file: string): string[] {
  const names: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === "string") names.push(...[...value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!));
    else if (value && typeof value === "object") Object.values(value).forEach(walk);
  };
  walk(configOf(file));
  return names;
}
/** Every variable filled in with a value of the right shape. */
const filledEnv = Object.fromEntries(Object.keys(exampleEnv).map((name) => [name, name === "GOSSIP_KEY" ? GOSSIP_KEY : `${name.toLowerCase()}-secret`]));

function checkConfig(file: string, env: Record<string, string>): { code: number; stdout: string; stderr: string } {
  // Only PATH and the given variables: nothing leaks in from the environment the tests run in.
  const r = Bun.spawnSync([BINARY, "check-config", "--config", join(DIR, file)], {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe("vigil.env.example", () => {
  test("declares exactly the variables the configs use, every one empty (secrets are never shipped)", () => {
    const used = new Set(CONFIGS.flatMap(({ file }) => referenced(file)));
    expect(Object.keys(exampleEnv).sort()).toEqual([...used].sort());
    for (const value of Object.values(exampleEnv)) expect(value).toBe("");
  });
});

describe.each(CONFIGS)("$file", ({ file, mode }) => {
  test(`vigil check-config accepts it (mode ${mode}) with its secrets in the environment`, () => {
    const r = checkConfig(file, filledEnv);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(`valid (${mode} mode`);
    expect(r.code).toBe(0);
  });

  test("every secret is a ${VAR}, never a value in the file", () => {
    const config = configOf(file);
    const secrets: unknown[] = [
      config.gossip?.encryption_key,
      config.api?.token,
      config.identity?.service_token,
      ...Object.values(config.agent_tokens ?? {}),
    ].filter((value) => value !== undefined);
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(secret).toMatch(/^\$\{[A-Z_]+\}$/);
  });

  test("without its variables it is refused, naming each one", () => {
    const r = checkConfig(file, {});
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    for (const name of new Set(referenced(file))) expect(r.stderr).toContain(`environment variable ${name} is not set`);
  });

  test("with vigil.env.example's empty values (an install not yet filled in) it is refused, naming the keys", () => {
    const r = checkConfig(file, exampleEnv);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/expected (a non-empty string|base64 of exactly 32 bytes)/);
    expect(r.stderr).toContain(`${file}: invalid`);
  });

  test("keeps its state in /var/lib/vigil, the one directory the units let vigil write", () => {
    expect(configOf(file).data_dir).toBe("/var/lib/vigil");
  });
});
