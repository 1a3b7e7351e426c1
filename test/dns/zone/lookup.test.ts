import { describe, expect, test } from "bun:test";
import { normalizeName } from "../../../src/lib/dns-name.ts";
import { RRType } from "../../../src/dns/types.ts";
import { lookup } from "../../../src/dns/zone/lookup.ts";
import { type Rendered, render, service, zonesFrom } from "./helpers.ts";

const records = `
$ORIGIN example.com.
$TTL 300
@            MX    10 mail
             TXT   "v=spf1 mx -all"
www          A     192.0.2.1
             AAAA  2001:db8::1
mail         A     192.0.2.25
alias        CNAME www
chain        CNAME alias
cross-zone   CNAME www.example.org.
outside      CNAME www.elsewhere.net.
loop1        CNAME loop2
loop2        CNAME loop1
dangling     CNAME missing
to-service   CNAME app
into-cut     CNAME host.sub
a.b.c        TXT   "deep"             ; b.c and c exist only as empty non-terminals
*.wild       A     192.0.2.99
             TXT   "wild"
*.cwild      CNAME www
sub          NS    ns.sub
             NS    ns2.example.net.
             DS    12345 13 2 49FD46E6C4B45C55D4AC69CBD3CD3440
ns.sub       A     192.0.2.54
nods         NS    ns2.example.net.
_sip._tcp    SRV   10 5 5060 sip
sip          A     192.0.2.60

$ORIGIN example.org.
www          A     198.51.100.1
`;

const zones = zonesFrom(
  {
    zones: ["example.com", "example.org"],
    records,
    nameservers: [
      { name: "ns1.example.com", addresses: ["192.0.2.53", "2001:db8::53"] },
      { name: "ns2.example.net", addresses: [] },
    ],
  },
  [service("app.example.com", ["192.0.2.10", "192.0.2.11"]), service("dual.example.com", ["192.0.2.20", "2001:db8::20"])],
);

const SOA = "example.com. 60 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 1209600 60";
const NS = ["example.com. 300 IN NS ns1.example.com.", "example.com. 300 IN NS ns2.example.net."];
const NS1_GLUE = ["ns1.example.com. 300 IN A 192.0.2.53", "ns1.example.com. 300 IN AAAA 2001:db8::53"];
const WWW_A = "www.example.com. 300 IN A 192.0.2.1";
const SUB_REFERRAL: Partial<Rendered> = {
  kind: "delegation",
  authority: ["sub.example.com. 300 IN NS ns.sub.example.com.", "sub.example.com. 300 IN NS ns2.example.net."],
  additional: ["ns.sub.example.com. 300 IN A 192.0.2.54"],
};

interface Case {
  name: string;
  qname: string;
  qtype: number;
  want: Partial<Rendered>;
}

