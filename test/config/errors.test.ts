import { describe, expect, test } from "bun:test";
import { GOSSIP_KEY, problemsOf, yaml } from "./helpers.ts";

describe("each problem names its path, line and what was expected", () => {
  test("host:port", () => {
    expect(problemsOf(yaml("mode: standalone", "identity:", "  node_id: a", "dns:", '  listen_address: "53"'))).toEqual([
      'dns.listen_address (line 5): expected host:port, got "53"',
    ]);
  });

  test("list items are addressed by index", () => {
    const text = yaml(
      "dns:",
      "  zones: [example.com]",
      "services:",
      "  - name: app",
      "    backends:",
      "      - address: 192.0.2.1",
      "      - address: 192.0.2.300",
    );
    expect(problemsOf(text)).toEqual(['services[0].backends[1].address (line 7): expected an IP address, got "192.0.2.300"']);
  });

  test("wrong types name the expected type", () => {
    const text = yaml(
      "dns:",
      "  zones: example.com",
      "  listen_address: {host: x}",
      "  default_ttl: thirty",
      "identity: [a]",
      "api:",
      "  enabled: yes",
      "  allowed_networks: 10.0.0.0/8",
      "mode: 5",
    );
    expect(problemsOf(text)).toEqual([
      'dns.zones (line 2): expected a list, got "example.com"',
      "dns.listen_address (line 3): expected host:port or a list of them, got a map",
      'dns.default_ttl (line 4): expected an integer from 0 to 2147483647, got "thirty"',
      "identity (line 5): expected a map, got a list",
      'api.enabled (line 7): expected true or false, got "yes"',
      'api.allowed_networks (line 8): expected a list, got "10.0.0.0/8"',
      "mode (line 9): expected one of standalone, overwatch, agent, got 5",
    ]);
  });

  test("numbers out of range", () => {
    expect(problemsOf(yaml("dns:", "  max_udp_size: 100", "  default_ttl: 1.5"))).toEqual([
      "dns.max_udp_size (line 2): expected an integer from 512 to 4096, got 100",
      "dns.default_ttl (line 3): expected an integer from 0 to 2147483647, got 1.5",
    ]);
  });

  test("a bare number for a duration asks for a unit", () => {
    expect(problemsOf(yaml("stale:", "  threshold: 30"))).toEqual([
      'stale.threshold (line 2): expected a duration with a unit (ms, s, m, h or d) such as "5s", got "30"',
    ]);
  });

  test("an interval of zero is refused", () => {
    expect(problemsOf(yaml("heartbeat:", "  interval: 0s"))).toEqual([
      'heartbeat.interval (line 2): expected a duration longer than 0s, got "0s"',
    ]);
  });

  test("a misspelt enum value gets a suggestion", () => {
    expect(problemsOf(yaml("logging:", "  level: infoo"))).toEqual([
      'logging.level (line 2): expected one of debug, info, warn, error, got "infoo"; did you mean "info"?',
    ]);
  });

  test("a missing required key is reported at its parent's line", () => {
    expect(problemsOf(yaml("dns:", "  zones: [example.com]", "services:", "  - policy: weighted"))).toEqual([
      "services[0].name (line 4): required, but not set",
      "services[0].backends (line 4): required, but not set",
    ]);
  });

  test("an empty list item is reported, not skipped", () => {
    expect(problemsOf(yaml("dns:", "  zones:", "    -", "    - example.com"))).toEqual([
      "dns.zones[0] (line 3): expected a domain name, got nothing",
    ]);
  });

  test("domain names are checked", () => {
    expect(problemsOf(yaml("dns:", "  zones: [a..b, 'my zone']"))).toEqual([
      'dns.zones[0] (line 2): expected a domain name, got "a..b": empty label in "a..b"',
      'dns.zones[1] (line 2): expected a domain name, got "my zone": use letters, digits, "-", "_" and "."',
    ]);
  });

  test("URLs must be http or https", () => {
    expect(problemsOf(yaml("dns:", "  dnssec:", "    key_sync:", "      peers: [ftp://peer]"))).toEqual([
      'dns.dnssec.key_sync.peers[0] (line 4): expected an http:// or https:// URL, got "ftp://peer"',
    ]);
  });

  test("CIDRs explain what is wrong", () => {
    expect(problemsOf(yaml("api:", "  allowed_networks: [10.1.0.0/8]"))).toEqual([
      'api.allowed_networks[0] (line 2): expected a CIDR such as "10.0.0.0/8", got "10.1.0.0/8": host bits are set; the network is 10.0.0.0/8',
    ]);
  });

  test("a gossip key must be 32 bytes of base64, and is never echoed", () => {
    const problems = problemsOf(yaml("gossip:", "  encryption_key: c2VjcmV0", "  keyring: ['s3cret!']"));
    expect(problems).toEqual([
      "gossip.encryption_key (line 2): expected base64 of exactly 32 bytes (make one with: openssl rand -base64 32), got 6 bytes",
      "gossip.keyring[0] (line 3): expected base64 of exactly 32 bytes (make one with: openssl rand -base64 32), got text that is not base64",
    ]);
    expect(problems.join("\n")).not.toContain("c2VjcmV0");
  });

  test("duplicates in lists", () => {
    const text = yaml(
      "dns:",
      "  zones: [example.com, EXAMPLE.com.]",
      "services:",
      "  - name: app",
      "    zone: example.com",
      "    backends:",
      "      - address: 2001:db8::1",
      "      - address: 2001:DB8:0::1",
      "        port: 80",
    );
    expect(problemsOf(text)).toEqual([
      "dns.zones[1] (line 2): duplicate zone example.com (also at dns.zones[0])",
      "services[0].backends[1] (line 8): duplicate backend [2001:db8::1]:80 (also at services[0].backends[0])",
    ]);
  });

  test("a key with no value in a map of tokens is an error", () => {
    expect(problemsOf(yaml("agent_tokens:", "  myapp:", "  other: ''"))).toEqual([
      "agent_tokens.myapp (line 2): expected a non-empty string, got nothing",
      'agent_tokens.other (line 3): expected a non-empty string, got ""',
    ]);
  });
});

