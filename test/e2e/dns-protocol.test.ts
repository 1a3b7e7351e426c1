// The compiled binary as an authoritative server, judged by dig and kdig over real sockets.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dig, kdig } from "../helpers/dig.ts";
import { VigilProcess } from "../helpers/vigil-process.ts";
import { sendUdp } from "../helpers/raw-dns.ts";

const ZONE_CONFIG = (dir: string) => `
mode: standalone
identity: { node_id: e2e-protocol }
dns:
  listen_address: ["127.0.0.1:0"]
  zones: [example.test, other.test]
  default_ttl: 60
  nameservers:
    - name: ns1.example.test
      addresses: [127.0.0.53, "fd00::53"]
  records: |
    @            IN MX    10 mail
    @            IN TXT   "v=spf1 -all"
    @            IN CAA   0 issue "letsencrypt.org"
    mail         IN A     192.0.2.25
    www          IN CNAME app
    alias        IN CNAME www
    outside      IN CNAME elsewhere.invalid.
    _sip._udp    IN SRV   10 60 5060 mail
    a.b.deep     IN A     192.0.2.77
    sub          IN NS    ns.sub
    ns.sub       IN A     192.0.2.53
    big          IN TXT   "${"x".repeat(200)}" "${"y".repeat(200)}"
    big          IN TXT   "${"z".repeat(200)}" "${"w".repeat(200)}"
    big          IN TXT   "${"q".repeat(200)}"
    1.2.0.192.in-addr IN PTR mail
    $ORIGIN other.test.
    @            IN A     192.0.2.99
data_dir: ${dir}/data
api: { address: "127.0.0.1:0" }
metrics: { address: "127.0.0.1:0" }
logging: { level: info, format: json }
services:
  - name: app
    zone: example.test
    ttl: 20
    backends:
      - { address: 192.0.2.10, port: 80 }
      - { address: 192.0.2.11, port: 80 }
      - { address: "2001:db8::10", port: 80 }
  - name: v4only
    zone: example.test
    backends:
      - { address: 192.0.2.12 }
  - name: geo
    zone: example.test
    policy: geo
    backends:
      - { address: 192.0.2.31, region: east }
      - { address: 192.0.2.32, region: west }
  - name: tiers
    zone: example.test
    policy: failover
    backends:
      - { address: 192.0.2.41, priority: 1 }
      - { address: 192.0.2.42, priority: 2 }
  - name: heavy
    zone: example.test
    policy: weighted
    max_answers: 1
    backends:
      - { address: 192.0.2.51, weight: 1 }
      - { address: 192.0.2.52, weight: 0 }
geo:
  regions:
    - { name: east, networks: [10.1.0.0/16], location: { lat: 40, lon: -74 } }
    - { name: west, networks: [10.2.0.0/16], location: { lat: 37, lon: -122 } }
`;

let vigil: VigilProcess;
let port: number;
const q = (...args: string[]) => dig("127.0.0.1", port, args);

beforeAll(async () => {
  vigil = await VigilProcess.start(ZONE_CONFIG);
  port = await vigil.dnsPort();
});

afterAll(async () => {
  expect(await vigil.stop()).toBe(0);
});