const cases: Case[] = [
  // Plain answers, with addresses of MX/SRV/NS targets in additional.
  { name: "A", qname: "www.example.com", qtype: RRType.A, want: { kind: "answer", answer: [WWW_A] } },
  { name: "AAAA", qname: "www.example.com", qtype: RRType.AAAA, want: { kind: "answer", answer: ["www.example.com. 300 IN AAAA 2001:db8::1"] } },
  {
    name: "MX with the exchange's address",
    qname: "example.com",
    qtype: RRType.MX,
    want: { kind: "answer", answer: ["example.com. 300 IN MX 10 mail.example.com."], additional: ["mail.example.com. 300 IN A 192.0.2.25"] },
  },
  {
    name: "SRV with the target's address",
    qname: "_sip._tcp.example.com",
    qtype: RRType.SRV,
    want: { kind: "answer", answer: ["_sip._tcp.example.com. 300 IN SRV 10 5 5060 sip.example.com."], additional: ["sip.example.com. 300 IN A 192.0.2.60"] },
  },
  { name: "SOA at the apex", qname: "example.com", qtype: RRType.SOA, want: { kind: "answer", answer: [SOA] } },
  { name: "NS at the apex with glue", qname: "example.com", qtype: RRType.NS, want: { kind: "answer", answer: NS, additional: NS1_GLUE } },
  { name: "nameserver glue answers for itself", qname: "ns1.example.com", qtype: RRType.A, want: { kind: "answer", answer: [NS1_GLUE[0]!] } },
  { name: "qname case does not matter once canonical", qname: normalizeName("WWW.Example.COM."), qtype: RRType.A, want: { kind: "answer", answer: [WWW_A] } },

  // CNAMEs: chains are followed inside our zones; the final name decides the kind.
  {
    name: "CNAME followed",
    qname: "alias.example.com",
    qtype: RRType.A,
    want: { kind: "answer", answer: ["alias.example.com. 300 IN CNAME www.example.com.", WWW_A] },
  },
  {
    name: "CNAME chain of two",
    qname: "chain.example.com",
    qtype: RRType.A,
    want: { kind: "answer", answer: ["chain.example.com. 300 IN CNAME alias.example.com.", "alias.example.com. 300 IN CNAME www.example.com.", WWW_A] },
  },
  { name: "CNAME asked for itself is not followed", qname: "alias.example.com", qtype: RRType.CNAME, want: { kind: "answer", answer: ["alias.example.com. 300 IN CNAME www.example.com."] } },
  {
    name: "CNAME into another of our zones",
    qname: "cross-zone.example.com",
    qtype: RRType.A,
    want: { kind: "answer", answer: ["cross-zone.example.com. 300 IN CNAME www.example.org.", "www.example.org. 300 IN A 198.51.100.1"] },
  },
  { name: "CNAME out of our zones", qname: "outside.example.com", qtype: RRType.A, want: { kind: "answer", answer: ["outside.example.com. 300 IN CNAME www.elsewhere.net."] } },
  {
    name: "CNAME loop stops with the chain so far",
    qname: "loop1.example.com",
    qtype: RRType.A,
    want: { kind: "answer", answer: ["loop1.example.com. 300 IN CNAME loop2.example.com.", "loop2.example.com. 300 IN CNAME loop1.example.com."] },
  },
  { name: "CNAME to a missing name", qname: "dangling.example.com", qtype: RRType.A, want: { kind: "nxdomain", answer: ["dangling.example.com. 300 IN CNAME missing.example.com."], authority: [SOA] } },
  { name: "CNAME to a name without the type", qname: "alias.example.com", qtype: RRType.MX, want: { kind: "nodata", answer: ["alias.example.com. 300 IN CNAME www.example.com."], authority: [SOA] } },
  {
    name: "CNAME to a service",
    qname: "to-service.example.com",
    qtype: RRType.A,
    want: { kind: "answer", answer: ["to-service.example.com. 300 IN CNAME app.example.com.", "app.example.com. 30 IN A <service app.example.com>"] },
  },
  { name: "CNAME into a delegation ends the chain", qname: "into-cut.example.com", qtype: RRType.A, want: { kind: "answer", answer: ["into-cut.example.com. 300 IN CNAME host.sub.example.com."] } },

  // Names that exist without the type, names that do not exist.
  { name: "NODATA", qname: "www.example.com", qtype: RRType.MX, want: { kind: "nodata", authority: [SOA] } },
  { name: "empty non-terminal is NODATA", qname: "b.c.example.com", qtype: RRType.A, want: { kind: "nodata", authority: [SOA] } },
  { name: "_tcp above an SRV owner is an empty non-terminal", qname: "_tcp.example.com", qtype: RRType.SRV, want: { kind: "nodata", authority: [SOA] } },
  { name: "deep name", qname: "a.b.c.example.com", qtype: RRType.TXT, want: { kind: "answer", answer: ['a.b.c.example.com. 300 IN TXT "deep"'] } },
  { name: "NXDOMAIN", qname: "nope.example.com", qtype: RRType.A, want: { kind: "nxdomain", authority: [SOA] } },
  { name: "NXDOMAIN below an existing name", qname: "x.www.example.com", qtype: RRType.A, want: { kind: "nxdomain", authority: [SOA] } },
  { name: "SOA of the zone the name is in", qname: "nope.example.org", qtype: RRType.A, want: { kind: "nxdomain", authority: ["example.org. 60 IN SOA ns1.example.com. hostmaster.example.org. 1 3600 600 1209600 60"] } },

  // Wildcards (RFC 4592): synthesized with the query name as owner.
  { name: "wildcard A", qname: "x.wild.example.com", qtype: RRType.A, want: { kind: "answer", answer: ["x.wild.example.com. 300 IN A 192.0.2.99"] } },
  { name: "wildcard several labels down", qname: "y.x.wild.example.com", qtype: RRType.TXT, want: { kind: "answer", answer: ['y.x.wild.example.com. 300 IN TXT "wild"'] } },
  { name: "wildcard without the type", qname: "x.wild.example.com", qtype: RRType.MX, want: { kind: "nodata", authority: [SOA] } },
  { name: "the wildcard's parent is an empty non-terminal, not a match", qname: "wild.example.com", qtype: RRType.A, want: { kind: "nodata", authority: [SOA] } },
  {
    name: "wildcard CNAME is followed",
    qname: "x.cwild.example.com",
    qtype: RRType.A,
    want: { kind: "answer", answer: ["x.cwild.example.com. 300 IN CNAME www.example.com.", WWW_A] },
  },

  // Delegations: referrals with in-bailiwick glue; DS at the cut is ours to answer.
  { name: "at the cut", qname: "sub.example.com", qtype: RRType.A, want: SUB_REFERRAL },
  { name: "below the cut", qname: "host.sub.example.com", qtype: RRType.A, want: SUB_REFERRAL },
  { name: "NS at the cut is a referral too", qname: "sub.example.com", qtype: RRType.NS, want: SUB_REFERRAL },
  { name: "glue name below the cut is referred", qname: "ns.sub.example.com", qtype: RRType.A, want: SUB_REFERRAL },
  {
    name: "DS at the cut",
    qname: "sub.example.com",
    qtype: RRType.DS,
    want: { kind: "answer", answer: ["sub.example.com. 300 IN DS 12345 13 2 49FD46E6C4B45C55D4AC69CBD3CD3440"] },
  },
  { name: "DS below the cut is referred", qname: "host.sub.example.com", qtype: RRType.DS, want: SUB_REFERRAL },
  { name: "DS at our own apex (its parent is not ours)", qname: "example.com", qtype: RRType.DS, want: { kind: "nodata", authority: [SOA] } },
  { name: "DS at a cut without one", qname: "nods.example.com", qtype: RRType.DS, want: { kind: "nodata", authority: [SOA] } },
  { name: "out-of-bailiwick NS gets no glue", qname: "nods.example.com", qtype: RRType.A, want: { kind: "delegation", authority: ["nods.example.com. 300 IN NS ns2.example.net."] } },

  // ANY (RFC 8482): one RRset, addresses first.
  { name: "ANY picks A", qname: "www.example.com", qtype: RRType.ANY, want: { kind: "answer", answer: [WWW_A] } },
  { name: "ANY picks the service's A", qname: "app.example.com", qtype: RRType.ANY, want: { kind: "answer", answer: ["app.example.com. 30 IN A <service app.example.com>"] } },
  { name: "ANY without addresses picks the lowest type", qname: "example.com", qtype: RRType.ANY, want: { kind: "answer", answer: NS, additional: NS1_GLUE } },
  { name: "ANY at a CNAME is the CNAME", qname: "alias.example.com", qtype: RRType.ANY, want: { kind: "answer", answer: ["alias.example.com. 300 IN CNAME www.example.com."] } },
  { name: "ANY at a wildcard", qname: "z.wild.example.com", qtype: RRType.ANY, want: { kind: "answer", answer: ["z.wild.example.com. 300 IN A 192.0.2.99"] } },

  // Services: the policy stage fills the set in; a family without backends is NODATA.
  { name: "service A", qname: "app.example.com", qtype: RRType.A, want: { kind: "answer", answer: ["app.example.com. 30 IN A <service app.example.com>"] } },
  { name: "service without IPv6 backends", qname: "app.example.com", qtype: RRType.AAAA, want: { kind: "nodata", authority: [SOA] } },
  { name: "service AAAA", qname: "dual.example.com", qtype: RRType.AAAA, want: { kind: "answer", answer: ["dual.example.com. 30 IN AAAA <service dual.example.com>"] } },

  // Not ours.
  { name: "outside every zone", qname: "www.example.net", qtype: RRType.A, want: { kind: "refused" } },
  { name: "a parent of our zone", qname: "com", qtype: RRType.NS, want: { kind: "refused" } },
];

