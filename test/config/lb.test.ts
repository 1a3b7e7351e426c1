// lb.servers: what each key becomes (the shapes in config/types.ts), the defaults, every refusal with
// its path and line, and the JSON form the API reads, shows and stores.

import { describe, expect, test } from "bun:test";
import { lbServerToPlain, parseLbServer } from "../../src/config/lb-plain.ts";
import { parseConfig } from "../../src/config/load.ts";
import { bindsOverlap } from "../../src/config/schema-lb.ts";
import type { LbServerConfig } from "../../src/config/types.ts";
import { ConfigErrors } from "../../src/lib/errors.ts";
import { problemsOf, yaml } from "./helpers.ts";

const servers = (text: string) => parseConfig(text, { env: {} }).lb.servers;

/** A config with one server whose keys are the given lines (indented under "- "). */
const oneServer = (...lines: string[]) => yaml("lb:", "  servers:", ...lines.map((line, i) => (i === 0 ? `    - ${line}` : `      ${line}`)));

const DEFAULTS = {
  protocol: "tcp",
  balance: "weight",
  max_connections: 0,
  client_idle_timeout: 0,
  backend_idle_timeout: 0,
  backend_connection_timeout: 5000,
  connect_retries: 2,
  access: { default: "allow", rules: [] },
  udp: { session_timeout: 30_000, max_requests: 0, max_replies: 0 },
} satisfies Omit<LbServerConfig, "name" | "bind" | "backends">;