describe("answers", () => {
  test("a service name answers its backends, authoritatively", async () => {
    const r = await q("app.example.test", "A");
    expect(r.status).toBe("NOERROR");
    expect(r.flags).toContain("aa");
    expect(r.answer.sort()).toEqual(["app.example.test. 20 IN A 192.0.2.10", "app.example.test. 20 IN A 192.0.2.11"]);
  });

  test("AAAA from the IPv6 backends; NODATA with SOA for a family a service lacks", async () => {
    expect((await q("app.example.test", "AAAA")).answer).toEqual(["app.example.test. 20 IN AAAA 2001:db8::10"]);
    const none = await q("v4only.example.test", "AAAA");
    expect(none.status).toBe("NOERROR");
    expect(none.answer).toEqual([]);
    expect(none.authority[0]).toMatch(/^example\.test\. \d+ IN SOA ns1\.example\.test\. hostmaster\.example\.test\. \d+/);
  });

  test("NXDOMAIN carries the SOA; an empty non-terminal is NODATA", async () => {
    const nx = await q("nope.example.test", "A");
    expect(nx.status).toBe("NXDOMAIN");
    expect(nx.flags).toContain("aa");
    expect(nx.authority[0]).toContain("IN SOA");
    const ent = await q("b.deep.example.test", "A");
    expect(ent.status).toBe("NOERROR");
    expect(ent.answer).toEqual([]);
    expect(ent.authority[0]).toContain("IN SOA");
  });

  test("names outside our zones are REFUSED", async () => {
    const r = await q("example.com", "A");
    expect(r.status).toBe("REFUSED");
    expect(r.flags).not.toContain("aa");
  });

  test("CNAME chains inside the zone end at the service's addresses", async () => {
    const r = await q("alias.example.test", "A");
    expect(r.answer[0]).toBe("alias.example.test. 60 IN CNAME www.example.test.");
    expect(r.answer[1]).toBe("www.example.test. 60 IN CNAME app.example.test.");
    expect(r.answer.slice(2).sort()).toEqual(["app.example.test. 20 IN A 192.0.2.10", "app.example.test. 20 IN A 192.0.2.11"]);
    const out = await q("outside.example.test", "A");
    expect(out.answer).toEqual(["outside.example.test. 60 IN CNAME elsewhere.invalid."]);
  });

  test("static MX, TXT, CAA, SRV and PTR records", async () => {
    expect((await q("example.test", "MX")).answer).toEqual(["example.test. 60 IN MX 10 mail.example.test."]);
    expect((await q("example.test", "MX")).additional).toContain("mail.example.test. 60 IN A 192.0.2.25");
    expect((await q("example.test", "TXT")).answer).toEqual(['example.test. 60 IN TXT "v=spf1 -all"']);
    expect((await q("example.test", "CAA")).answer).toEqual(['example.test. 60 IN CAA 0 issue "letsencrypt.org"']);
    expect((await q("_sip._udp.example.test", "SRV")).answer).toEqual(["_sip._udp.example.test. 60 IN SRV 10 60 5060 mail.example.test."]);
    expect((await q("1.2.0.192.in-addr.example.test", "PTR")).answer).toEqual(["1.2.0.192.in-addr.example.test. 60 IN PTR mail.example.test."]);
  });

  test("NS at the apex with glue; SOA; a second zone", async () => {
    const ns = await q("example.test", "NS");
    expect(ns.answer).toEqual(["example.test. 60 IN NS ns1.example.test."]);
    expect(ns.additional).toEqual(expect.arrayContaining(["ns1.example.test. 60 IN A 127.0.0.53", "ns1.example.test. 60 IN AAAA fd00::53"]));
    expect((await q("other.test", "SOA")).answer[0]).toMatch(/^other\.test\. \d+ IN SOA ns1\.example\.test\. hostmaster\.other\.test\./);
    expect((await q("other.test", "A")).answer).toEqual(["other.test. 60 IN A 192.0.2.99"]);
  });

  test("a delegation is a referral: no AA, NS in authority, glue in additional", async () => {
    const r = await q("host.sub.example.test", "A");
    expect(r.status).toBe("NOERROR");
    expect(r.flags).not.toContain("aa");
    expect(r.answer).toEqual([]);
    expect(r.authority).toEqual(["sub.example.test. 60 IN NS ns.sub.example.test."]);
    expect(r.additional).toContain("ns.sub.example.test. 60 IN A 192.0.2.53");
  });

  test("ANY is answered minimally (RFC 8482): one RRset", async () => {
    const r = await q("example.test", "ANY");
    expect(r.status).toBe("NOERROR");
    const types = new Set(r.answer.map((line) => line.split(" ")[3]));
    expect(types.size).toBe(1);
  });
});

