import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import { problemsOf, yaml } from "./helpers.ts";

/** A config with one service whose health_check is the given lines (indented under it). */
const withCheck = (...lines: string[]) =>
  yaml(
    "dns:",
    "  zones: [example.com]",
    "services:",
    "  - name: app",
    "    backends: [{address: 192.0.2.1}]",
    "    health_check:",
    ...lines.map((line) => `      ${line}`),
  );

const checkOf = (...lines: string[]) => parseConfig(withCheck(...lines), { env: {} }).services[0]!.health_check;

describe("health_check variants", () => {
  test("http is the default type, with its defaults", () => {
    expect(checkOf("interval: 10s")).toEqual({
      type: "http",
      interval: 10_000,
      timeout: 2_000,
      failure_threshold: 3,
      success_threshold: 2,
      method: "GET",
      path: "/",
      expect_status: [{ from: 200, to: 399 }],
      tls_verify: true,
    });
  });

  test("expect_status takes one code, one range or a list of both", () => {
    expect(checkOf("expect_status: 204")).toMatchObject({
      expect_status: [{ from: 204, to: 204 }],
    });
    expect(checkOf('expect_status: [200, "300-302"]')).toMatchObject({
      expect_status: [
        { from: 200, to: 200 },
        { from: 300, to: 302 },
      ],
    });
    expect(problemsOf(withCheck('expect_status: "399-200"'))).toEqual([
      'services[0].health_check.expect_status (line 7): expected an HTTP status or range such as "200-399", got "399-200"',
    ]);
  });

  test("https, tcp, icmp, script and dns", () => {
    expect(checkOf("type: https", "sni: app.example.com", "tls_verify: false")).toMatchObject({
      type: "https",
      sni: "app.example.com",
      tls_verify: false,
    });
    expect(checkOf("type: tcp", "send: PING", "expect: PONG")).toMatchObject({ type: "tcp", send: "PING", expect: "PONG" });
    expect(checkOf("type: icmp")).toEqual({ type: "icmp", interval: 5_000, timeout: 2_000, failure_threshold: 3, success_threshold: 2 });
    expect(checkOf("type: script", "command: [/usr/local/bin/check, --port, 8080]")).toMatchObject({
      type: "script",
      command: ["/usr/local/bin/check", "--port", "8080"],
      max_output: 4096,
    });
    expect(checkOf("type: dns", "query_name: Health.Example.com.")).toMatchObject({
      type: "dns",
      query_name: "health.example.com",
      query_type: "A",
      expect_rcode: "NOERROR",
    });
  });

  test("a key of another type is an unknown key saying where it belongs", () => {
    expect(problemsOf(withCheck("type: tcp", "path: /health"))).toEqual([
      "services[0].health_check.path (line 8): unknown key: it applies to type http, https, not tcp",
    ]);
  });

  test("an unknown type lists the known ones", () => {
    expect(problemsOf(withCheck("type: htp"))).toEqual([
      'services[0].health_check.type (line 7): expected one of http, https, tcp, icmp, script, dns, got "htp"; did you mean "http"?',
    ]);
  });

  test("a script command is a list, never a shell string", () => {
    expect(problemsOf(withCheck("type: script", "command: curl -f http://localhost/"))).toEqual([
      'services[0].health_check.command (line 8): expected a list: command and arguments, never a shell string, got "curl -f http://localhost/"',
    ]);
    expect(problemsOf(withCheck("type: script", "command: []"))).toEqual([
      "services[0].health_check.command (line 8): expected at least 1 item, got 0",
    ]);
    expect(problemsOf(withCheck("type: script"))).toEqual(["services[0].health_check.command (line 6): required, but not set"]);
  });

  test("the timeout must be shorter than the interval, thresholds at least 1", () => {
    expect(problemsOf(withCheck("interval: 2s", "timeout: 2s", "failure_threshold: 0"))).toEqual([
      "services[0].health_check.timeout (line 8): must be shorter than interval (2s is not below 2s)",
      "services[0].health_check.failure_threshold (line 9): expected an integer of at least 1, got 0",
    ]);
  });

  test("a backend may override the service's check", () => {
    const text = yaml(
      "dns:",
      "  zones: [example.com]",
      "services:",
      "  - name: app",
      "    backends:",
      "      - address: 192.0.2.1",
      "        check_address: 10.0.0.1",
      "        check_port: 9000",
      "        health_check: {type: tcp}",
    );
    expect(parseConfig(text, { env: {} }).services[0]!.backends[0]).toMatchObject({
      check_address: "10.0.0.1",
      check_port: 9000,
      health_check: { type: "tcp" },
    });
  });
});