describe("lb.servers: what loads", () => {
  test("no lb section: no servers", () => {
    expect(parseConfig("{}", { env: {} }).lb).toEqual({ servers: [] });
  });

  test("a server with only name, bind and a source gets every default", () => {
    expect(servers(oneServer("name: web", "bind: 0.0.0.0:8080", "service: app"))).toEqual([
      { name: "web", bind: { host: "0.0.0.0", port: 8080 }, ...DEFAULTS, backends: { kind: "service", service: "app" } },
    ]);
  });

  test("every key of a tcp server, as the issue's example writes them", () => {
    const [web] = servers(
      oneServer(
        "name: web",
        "bind: 0.0.0.0:8080",
        "protocol: tcp",
        "balance: leastconn",
        "max_connections: 1000",
        "client_idle_timeout: 1m",
        "backend_idle_timeout: 90s",
        "backend_connection_timeout: 1500ms",
        "connect_retries: 0",
        "proxy_protocol: { version: 2 }",
        "sni: { routes: [ { server_names: [B.example.com], static: ['10.0.0.5:443'] } ], unexpected_hostname: deny, read_timeout: 3s }",
        "backends_tls: { verify: false, server_name: backend.example.com, ca_path: /etc/vigil/ca.pem }",
        'access: { default: deny, rules: ["deny 10.0.0.0/8", "allow 0.0.0.0/0", "allow 2001:db8::1"] }',
        'static: ["127.0.0.1:8001 weight=3", "127.0.0.1:8002", "[::1]:8003 weight=0"]',
        "healthcheck: { kind: ping, interval: 5s, timeout: 1s, fails: 3, passes: 2 }",
      ),
    );
    expect(web).toEqual({
      name: "web",
      bind: { host: "0.0.0.0", port: 8080 },
      protocol: "tcp",
      balance: "leastconn",
      max_connections: 1000,
      client_idle_timeout: 60_000,
      backend_idle_timeout: 90_000,
      backend_connection_timeout: 1500,
      connect_retries: 0,
      proxy_protocol: { version: 2 },
      sni: {
        routes: [{ server_names: ["b.example.com"], backends: { kind: "static", backends: [{ address: "10.0.0.5", port: 443, weight: 1 }] } }],
        unexpected_hostname: "deny",
        read_timeout: 3000,
      },
      backends_tls: { verify: false, server_name: "backend.example.com", ca_path: "/etc/vigil/ca.pem" },
      access: {
        default: "deny",
        rules: [
          { action: "deny", network: "10.0.0.0/8" },
          { action: "allow", network: "0.0.0.0/0" },
          { action: "allow", network: "2001:db8::1/128" },
        ],
      },
      udp: DEFAULTS.udp,
      backends: {
        kind: "static",
        backends: [
          { address: "127.0.0.1", port: 8001, weight: 3 },
          { address: "127.0.0.1", port: 8002, weight: 1 },
          { address: "::1", port: 8003, weight: 0 },
        ],
      },
      healthcheck: { kind: "ping", interval: 5000, timeout: 1000, fails: 3, passes: 2 },
    } satisfies LbServerConfig);
  });

  test("tls with certificates chosen by name, and an SNI route discovered by SRV with its defaults", () => {
    const [site] = servers(
      oneServer(
        "name: site",
        "bind: '[::]:443'",
        "protocol: tls",
        "tls:",
        "  certificates:",
        "    - { cert_path: /etc/vigil/a.pem, key_path: /etc/vigil/a.key }",
        "    - { cert_path: /etc/vigil/b.pem, key_path: /etc/vigil/b.key, server_names: [b.example.com, c.example.com] }",
        "sni:",
        "  routes:",
        "    - server_names: [api.example.com]",
        "      srv: { lookup_server: 127.0.0.1:53, pattern: _http._tcp.api.example.com }",
        "service: app.gslb.example.com",
      ),
    );
    expect(site!.bind).toEqual({ host: "::", port: 443 });
    expect(site!.tls).toEqual({
      certificates: [
        { cert_path: "/etc/vigil/a.pem", key_path: "/etc/vigil/a.key", server_names: [] },
        { cert_path: "/etc/vigil/b.pem", key_path: "/etc/vigil/b.key", server_names: ["b.example.com", "c.example.com"] },
      ],
    });
    expect(site!.sni).toEqual({
      routes: [
        {
          server_names: ["api.example.com"],
          backends: {
            kind: "srv",
            lookup_server: { host: "127.0.0.1", port: 53 },
            pattern: "_http._tcp.api.example.com",
            interval: 10_000,
            timeout: 2000,
            failpolicy: "keeplast",
          },
        },
      ],
      unexpected_hostname: "default",
      read_timeout: 2000,
    });
    expect(site!.backends).toEqual({ kind: "service", service: "app.gslb.example.com" });
  });

  test("udp with its session settings, SRV with failpolicy setempty; a healthcheck with only defaults", () => {
    const [dns] = servers(
      oneServer(
        "name: dns",
        "bind: 127.0.0.1:5300",
        "protocol: udp",
        "udp: { session_timeout: 5s, max_replies: 1 }",
        "srv: { lookup_server: '[::1]:53', pattern: _dns._udp.example.com, interval: 30s, timeout: 3s, failpolicy: setempty }",
        "healthcheck: {}",
      ),
    );
    expect(dns!.udp).toEqual({ session_timeout: 5000, max_requests: 0, max_replies: 1 });
    expect(dns!.backends).toEqual({
      kind: "srv",
      lookup_server: { host: "::1", port: 53 },
      pattern: "_dns._udp.example.com",
      interval: 30_000,
      timeout: 3000,
      failpolicy: "setempty",
    });
    expect(dns!.healthcheck).toEqual({ kind: "ping", interval: 2000, timeout: 500, fails: 1, passes: 1 });
  });

  test("a service no services[] entry names loads: agents may register it at run time", () => {
    expect(servers(oneServer("name: web", "bind: 127.0.0.1:0", "service: not-configured"))[0]!.backends).toEqual({
      kind: "service",
      service: "not-configured",
    });
  });

  test("servers may share a port on another transport, on other addresses, or when the OS picks it (port 0)", () => {
    const text = yaml(
      "lb:",
      "  servers:",
      "    - { name: a, bind: 0.0.0.0:53, protocol: tcp, service: dns }",
      "    - { name: b, bind: 0.0.0.0:53, protocol: udp, service: dns }",
      "    - { name: c, bind: 127.0.0.1:8080, service: app }",
      "    - { name: d, bind: 127.0.0.2:8080, service: app }",
      "    - { name: e, bind: 127.0.0.1:0, service: app }",
      "    - { name: f, bind: 127.0.0.1:0, service: app }",
    );
    expect(servers(text).map((s) => s.name)).toEqual(["a", "b", "c", "d", "e", "f"]);
  });
});

