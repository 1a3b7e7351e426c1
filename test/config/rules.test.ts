import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/load.ts";
import { DNSSEC_OFF_ACKNOWLEDGMENT } from "../../src/config/types.ts";
import { GOSSIP_KEY, problemsOf, yaml } from "./helpers.ts";

describe("turning DNSSEC off", () => {
  test("without the acknowledgment is refused, quoting the sentence", () => {
    expect(problemsOf(yaml("dns:", "  dnssec:", "    enabled: false"))).toEqual([
      `dns.dnssec.security_acknowledgment (line 2): turning DNSSEC off requires security_acknowledgment: "${DNSSEC_OFF_ACKNOWLEDGMENT}"`,
    ]);
  });

  test("with a different sentence is refused at that line", () => {
    const text = yaml("dns:", "  dnssec:", "    enabled: false", '    security_acknowledgment: "yes, I know"');
    expect(problemsOf(text)[0]).toStartWith("dns.dnssec.security_acknowledgment (line 4): turning DNSSEC off requires");
  });

  test("with the exact acknowledgment loads", () => {
    const text = yaml("dns:", "  dnssec:", "    enabled: false", `    security_acknowledgment: "${DNSSEC_OFF_ACKNOWLEDGMENT}"`);
    expect(parseConfig(text, { env: {} }).dns.dnssec.enabled).toBe(false);
  });
});

describe("modes", () => {
  test.each(["overwatch", "agent"])("%s mode requires gossip encryption", (mode) => {
    expect(problemsOf(yaml(`mode: ${mode}`))).toContain(
      `gossip.encryption_key (line 1): required in ${mode} mode: gossip encryption is mandatory (make a key with: openssl rand -base64 32)`,
    );
  });

  test("agent mode requires a service token, a backend and an overwatch", () => {
    expect(problemsOf(yaml("mode: agent", "gossip:", `  encryption_key: ${GOSSIP_KEY}`))).toEqual([
      "identity.service_token (line 1): required in agent mode",
      "backends (line 1): required in agent mode: list at least one backend to announce",
      "gossip.overwatch_nodes (line 2): required in agent mode: list at least one overwatch to announce to",
    ]);
  });

  test("overwatch mode listens for gossip on 0.0.0.0:7946 unless told otherwise", () => {
    const base = ["mode: overwatch", "gossip:", `  encryption_key: ${GOSSIP_KEY}`];
    expect(parseConfig(yaml(...base), { env: {} }).gossip.bind_address).toEqual({ host: "0.0.0.0", port: 7946 });
    const moved = parseConfig(yaml(...base, '  bind_address: "[::]:7000"'), { env: {} });
    expect(moved.gossip.bind_address).toEqual({ host: "::", port: 7000 });
  });

  test("standalone mode needs no gossip at all", () => {
    const config = parseConfig("mode: standalone\n", { env: {} });
    expect(config.gossip.encryption_key).toBeUndefined();
    expect(config.gossip.bind_address).toBeUndefined();
  });
});

describe("service zones", () => {
  const service = ["services:", "  - name: app", "    backends: [{address: 192.0.2.1}]"];

  test("a zone is required when dns.zones does not have exactly one", () => {
    expect(problemsOf(yaml(...service))).toEqual(["services[0].zone (line 2): required, but not set: add the zone to dns.zones"]);
    expect(problemsOf(yaml("dns:", "  zones: [a.example, b.example]", ...service))).toEqual([
      "services[0].zone (line 4): required when dns.zones has more than one zone (one of a.example, b.example)",
    ]);
  });

  test("the zone must be one of dns.zones", () => {
    expect(problemsOf(yaml("dns:", "  zones: [a.example]", ...service, "    zone: c.example"))).toEqual([
      'services[0].zone (line 6): "c.example" is not in dns.zones (a.example)',
    ]);
  });

  test("a name that repeats the zone is refused", () => {
    expect(problemsOf(yaml("dns:", "  zones: [a.example]", "services:", "  - name: app.a.example", "    backends: [{address: 192.0.2.1}]"))).toEqual([
      'services[0].name (line 4): "app.a.example" already ends in the zone; write only the part before ".a.example"',
    ]);
  });

  test("two services with one name are refused", () => {
    const text = yaml(
      "dns:",
      "  zones: [a.example, b.example]",
      "services:",
      "  - {name: app, zone: a.example, backends: [{address: 192.0.2.1}]}",
      "  - {name: app, zone: b.example, backends: [{address: 192.0.2.1}]}",
      "  - {name: APP, zone: a.example, backends: [{address: 192.0.2.1}]}",
    );
    expect(problemsOf(text)).toEqual(["services[2].name (line 6): duplicate service app.a.example (also at services[0])"]);
  });
});