describe("unknown keys", () => {
  test("suggest the closest known key", () => {
    expect(problemsOf(yaml("dns:", "  default_tl: 30", "dnss: {}"))).toEqual([
      'dns.default_tl (line 2): unknown key; did you mean "default_ttl"?',
      'dnss (line 3): unknown key; did you mean "dns"?',
    ]);
  });

  test("list the known keys when nothing is close", () => {
    expect(problemsOf(yaml("heartbeat:", "  frequency: 5s"))).toEqual([
      "heartbeat.frequency (line 2): unknown key; known keys here: interval, missed_threshold",
    ]);
  });
});

describe("YAML syntax", () => {
  test("errors give the line", () => {
    expect(problemsOf(yaml("mode: standalone", "dns:", "  default_ttl: 30", "  default_ttl: 40"))).toEqual([
      "(root) (line 4): YAML syntax error: Map keys must be unique",
    ]);
    expect(problemsOf(yaml("mode: standalone", "dns:", "\tdefault_ttl: 30"))).toEqual([
      "(root) (line 3): YAML syntax error: Tabs are not allowed as indentation",
    ]);
  });

  test("a document that is not a map", () => {
    expect(problemsOf(yaml("- mode: agent"))).toEqual(["(root) (line 1): expected a map, got a list"]);
  });
});

test("all problems are reported together, in file order", () => {
  const text = yaml(
    "mode: overwatch",
    "gossip:",
    `  encryption_key: ${GOSSIP_KEY}`,
    "  peers: [peer-1]",
    "dns:",
    "  listen_address: [':53', '[::]:53']",
    "validation:",
    "  check_timeout: 1m",
    "metrics:",
    "  adress: 0.0.0.0:9090",
  );
  expect(problemsOf(text)).toEqual([
    'gossip.peers[0] (line 4): expected host:port, got "peer-1"',
    'dns.listen_address[0] (line 6): expected host:port, got ":53": the host is missing; use "0.0.0.0" or "[::]" for every address',
    "validation.check_timeout (line 8): must be shorter than check_interval (1m is not below 30s)",
    'metrics.adress (line 10): unknown key; did you mean "address"?',
  ]);
});