describe("lb.servers: what is refused, by path and line", () => {
  test("no backend source, or two of them, on a server and on an SNI route", () => {
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:80"))).toEqual([
      "lb.servers[0].service (line 3): no backends: give exactly one of service, static or srv",
    ]);
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:80", "service: app", "static: ['10.0.0.1:80']"))).toEqual([
      "lb.servers[0].static (line 6): give only one of service, static or srv (service is set too)",
    ]);
    expect(
      problemsOf(oneServer("name: web", "bind: 127.0.0.1:80", "service: app", "sni: { routes: [ { server_names: [a.example.com], service: a, srv: { lookup_server: 127.0.0.1:53, pattern: x.example.com } } ] }")),
    ).toEqual(["lb.servers[0].sni.routes[0].srv (line 6): give only one of service, static or srv (service is set too)"]);
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:80", "service: app", "sni: { routes: [ { server_names: [a.example.com] } ] }"))).toEqual([
      "lb.servers[0].sni.routes[0].service (line 6): no backends: give exactly one of service, static or srv",
    ]);
  });

  test("protocol tls without tls; tls on tcp and udp; udp settings on tcp", () => {
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:443", "protocol: tls", "service: app"))).toEqual([
      "lb.servers[0].tls (line 3): required with protocol tls: the certificates to terminate TLS with",
    ]);
    const tls = "tls: { certificates: [ { cert_path: a.pem, key_path: a.key } ] }";
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:443", tls, "service: app"))).toEqual([
      "lb.servers[0].tls (line 5): only used with protocol tls, not tcp (a tcp server passes TLS through untouched, and sni can route it)",
    ]);
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:443", "protocol: udp", tls, "service: app"))).toEqual([
      "lb.servers[0].tls (line 6): only used with protocol tls, not udp",
    ]);
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:80", "udp: { max_replies: 1 }", "service: app"))).toEqual([
      "lb.servers[0].udp (line 5): only used with protocol udp, not tcp",
    ]);
  });

  test("sni, backends_tls and PROXY v1 on udp; PROXY v2 is allowed there", () => {
    expect(
      problemsOf(
        oneServer(
          "name: dns",
          "bind: 127.0.0.1:53",
          "protocol: udp",
          "service: dns",
          "sni: { routes: [ { server_names: [a.example.com], service: a } ] }",
          "backends_tls: {}",
          "proxy_protocol: { version: 1 }",
        ),
      ),
    ).toEqual([
      "lb.servers[0].sni (line 7): not available with protocol udp: no TLS server name to route on over udp",
      "lb.servers[0].backends_tls (line 8): not available with protocol udp: TLS towards backends needs tcp",
      "lb.servers[0].proxy_protocol (line 9): version 1 is a line of text for TCP streams; over udp use version 2 (a header on every datagram)",
    ]);
    expect(servers(oneServer("name: dns", "bind: 127.0.0.1:53", "protocol: udp", "static: [127.0.0.1:5353]", "proxy_protocol: { version: 2 }"))[0]!.proxy_protocol).toEqual({ version: 2 });
  });

  test("a name twice; a bind twice, also where one listens on every address, and tcp against tls", () => {
    const twice = (a: string, b: string) =>
      problemsOf(yaml("lb:", "  servers:", `    - { name: a, bind: "${a}", service: app }`, `    - { name: b, bind: "${b}", protocol: tls, tls: { certificates: [ { cert_path: c, key_path: k } ] }, service: app }`));
    expect(twice("127.0.0.1:80", "127.0.0.1:80")).toEqual(["lb.servers[1].bind (line 4): 127.0.0.1:80 (tls) overlaps lb.servers[0] (a, 127.0.0.1:80)"]);
    expect(twice("0.0.0.0:80", "127.0.0.1:80")).toEqual(["lb.servers[1].bind (line 4): 127.0.0.1:80 (tls) overlaps lb.servers[0] (a, 0.0.0.0:80)"]);
    expect(twice("[::1]:80", "[::]:80")).toEqual(["lb.servers[1].bind (line 4): [::]:80 (tls) overlaps lb.servers[0] (a, [::1]:80)"]);
    expect(problemsOf(yaml("lb:", "  servers:", "    - { name: web, bind: 127.0.0.1:80, service: a }", "    - { name: web, bind: 127.0.0.1:81, service: b }"))).toEqual([
      "lb.servers[1] (line 4): duplicate server web (also at lb.servers[0])",
    ]);
  });

  test("a check or lookup timeout not below its interval", () => {
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:80", "service: app", "healthcheck: { interval: 1s, timeout: 1s }"))).toEqual([
      "lb.servers[0].healthcheck.timeout (line 6): must be shorter than interval (1s is not below 1s)",
    ]);
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:80", "srv: { lookup_server: 127.0.0.1:53, pattern: a.example.com, interval: 1s }"))).toEqual([
      "lb.servers[0].srv.timeout (line 5): must be shorter than interval (2s is not below 1s)",
    ]);
  });

  test("access rules: a bad CIDR, host bits set, a word that is not allow or deny", () => {
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:80", "service: app", 'access: { rules: ["deny 10.0.0.0/33", "allow 10.0.0.1/8", "permit 10.0.0.0/8", "deny"] }'))).toEqual([
      'lb.servers[0].access.rules[0] (line 6): expected a CIDR such as "10.0.0.0/8", got "10.0.0.0/33": prefix must be 0 to 32',
      'lb.servers[0].access.rules[1] (line 6): expected a CIDR such as "10.0.0.0/8", got "10.0.0.1/8": host bits are set; the network is 10.0.0.0/8',
      'lb.servers[0].access.rules[2] (line 6): expected "allow CIDR" or "deny CIDR", such as "deny 10.0.0.0/8", got "permit 10.0.0.0/8"',
      'lb.servers[0].access.rules[3] (line 6): expected "allow CIDR" or "deny CIDR", such as "deny 10.0.0.0/8", got "deny"',
    ]);
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:80", "service: app", "access: { default: maybe }"))).toEqual([
      'lb.servers[0].access.default (line 6): expected one of allow, deny, got "maybe"',
    ]);
  });

  test("static backends: a name, port 0, a bad weight, an unknown option, the same backend twice", () => {
    expect(
      problemsOf(oneServer("name: web", "bind: 127.0.0.1:80", 'static: ["app.local:80", "10.0.0.1:0", "10.0.0.1:80 weight=x", "10.0.0.1:80 slow", "::1:80", "10.0.0.2:80", "10.0.0.2:80 weight=2"]')),
    ).toEqual([
      'lb.servers[0].static[0] (line 5): expected an IP address, got "app.local": use srv discovery for backends known by name',
      'lb.servers[0].static[1] (line 5): expected a port from 1 to 65535, got 0 in "10.0.0.1:0"',
      'lb.servers[0].static[2] (line 5): expected an IP address and port with an optional weight, such as "10.0.0.5:80 weight=3" ("[::1]:80" for IPv6), got "10.0.0.1:80 weight=x": the only option is weight=N, N from 0 to 1000000',
      'lb.servers[0].static[3] (line 5): expected an IP address and port with an optional weight, such as "10.0.0.5:80 weight=3" ("[::1]:80" for IPv6), got "10.0.0.1:80 slow": the only option is weight=N, N from 0 to 1000000',
      'lb.servers[0].static[4] (line 5): expected host:port, got "::1:80": put an IPv6 address in brackets, as in "[::1]:53"',
    ]);
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:80", 'static: ["10.0.0.2:80", "10.0.0.2:80 weight=2"]'))).toEqual([
      "lb.servers[0].static[1] (line 5): duplicate backend 10.0.0.2:80 (also at lb.servers[0].static[0])",
    ]);
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:80", "static: []"))).toEqual(["lb.servers[0].static (line 5): expected at least 1 item, got 0"]);
  });

  test("a name unfit for URLs and labels; a required key missing; an unknown key; a bad enum", () => {
    expect(problemsOf(oneServer("name: web/1", "bind: 127.0.0.1:80", "service: app"))).toEqual([
      'lb.servers[0].name (line 3): expected a name of up to 63 letters, digits, "-", "_" and "." (starting with a letter or digit), got "web/1"',
    ]);
    expect(problemsOf(oneServer("name: web", "service: app"))).toEqual(["lb.servers[0].bind (line 3): required, but not set"]);
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:80", "service: app", "balanc: iphash"))).toEqual([
      'lb.servers[0].balanc (line 6): unknown key; did you mean "balance"?',
    ]);
    expect(problemsOf(oneServer("name: web", "bind: 127.0.0.1:80", "service: app", "balance: least_conn"))).toEqual([
      'lb.servers[0].balance (line 6): expected one of weight, roundrobin, leastconn, iphash, leastbandwidth, got "least_conn"; did you mean "leastconn"?',
    ]);
  });

  test("one server name on two certificates, or on two SNI routes", () => {
    expect(
      problemsOf(
        oneServer("name: web", "bind: 127.0.0.1:443", "protocol: tls", "service: app", "tls: { certificates: [ { cert_path: a, key_path: a, server_names: [x.example.com] }, { cert_path: b, key_path: b, server_names: [X.example.com] } ] }"),
      ),
    ).toEqual(["lb.servers[0].tls.certificates[1].server_names (line 7): x.example.com is also on certificates[0]; a name may select only one certificate"]);
    expect(
      problemsOf(oneServer("name: web", "bind: 127.0.0.1:443", "service: app", "sni: { routes: [ { server_names: [x.example.com], service: a }, { server_names: [x.example.com], service: b } ] }")),
    ).toEqual(["lb.servers[0].sni.routes[1].server_names (line 6): x.example.com is also on routes[0]; a name may select only one route"]);
  });
});