describe("policies", () => {
  test("geo: the ECS subnet picks the region, and the scope echoes the deciding prefix", async () => {
    const east = await q("+subnet=10.1.7.0/24", "geo.example.test");
    expect(east.answer).toEqual(["geo.example.test. 60 IN A 192.0.2.31"]);
    expect(east.text).toContain("CLIENT-SUBNET: 10.1.7.0/24/16");
    const west = await q("+subnet=10.2.7.0/24", "geo.example.test");
    expect(west.answer).toEqual(["geo.example.test. 60 IN A 192.0.2.32"]);
  });

  test("failover answers only the best tier; weighted never picks weight 0", async () => {
    expect((await q("tiers.example.test")).answer).toEqual(["tiers.example.test. 60 IN A 192.0.2.41"]);
    for (let i = 0; i < 5; i++) expect((await q("heavy.example.test")).answer).toEqual(["heavy.example.test. 60 IN A 192.0.2.51"]);
  });
});

describe("protocol behaviour", () => {
  test("RD is copied, RA stays clear", async () => {
    const r = await dig("127.0.0.1", port, ["+recurse", "app.example.test"]);
    expect(r.flags).toContain("rd");
    expect(r.flags).not.toContain("ra");
  });

  test("DO and CD are copied; our UDP size is 1232", async () => {
    const r = await q("+dnssec", "+cdflag", "+bufsize=4096", "app.example.test");
    expect(r.flags).toContain("cd");
    expect(r.text).toMatch(/EDNS: version: 0, flags: do; udp: 1232/);
  });

  test("EDNS version 1 gets BADVERS", async () => {
    const r = await q("+edns=1", "+noednsnegotiation", "app.example.test");
    expect(r.status).toBe("BADVERS");
  });

  test("unknown EDNS options are ignored and not echoed", async () => {
    const r = await q("+ednsopt=65001:abcd", "app.example.test");
    expect(r.status).toBe("NOERROR");
    const optSection = r.text.slice(r.text.indexOf(";; OPT PSEUDOSECTION:"), r.text.indexOf(";; QUESTION SECTION:"));
    expect(optSection).toContain("EDNS: version: 0");
    expect(optSection).not.toMatch(/65001|OPT=/);
    expect(r.answer.length).toBe(2);
  });

  test("an unknown opcode gets NOTIMP", async () => {
    const r = await q("+opcode=2", "app.example.test");
    expect(r.status).toBe("NOTIMP");
  });

  test("ECS is echoed with scope 0 when location does not matter", async () => {
    const r = await q("+subnet=198.51.100.0/24", "app.example.test");
    expect(r.text).toContain("CLIENT-SUBNET: 198.51.100.0/24/0");
  });

  test("answers too big for the client set TC; TCP gets the whole answer", async () => {
    const plain = await q("+noedns", "+ignore", "big.example.test", "TXT");
    expect(plain.flags).toContain("tc");
    expect(plain.answer).toEqual([]);
    const tcp = await q("+tcp", "big.example.test", "TXT");
    expect(tcp.flags).not.toContain("tc");
    expect(tcp.answer.length).toBe(3);
  });

  test("TCP serves several queries on one connection (kdig +keepopen)", async () => {
    const r = await kdig("127.0.0.1", port, ["+tcp", "+keepopen", "app.example.test", "A", "mail.example.test", "A"]);
    expect(r.text).toContain("192.0.2.25");
    expect(r.text).toMatch(/192\.0\.2\.1[01]/);
  });

  test("the question's letter case is echoed exactly (0x20)", async () => {
    const reply = await sendUdp(port, "ApP.ExAmPle.TeSt", 1);
    expect(reply.questionName).toBe("ApP.ExAmPle.TeSt");
    expect(reply.rcode).toBe(0);
    expect(reply.answerCount).toBe(2);
  });
});
