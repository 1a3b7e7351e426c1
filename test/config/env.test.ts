import { describe, expect, test } from "bun:test";
import { expandEnv } from "../../src/config/env.ts";
import { parseConfig } from "../../src/config/load.ts";
import { problemsOf, yaml } from "./helpers.ts";

describe("expandEnv", () => {
  const env = { HOST: "db.internal", EMPTY: "", PORT: "5432" };

  test("replaces ${VAR} anywhere in the text", () => {
    expect(expandEnv("${HOST}:${PORT}", env)).toEqual({ text: "db.internal:5432", substituted: true });
  });

  test("${VAR:-default} uses the default when VAR is unset or empty", () => {
    expect(expandEnv("${NOPE:-fallback}", env).text).toBe("fallback");
    expect(expandEnv("${EMPTY:-fallback}", env).text).toBe("fallback");
    expect(expandEnv("${HOST:-fallback}", env).text).toBe("db.internal");
    expect(expandEnv("${NOPE:-}", env).text).toBe("");
  });

  test("a set but empty variable without default is empty", () => {
    expect(expandEnv("[${EMPTY}]", env).text).toBe("[]");
  });

  test("$${ writes a literal ${ and is not a substitution", () => {
    expect(expandEnv("cost: $${HOST} and $5", env)).toEqual({ text: "cost: ${HOST} and $5", substituted: false });
  });

  test("an unset variable is named", () => {
    expect(() => expandEnv("${NOPE}", env)).toThrow("environment variable NOPE is not set");
    expect(() => expandEnv("${A}${B}", env)).toThrow("environment variables A, B are not set");
  });

  test("malformed references are refused", () => {
    expect(() => expandEnv("${HOST", env)).toThrow('unclosed "${" in "${HOST"; write $${ for a literal "${"');
    expect(() => expandEnv("${1X}", env)).toThrow('"${1X}" is not a variable reference; write ${NAME} or ${NAME:-default}');
    expect(() => expandEnv("${HOST-x}", env)).toThrow('"${HOST-x}" is not a variable reference');
  });
});

describe("in a config", () => {
  test("a missing variable names itself, the YAML path and the line", () => {
    expect(problemsOf(yaml("api:", "  token: ${API_TOKEN}"))).toEqual([
      "api.token (line 2): environment variable API_TOKEN is not set",
    ]);
  });

  test("variables fill strings, and numbers and booleans too", () => {
    const text = yaml(
      "identity:",
      "  node_id: ${NODE}-${REGION:-eu}",
      "dns:",
      "  default_ttl: ${TTL}",
      "  listen_address: ${LISTEN:-127.0.0.1:53}",
      "  dnssec:",
      "    enabled: ${DNSSEC:-true}",
    );
    const config = parseConfig(text, { env: { NODE: "dns-1", TTL: "45" } });
    expect(config.identity.node_id).toBe("dns-1-eu");
    expect(config.dns.default_ttl).toBe(45);
    expect(config.dns.listen_address).toEqual([{ host: "127.0.0.1", port: 53 }]);
    expect(config.dns.dnssec.enabled).toBe(true);
  });

  test("a substituted value is still validated, at the line of the reference", () => {
    expect(problemsOf(yaml("mode: standalone", "dns:", "  default_ttl: ${TTL}"), { TTL: "soon" })).toEqual([
      'dns.default_ttl (line 3): expected an integer from 0 to 2147483647, got "soon"',
    ]);
  });

  test("a variable's value is text, never parsed as YAML", () => {
    const config = parseConfig(yaml("api:", "  token: ${TOKEN}"), { env: { TOKEN: "a: [b, c] # d" } });
    expect(config.api.token).toBe("a: [b, c] # d");
  });

  test("a quoted number stays a string without a variable", () => {
    expect(problemsOf(yaml("dns:", '  default_ttl: "30"'))).toEqual([
      'dns.default_ttl (line 2): expected an integer from 0 to 2147483647, got "30"',
    ]);
  });
});