describe("lb server names for TLS", () => {
  test("a *.parent wildcard is a server name (lower-cased); a star anywhere else is refused", () => {
    const routed = servers(oneServer("name: web", "bind: 127.0.0.1:443", "service: app", "sni: { routes: [ { server_names: ['*.Example.com', a.example.com], service: a } ] }"));
    expect(routed[0]!.sni!.routes[0]!.server_names).toEqual(["*.example.com", "a.example.com"]);
    const refused = problemsOf(oneServer("name: web", "bind: 127.0.0.1:443", "service: app", "sni: { routes: [ { server_names: ['a.*.example.com'], service: a } ] }"));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toContain("sni.routes[0].server_names[0]");
  });
});

describe("bindsOverlap", () => {
  const at = (protocol: LbServerConfig["protocol"], host: string, port: number) => ({ protocol, bind: { host, port } });
  test.each([
    [at("tcp", "127.0.0.1", 80), at("tcp", "127.0.0.1", 80), true],
    [at("tcp", "127.0.0.1", 80), at("tls", "127.0.0.1", 80), true],
    [at("tcp", "0.0.0.0", 80), at("tcp", "10.0.0.1", 80), true],
    [at("udp", "::", 53), at("udp", "127.0.0.1", 53), true],
    [at("tcp", "127.0.0.1", 80), at("udp", "127.0.0.1", 80), false],
    [at("tcp", "127.0.0.1", 80), at("tcp", "127.0.0.2", 80), false],
    [at("tcp", "127.0.0.1", 80), at("tcp", "127.0.0.1", 81), false],
    [at("tcp", "127.0.0.1", 0), at("tcp", "127.0.0.1", 0), false],
  ])("%j and %j: %p", (a, b, overlap) => {
    expect(bindsOverlap(a, b)).toBe(overlap);
    expect(bindsOverlap(b, a)).toBe(overlap);
  });
});