describe("when_all_down", () => {
  const service = (...lines: string[]) =>
    yaml("dns:", "  zones: [example.com]", "services:", "  - name: app", "    backends: [{address: 192.0.2.1}]", ...lines);

  test("fallback needs the fallback addresses", () => {
    expect(problemsOf(service("    when_all_down: fallback"))).toEqual([
      'services[0].fallback (line 4): required when when_all_down is "fallback": the addresses to answer with',
    ]);
  });

  test("fallback addresses without fallback mode are refused", () => {
    expect(problemsOf(service("    when_all_down: fail_closed", "    fallback: [192.0.2.9]"))).toEqual([
      'services[0].fallback (line 7): only used when when_all_down is "fallback", not "fail_closed"',
    ]);
  });

  test("the other modes fold into the union", () => {
    expect(parseConfig(service("    when_all_down: last_known_good"), { env: {} }).services[0]!.when_all_down).toEqual({
      mode: "last_known_good",
    });
  });

  test("min_healthy takes a count or a percentage", () => {
    expect(problemsOf(service("    min_healthy: 150%"))).toEqual([
      'services[0].min_healthy (line 6): expected a count such as 2 or a percentage such as "50%", got "150%"',
    ]);
  });
});

describe("geo", () => {
  const regions = [
    "geo:",
    "  regions:",
    "    - name: eu",
    "      networks: [192.0.2.0/24]",
    "      location: {lat: 50.1, lon: 8.7}",
    "    - name: us",
    "      networks: [198.51.100.0/24, 2001:db8::/32]",
  ];
  const zone = ["dns:", "  zones: [example.com]"];

  test("regions load with their networks and location", () => {
    const config = parseConfig(yaml(...regions), { env: {} });
    expect(config.geo.regions).toEqual([
      { name: "eu", networks: ["192.0.2.0/24"], location: { lat: 50.1, lon: 8.7 } },
      { name: "us", networks: ["198.51.100.0/24", "2001:db8::/32"] },
    ]);
  });

  test("region names are unique", () => {
    expect(problemsOf(yaml(...regions, "    - name: eu", "      networks: [203.0.113.0/24]"))).toEqual([
      "geo.regions[2] (line 8): duplicate region eu (also at geo.regions[0])",
    ]);
  });

  test("the geo policy needs regions", () => {
    const text = yaml(...zone, "services:", "  - name: app", "    policy: geo", "    backends: [{address: 192.0.2.1, region: eu}]");
    expect(problemsOf(text)).toEqual(["services[0].policy (line 5): the geo policy needs geo.regions"]);
  });

  test("with the geo policy every backend names a region, and only known ones", () => {
    const text = yaml(
      ...regions,
      ...zone,
      "services:",
      "  - name: app",
      "    policy: geo",
      "    backends:",
      "      - {address: 192.0.2.1, region: eu}",
      "      - {address: 192.0.2.2}",
      "      - {address: 192.0.2.3, region: asia}",
    );
    expect(problemsOf(text)).toEqual([
      "services[0].backends[1].region (line 15): required with the geo policy",
      'services[0].backends[2].region (line 16): "asia" is not one of geo.regions (eu, us)',
    ]);
  });

  test("a location must be on the globe", () => {
    expect(problemsOf(yaml("geo:", "  regions:", "    - {name: x, networks: [10.0.0.0/8], location: {lat: 91, lon: 0}}"))).toEqual([
      "geo.regions[0].location.lat (line 3): expected a number from -90 to 90, got 91",
    ]);
  });
});

describe("timing", () => {
  test("stale.remove_after must be longer than stale.threshold", () => {
    expect(problemsOf(yaml("stale:", "  threshold: 1m", "  remove_after: 30s"))).toEqual([
      "stale.remove_after (line 3): must be longer than threshold: a backend is first stale, then removed",
    ]);
  });
});

describe("API writes", () => {
  test("a non-loopback API that accepts writes needs a token", () => {
    expect(problemsOf(yaml("api:", '  address: "0.0.0.0:8080"'))).toEqual([
      'api.token (line 2): required when the API listens on 0.0.0.0 (not loopback) and accepts writes: set api.token (e.g. "${VIGIL_API_TOKEN}") or api.read_only: true',
    ]);
  });

  test("a token, read_only, or a loopback address each make it fine", () => {
    for (const lines of [
      ["api:", '  address: "0.0.0.0:8080"', "  token: t0ken"],
      ["api:", '  address: "0.0.0.0:8080"', "  read_only: true"],
      ["api:", '  address: "127.0.0.2:8080"'],
      ["api:", '  address: "[::1]:8080"'],
    ]) {
      expect(parseConfig(yaml(...lines), { env: {} }).api.address.port).toBe(8080);
    }
  });
});
