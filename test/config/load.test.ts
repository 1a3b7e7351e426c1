import { describe, expect, test } from "bun:test";
import { hostname } from "node:os";
import { join } from "node:path";
import { loadConfigFile, parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { ConfigErrors } from "../../src/lib/errors.ts";
import { GOSSIP_KEY, yaml } from "./helpers.ts";

const fixture = (name: string) => join(import.meta.dir, "..", "fixtures", name);
const guideEnv = { MYAPP_TOKEN: "myapp-secret", OTHERAPP_TOKEN: "other-secret", TOKEN: "multi-secret", GOSSIP_KEY };

const DEFAULTS: Config = {
  mode: "standalone",
  identity: { node_id: hostname() },
  dns: {
    listen_address: [{ host: "0.0.0.0", port: 53 }],
    zones: [],
    default_ttl: 30,
    nameservers: [],
    records: "",
    soa: { refresh: 3600, retry: 600, expire: 1209600, minimum: 30 },
    dnssec: {
      enabled: true,
      algorithm: "ecdsap256sha256",
      key_type: "csk",
      denial: "nsec",
      signature_validity: 7 * 86_400_000,
      inception_offset: 3_600_000,
      key_sync: { peers: [], poll_interval: 3_600_000 },
    },
    max_udp_size: 1232,
    tcp: { idle_timeout: 10_000, max_connections: 1000 },
    response_cache: { max_entries: 100000 },
  },
  agent_tokens: {},
  gossip: { keyring: [], peers: [], overwatch_nodes: [], min_peers_agree: 0 },
  validation: { enabled: true, check_interval: 30_000, check_timeout: 5_000 },
  stale: { threshold: 30_000, remove_after: 300_000 },
  api: { enabled: true, address: { host: "127.0.0.1", port: 8080 }, allowed_networks: ["127.0.0.0/8", "::1/128"], read_only: false },
  metrics: { enabled: true, address: { host: "127.0.0.1", port: 9090 } },
  data_dir: "/var/lib/vigil",
  logging: { level: "info", format: "text" },
  services: [],
  geo: { regions: [] },
  backends: [],
  heartbeat: { interval: 10_000, missed_threshold: 3 },
  lb: { servers: [] },
};

describe("defaults", () => {
  test("{} loads as a standalone node with every default", () => {
    expect(parseConfig("{}", { env: {} })).toEqual(DEFAULTS);
  });

  test("an empty file and a file of comments load the same", () => {
    expect(parseConfig("", { env: {} })).toEqual(DEFAULTS);
    expect(parseConfig("# nothing yet\n", { env: {} })).toEqual(DEFAULTS);
  });

  test("a key with no value takes its default", () => {
    expect(parseConfig(yaml("dns:", "  default_ttl:"), { env: {} }).dns.default_ttl).toBe(30);
  });
});

describe("the deployment guide's examples", () => {
  test("overwatch.yaml", () => {
    const config = loadConfigFile(fixture("guide-overwatch.yaml"), guideEnv);
    expect(config.mode).toBe("overwatch");
    expect(config.identity).toEqual({ node_id: "overwatch-us-east-1", region: "us-east" });
    expect(config.dns.listen_address).toEqual([{ host: "0.0.0.0", port: 53 }]);
    expect(config.dns.zones).toEqual(["gslb.example.com"]);
    expect(config.dns.dnssec.key_sync).toEqual({
      peers: ["https://overwatch-2.internal:9090", "https://overwatch-3.internal:9090"],
      poll_interval: 3_600_000,
    });
    expect(config.agent_tokens).toEqual({ myapp: "myapp-secret", otherapp: "other-secret" });
    expect(config.gossip.bind_address).toEqual({ host: "0.0.0.0", port: 7946 });
    expect(config.gossip.encryption_key).toBe(GOSSIP_KEY);
    expect(config.validation).toEqual({ enabled: true, check_interval: 30_000, check_timeout: 5_000 });
    expect(config.stale).toEqual({ threshold: 30_000, remove_after: 300_000 });
    expect(config.api.allowed_networks).toEqual(["10.0.0.0/8", "192.168.0.0/16"]);
    expect(config.metrics.address).toEqual({ host: "0.0.0.0", port: 9090 });
    expect(config.data_dir).toBe("/var/lib/opengslb");
    expect(config.logging).toEqual({ level: "info", format: "json" });
  });

  test("agent.yaml", () => {
    const config = loadConfigFile(fixture("guide-agent.yaml"), guideEnv);
    expect(config.mode).toBe("agent");
    expect(config.identity.service_token).toBe("myapp-secret");
    expect(config.backends).toEqual([
      {
        service: "myapp",
        address: "127.0.0.1",
        port: 8080,
        weight: 100,
        health_check: {
          type: "http",
          method: "GET",
          path: "/health",
          expect_status: [{ from: 200, to: 399 }],
          tls_verify: true,
          interval: 5_000,
          timeout: 2_000,
          failure_threshold: 3,
          success_threshold: 2,
        },
        predictive: {
          enabled: true,
          cpu_threshold: 85,
          memory_threshold: 90,
          error_rate_threshold: 5,
          check_interval: 10_000,
        },
      },
    ]);
    expect(config.gossip.overwatch_nodes).toEqual([
      { host: "overwatch-1.internal", port: 7946 },
      { host: "overwatch-2.internal", port: 7946 },
      { host: "overwatch-3.internal", port: 7946 },
    ]);
    expect(config.gossip.bind_address).toBeUndefined();
    expect(config.heartbeat).toEqual({ interval: 10_000, missed_threshold: 3 });
    expect(config.metrics.address).toEqual({ host: "127.0.0.1", port: 9100 });
  });

  test("the multi-backend agent", () => {
    const config = loadConfigFile(fixture("guide-agent-multi.yaml"), guideEnv);
    expect(config.identity.service_token).toBe("multi-secret");
    expect(config.backends.map((b) => [b.service, b.port, b.health_check?.type])).toEqual([
      ["web", 8080, "http"],
      ["api", 9090, "http"],
      ["grpc", 50051, "tcp"],
    ]);
    expect(config.backends[2]!.health_check).toEqual({
      type: "tcp",
      interval: 10_000,
      timeout: 3_000,
      failure_threshold: 3,
      success_threshold: 2,
    });
  });

  test("without its variables the overwatch example names each one", () => {
    expect(() => loadConfigFile(fixture("guide-overwatch.yaml"), {})).toThrow(
      [
        "agent_tokens.myapp (line 19): environment variable MYAPP_TOKEN is not set",
        "agent_tokens.otherapp (line 20): environment variable OTHERAPP_TOKEN is not set",
        "gossip.encryption_key (line 23): environment variable GOSSIP_KEY is not set",
      ].join("\n"),
    );
  });
});

describe("services", () => {
  const text = yaml(
    "dns:",
    "  zones: [Example.COM.]",
    "  default_ttl: 60",
    "services:",
    "  - name: App",
    "    backends:",
    "      - address: 192.0.2.1",
    "      - address: 2001:DB8::1",
    "        port: 8443",
    "        priority: 2",
    "    min_healthy: 50%",
    "  - name: db",
    "    ttl: 5",
    "    when_all_down: fallback",
    "    fallback: [192.0.2.99]",
    "    min_healthy: 1",
    "    backends:",
    "      - address: 192.0.2.2",
  );

  test("names are normalized, the zone and ttl come from dns, backend families are derived", () => {
    const [app, db] = parseConfig(text, { env: {} }).services;
    expect(app).toEqual({
      name: "app",
      zone: "example.com",
      fqdn: "app.example.com",
      policy: "roundrobin",
      ttl: 60,
      max_answers: 8,
      when_all_down: { mode: "fail_open" },
      min_healthy: { percent: 50 },
      flap_damping: { max_changes: 4, window: 60_000, hold_down: 120_000 },
      backends: [
        { address: "192.0.2.1", family: 4, port: 80, weight: 100, priority: 1 },
        { address: "2001:db8::1", family: 6, port: 8443, weight: 100, priority: 2 },
      ],
    });
    expect(db!.ttl).toBe(5);
    expect(db!.when_all_down).toEqual({ mode: "fallback", addresses: ["192.0.2.99"] });
    expect(db!.min_healthy).toEqual({ count: 1 });
  });

  test("listen_address takes one address or a list of IPv4 and IPv6 addresses", () => {
    const config = parseConfig(yaml("dns:", '  listen_address: ["127.0.0.1:0", "[::1]:5353"]'), { env: {} });
    expect(config.dns.listen_address).toEqual([
      { host: "127.0.0.1", port: 0 },
      { host: "::1", port: 5353 },
    ]);
  });

  test("records are carried as written", () => {
    const config = parseConfig(yaml("dns:", "  records: |", "    www 300 IN CNAME app", "    @ IN TXT \"v=1\""), { env: {} });
    expect(config.dns.records).toBe('www 300 IN CNAME app\n@ IN TXT "v=1"\n');
  });
});

describe("loadConfigFile", () => {
  test("an unreadable file is a ConfigErrors naming it", () => {
    const path = fixture("no-such-config.yaml");
    let caught: unknown;
    try {
      loadConfigFile(path, {});
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigErrors);
    expect((caught as ConfigErrors).message).toStartWith(`(root): cannot read ${path}: `);
  });

  test("YAML syntax errors carry the file name and line", () => {
    expect(() => parseConfig(yaml("dns:", "  zones: [a, b", "mode: agent"), { source: "vigil.yaml" })).toThrow(
      /^vigil\.yaml \(line \d\): YAML syntax error: /,
    );
  });
});