describe("a server as JSON (the API's form)", () => {
  /** The problems of a refused plain value, as ConfigErrors messages. */
  const refusal = (value: unknown) => {
    try {
      parseLbServer(value);
    } catch (err) {
      if (err instanceof ConfigErrors) return err.errors.map((e) => e.message);
      throw err;
    }
    throw new Error("expected a refusal");
  };

  test("reads like the YAML item: durations as strings, the source folded, defaults filled", () => {
    expect(parseLbServer({ name: "web", bind: "127.0.0.1:8080", static: ["127.0.0.1:8001 weight=2"], client_idle_timeout: "30s" })).toEqual({
      name: "web",
      bind: { host: "127.0.0.1", port: 8080 },
      ...DEFAULTS,
      client_idle_timeout: 30_000,
      backends: { kind: "static", backends: [{ address: "127.0.0.1", port: 8001, weight: 2 }] },
    });
  });

  test("refusals name the field by its path inside the server; a bare number is no duration", () => {
    expect(refusal({ name: "web", bind: "nope", client_idle_timeout: 5000, static: ["127.0.0.1:80", 1] })).toEqual([
      'bind: expected host:port, got "nope"',
      'client_idle_timeout: expected a duration with a unit (ms, s, m, h or d) such as "5s", got "5000"',
      'static[1]: expected host:port, got "1"',
    ]);
    expect(refusal({ name: "web", bind: "127.0.0.1:1", service: "app", protocol: "tls", blance: "iphash" })).toEqual([
      'blance: unknown key; did you mean "balance"?',
      "tls: required with protocol tls: the certificates to terminate TLS with",
    ]);
  });

  const examples: [string, string][] = [
    ["minimal tcp", oneServer("name: a", "bind: 127.0.0.1:0", "service: app")],
    [
      "tcp with every optional key",
      oneServer(
        "name: b",
        "bind: '[::1]:8080'",
        "balance: iphash",
        "client_idle_timeout: 1h30m",
        "proxy_protocol: {}",
        "sni: { routes: [ { server_names: [a.example.com], service: a }, { server_names: [b.example.com], srv: { lookup_server: 127.0.0.1:53, pattern: _x._tcp.example.com } } ] }",
        "backends_tls: { server_name: x.example.com }",
        'access: { default: deny, rules: ["allow 127.0.0.1", "deny ::/0"] }',
        'static: ["127.0.0.1:1", "[::1]:2 weight=7"]',
        "healthcheck: { interval: 1500ms, timeout: 250ms }",
      ),
    ],
    ["tls", oneServer("name: c", "bind: 0.0.0.0:443", "protocol: tls", "tls: { certificates: [ { cert_path: a, key_path: b, server_names: [a.example.com] } ] }", "service: app")],
    ["udp", oneServer("name: d", "bind: 127.0.0.1:53", "protocol: udp", "udp: { session_timeout: 2m, max_requests: 3 }", "srv: { lookup_server: 127.0.0.1:53, pattern: _dns._udp.example.com, failpolicy: setempty }")],
  ];

  test.each(examples)("%s: shown as plain JSON, reads back as the same server", (_, text) => {
    const [server] = servers(text);
    const plain = JSON.parse(JSON.stringify(lbServerToPlain(server!)));
    expect(parseLbServer(plain)).toEqual(server!);
  });

  test("the plain form writes durations, binds, backends and rules as the YAML does, udp only for udp", () => {
    const [b] = servers(examples[1]![1]);
    const plain = lbServerToPlain(b!);
    expect(plain).toMatchObject({
      bind: "[::1]:8080",
      client_idle_timeout: "1h30m",
      static: ["127.0.0.1:1 weight=1", "[::1]:2 weight=7"],
      access: { default: "deny", rules: ["allow 127.0.0.1/32", "deny ::/0"] },
      healthcheck: { kind: "ping", interval: "1s500ms", timeout: "250ms", fails: 1, passes: 1 },
    });
    expect(plain).not.toHaveProperty("udp");
    expect(plain).not.toHaveProperty("backends");
  });
});