describe("lookup", () => {
  for (const c of cases) {
    test(c.name, () => {
      const want: Rendered = { kind: c.want.kind!, answer: [], authority: [], additional: [], ...c.want };
      expect(render(lookup(zones, c.qname, c.qtype))).toEqual(want);
    });
  }
});

describe("lookup with nested zones", () => {
  const nested = zonesFrom({
    zones: ["example.com", "child.example.com"],
    nameservers: [{ name: "ns1.example.com", addresses: ["192.0.2.53"] }],
    records: "child DS 1 13 2 ABCD\nwww.child A 192.0.2.7",
  });

  test("names in the child zone are answered from it", () => {
    expect(render(lookup(nested, "www.child.example.com", RRType.A))).toMatchObject({ kind: "answer", answer: ["www.child.example.com. 300 IN A 192.0.2.7"] });
  });

  test("DS at the child's apex comes from the parent zone", () => {
    const result = lookup(nested, "child.example.com", RRType.DS);
    expect(result).toMatchObject({ kind: "answer", zone: "example.com" });
    expect(render(result).answer).toEqual(["child.example.com. 300 IN DS 1 13 2 ABCD"]);
  });

  test("the child's SOA comes from the child zone", () => {
    expect(lookup(nested, "child.example.com", RRType.SOA)).toMatchObject({ kind: "answer", zone: "child.example.com" });
  });
});

describe("lookup limits", () => {
  test("a CNAME chain longer than 8 stops after 8 CNAMEs", () => {
    const links = Array.from({ length: 12 }, (_, i) => `c${i} CNAME c${i + 1}`).join("\n");
    const result = lookup(zonesFrom({ records: links }), "c0.example.com", RRType.A);
    expect(result.kind).toBe("answer");
    expect(render(result).answer).toHaveLength(8);
  });
});
