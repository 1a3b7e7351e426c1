import { describe, expect, test } from "bun:test";
import type { DnsConfig, ServiceConfig } from "../../../src/config/types.ts";
import { RRType } from "../../../src/dns/types.ts";
import { ZoneBuildError, buildZones } from "../../../src/dns/zone/build.ts";
import { formatRRset } from "../../../src/dns/zone/present.ts";
import { RecordSyntaxError } from "../../../src/dns/zone/records.ts";
import type { Zone, ZoneSet } from "../../../src/dns/zone/zone.ts";
import { dnsConfig, renderSet, service, zonesFrom } from "./helpers.ts";

const NAMESERVERS = [
  { name: "ns1.example.com", addresses: ["192.0.2.53", "2001:db8::53"] },
  { name: "ns2.example.net", addresses: ["198.51.100.53"] },
];

function zone(zones: ZoneSet, apex: string): Zone {
  const found = zones.zones.find((z) => z.apex === apex);
  if (!found) throw new Error(`no zone ${apex}`);
  return found;
}

/** Every set at a name, rendered, in type order. */
function at(z: Zone, name: string): string[] {
  const node = z.nodes.get(name);
  if (!node) return [];
  const sets = [...node.rrsets.values(), ...node.services.values()].sort((a, b) => a.type - b.type);
  return sets.flatMap(renderSet);
}

function buildError(dns: Partial<DnsConfig>, services: ServiceConfig[] = []): string {
  try {
    zonesFrom(dns, services);
  } catch (err) {
    if (err instanceof ZoneBuildError) return err.message;
    throw err;
  }
  throw new Error("expected a ZoneBuildError");
}

describe("buildZones: NS, glue and SOA", () => {
  test("every nameserver serves every zone; glue goes to the zone holding the nameserver's name", () => {
    const zones = zonesFrom({ zones: ["example.com", "example.org"], nameservers: NAMESERVERS });
    for (const apex of ["example.com", "example.org"]) {
      expect(formatRRset(zone(zones, apex).ns)).toEqual([`${apex}. 300 IN NS ns1.example.com.`, `${apex}. 300 IN NS ns2.example.net.`]);
    }
    expect(at(zone(zones, "example.com"), "ns1.example.com")).toEqual(["ns1.example.com. 300 IN A 192.0.2.53", "ns1.example.com. 300 IN AAAA 2001:db8::53"]);
    // ns2 is outside our zones: its addresses are nobody's glue.
    expect(zones.findZone("ns2.example.net")).toBeUndefined();
  });

  test("the SOA: first NS as mname, default rname, dns.soa timers, TTL = minimum", () => {
    const z = zone(zonesFrom({ nameservers: NAMESERVERS }), "example.com");
    expect(formatRRset(z.soa)).toEqual(["example.com. 60 IN SOA ns1.example.com. hostmaster.example.com. 1 3600 600 1209600 60"]);
    expect(z.nodes.get("example.com")!.rrsets.get(RRType.SOA)).toBe(z.soa);
  });

  test("a configured rname", () => {
    const soa = dnsConfig().soa;
    const z = zone(zonesFrom({ soa: { ...soa, rname: "dns-admin.example.net" } }), "example.com");
    expect(formatRRset(z.soa)[0]).toContain(" ns1.example.com. dns-admin.example.net. ");
  });

  test("without nameservers: ns1.<zone>, glued to the given addresses", () => {
    const zones = buildZones({
      dns: dnsConfig({ zones: ["example.com", "example.org"] }),
      services: [],
      serialFor: () => 7,
      defaultNameserverAddresses: ["192.0.2.1"],
    });
    const org = zone(zones, "example.org");
    expect(formatRRset(org.ns)).toEqual(["example.org. 300 IN NS ns1.example.org."]);
    expect(at(org, "ns1.example.org")).toEqual(["ns1.example.org. 300 IN A 192.0.2.1"]);
    expect(formatRRset(org.soa)[0]).toStartWith("example.org. 60 IN SOA ns1.example.org. hostmaster.example.org. 7 ");
  });

  test("without nameservers or addresses: ns1.<zone> has no glue", () => {
    const z = zone(zonesFrom({}), "example.com");
    expect(formatRRset(z.ns)).toEqual(["example.com. 300 IN NS ns1.example.com."]);
    expect(z.nodes.has("ns1.example.com")).toBeFalse();
  });

  test("a nameserver's addresses and static records for it are merged", () => {
    const z = zone(zonesFrom({ nameservers: NAMESERVERS, records: "ns1 A 192.0.2.53\nns1 A 192.0.2.54" }), "example.com");
    expect(at(z, "ns1.example.com")).toEqual([
      "ns1.example.com. 300 IN A 192.0.2.53",
      "ns1.example.com. 300 IN A 192.0.2.54",
      "ns1.example.com. 300 IN AAAA 2001:db8::53",
    ]);
  });
});

describe("buildZones: serials", () => {
  const calls: [string, string][] = [];
  const serialFor = (apex: string, hash: string) => {
    calls.push([apex, hash]);
    return 2024010100 + calls.length;
  };
  const hashOf = (dns: Partial<DnsConfig>, services: ServiceConfig[] = []) =>
    zone(buildZones({ dns: dnsConfig(dns), services, serialFor }), "example.com").contentHash;

  test("serialFor gets each zone and its content hash; the serial is what it returns", () => {
    calls.length = 0;
    const zones = buildZones({ dns: dnsConfig({ zones: ["example.com", "example.org"] }), services: [], serialFor });
    expect(calls.map(([apex]) => apex)).toEqual(["example.com", "example.org"]);
    expect(calls[0]![1]).toMatch(/^[0-9a-f]{64}$/);
    expect(calls[0]![1]).not.toBe(calls[1]![1]);
    expect(zone(zones, "example.org").serial).toBe(2024010100 + 2);
    expect(zone(zones, "example.org").soa.rdata[0]).toMatchObject({ kind: "soa", serial: 2024010100 + 2 });
  });

  test("the hash ignores record order and duplicates", () => {
    expect(hashOf({ records: "a A 192.0.2.1\nb A 192.0.2.2" })).toBe(hashOf({ records: "b A 192.0.2.2\na A 192.0.2.1\na A 192.0.2.1" }));
  });

  test("the hash changes with records, SOA settings and services", () => {
    const base = hashOf({ records: "a A 192.0.2.1" }, [service("app.example.com", ["192.0.2.10"])]);
    expect(hashOf({ records: "a A 192.0.2.9" }, [service("app.example.com", ["192.0.2.10"])])).not.toBe(base);
    expect(hashOf({ records: "a A 192.0.2.1", soa: { ...dnsConfig().soa, refresh: 7200 } }, [service("app.example.com", ["192.0.2.10"])])).not.toBe(base);
    expect(hashOf({ records: "a A 192.0.2.1" }, [service("app.example.com", ["192.0.2.11"])])).not.toBe(base);
    expect(hashOf({ records: "a A 192.0.2.1" }, [{ ...service("app.example.com", ["192.0.2.10"]), policy: "failover" }])).not.toBe(base);
    expect(hashOf({ records: "a A 192.0.2.1" }, [{ ...service("app.example.com", ["192.0.2.10"]), ttl: 5 }])).not.toBe(base);
  });

  test("the hash does not depend on backend order", () => {
    const a = hashOf({}, [service("app.example.com", ["192.0.2.10", "192.0.2.11"])]);
    expect(hashOf({}, [service("app.example.com", ["192.0.2.11", "192.0.2.10"])])).toBe(a);
  });
});

describe("buildZones: records and services", () => {
  test("records go to the zone with the longest matching apex; a child zone is delegated from its parent", () => {
    const zones = zonesFrom({
      zones: ["example.com", "sub.example.com"],
      nameservers: NAMESERVERS,
      records: "www A 192.0.2.1\nwww.sub A 192.0.2.2",
    });
    expect(at(zone(zones, "example.com"), "www.example.com")).toEqual(["www.example.com. 300 IN A 192.0.2.1"]);
    expect(at(zone(zones, "sub.example.com"), "www.sub.example.com")).toEqual(["www.sub.example.com. 300 IN A 192.0.2.2"]);
    expect(zone(zones, "example.com").nodes.has("www.sub.example.com")).toBeFalse();
    expect(at(zone(zones, "example.com"), "sub.example.com")).toEqual(["sub.example.com. 300 IN NS ns1.example.com.", "sub.example.com. 300 IN NS ns2.example.net."]);
    expect([...zone(zones, "example.com").cuts]).toEqual(["sub.example.com"]);
  });

  test("one TTL per RRset, the smallest; duplicates dropped", () => {
    const z = zone(zonesFrom({ records: "a 600 A 192.0.2.1\na 60 A 192.0.2.2\na 300 A 192.0.2.1" }), "example.com");
    expect(at(z, "a.example.com")).toEqual(["a.example.com. 60 IN A 192.0.2.1", "a.example.com. 60 IN A 192.0.2.2"]);
  });

  test("a service gets a set per family its backends or fallback have, with its TTL", () => {
    const z = zone(
      zonesFrom({ records: "app TXT owned-by-team-a" }, [
        service("app.example.com", ["192.0.2.10"]),
        service("v6.example.com", ["2001:db8::10"]),
        service("fb.example.com", ["192.0.2.30"], { mode: "fallback", addresses: ["2001:db8::99"] }),
      ]),
      "example.com",
    );
    expect(at(z, "app.example.com")).toEqual(["app.example.com. 30 IN A <service app.example.com>", 'app.example.com. 300 IN TXT "owned-by-team-a"']);
    expect(at(z, "v6.example.com")).toEqual(["v6.example.com. 30 IN AAAA <service v6.example.com>"]);
    expect(at(z, "fb.example.com")).toEqual(["fb.example.com. 30 IN A <service fb.example.com>", "fb.example.com. 30 IN AAAA <service fb.example.com>"]);
  });

  test("empty non-terminals and delegation points are recorded", () => {
    const z = zone(zonesFrom({ records: "a.b.c TXT x\nsub NS ns.other.net.\n_sip._tcp SRV 0 0 5060 sip" }), "example.com");
    expect([...z.emptyNonTerminals].sort()).toEqual(["_tcp.example.com", "b.c.example.com", "c.example.com"]);
    expect([...z.cuts]).toEqual(["sub.example.com"]);
  });

  test("the zone set finds the longest enclosing zone, and is frozen", () => {
    const zones = zonesFrom({ zones: ["example.com", "a.example.com"] });
    expect(zones.findZone("x.a.example.com")?.apex).toBe("a.example.com");
    expect(zones.findZone("a.example.com")?.apex).toBe("a.example.com");
    expect(zones.findZone("b.example.com")?.apex).toBe("example.com");
    expect(zones.findZone("example.net")).toBeUndefined();
    expect(Object.isFrozen(zones)).toBeTrue();
  });
});

describe("buildZones: errors", () => {
  const cases: { name: string; dns: Partial<DnsConfig>; services?: ServiceConfig[]; message: string }[] = [
    { name: "record outside every zone", dns: { records: "www.example.org. A 192.0.2.1" }, message: 'record "www.example.org. 300 IN A 192.0.2.1" in dns.records is outside every zone in dns.zones' },
    { name: "NS at the apex in records", dns: { records: "@ NS ns9.example.net." }, message: 'record "example.com. 300 IN NS ns9.example.net.": the NS records at a zone apex come from dns.nameservers' },
    { name: "CNAME and other data", dns: { records: "www CNAME a\nwww TXT x" }, message: '"www.example.com" has a CNAME and other data (TXT); a CNAME must stand alone' },
    { name: "CNAME at the apex", dns: { records: "@ CNAME other.example.net." }, message: '"example.com" has a CNAME and other data (NS); a CNAME must stand alone' },
    { name: "two CNAMEs", dns: { records: "www CNAME a\nwww CNAME b" }, message: '"www.example.com" has 2 CNAME records; a name can have only one' },
    { name: "service with static A", dns: { records: "app A 192.0.2.1" }, services: [service("app.example.com", ["192.0.2.10"])], message: '"app.example.com" is a service, so vigil answers its A/AAAA; it cannot also have static A records' },
    { name: "service with static CNAME", dns: { records: "app CNAME www" }, services: [service("app.example.com", ["192.0.2.10"])], message: '"app.example.com" is a service, so vigil answers its A/AAAA; it cannot also have static CNAME records' },
    { name: "service outside every zone", dns: {}, services: [service("app.example.org", ["192.0.2.10"])], message: 'service "app.example.org" is outside every zone in dns.zones' },
    { name: "service twice", dns: {}, services: [service("app.example.com", ["192.0.2.10"]), service("app.example.com", ["192.0.2.11"])], message: 'service "app.example.com" is defined twice' },
    { name: "service below a delegation", dns: { records: "sub NS ns.other.net." }, services: [service("x.sub.example.com", ["192.0.2.10"])], message: '"x.sub.example.com" has a service, but it is at or below the delegation at "sub.example.com", where only NS, DS and glue (A/AAAA) are served' },
    { name: "data below a delegation", dns: { records: "sub NS ns.other.net.\nwww.sub TXT x" }, message: '"www.sub.example.com" has TXT, but it is at or below the delegation at "sub.example.com", where only NS, DS and glue (A/AAAA) are served' },
    { name: "data at a delegation", dns: { records: "sub NS ns.other.net.\nsub MX 10 mail" }, message: '"sub.example.com" has MX, but it is at or below the delegation at "sub.example.com", where only NS, DS and glue (A/AAAA) are served' },
    { name: "delegation below a delegation", dns: { records: "sub NS ns.other.net.\ndeep.sub NS ns.other.net." }, message: '"deep.sub.example.com" has NS, but it is at or below the delegation at "sub.example.com", where only NS, DS and glue (A/AAAA) are served' },
    { name: "DS without a delegation", dns: { records: "www DS 1 13 2 ABCD" }, message: 'DS at "www.example.com" belongs at a delegation point: a name with NS records below a zone apex' },
    { name: "NS at a wildcard", dns: { records: "*.x NS ns.other.net." }, message: 'NS at the wildcard name "*.x.example.com" is not supported (RFC 4592 §4.2)' },
    { name: "in-zone nameserver without an address", dns: { nameservers: [{ name: "ns1.example.com", addresses: [] }] }, message: 'nameserver "ns1.example.com" is inside zone "example.com" but has no address: give it addresses in dns.nameservers' },
    { name: "nameserver address that is not an IP", dns: { nameservers: [{ name: "ns1.example.com", addresses: ["ns.example.net"] }] }, message: 'nameserver "ns1.example.com": "ns.example.net" is not an IP address' },
    { name: "zone listed twice", dns: { zones: ["example.com", "example.com"] }, message: 'zone "example.com" is listed twice in dns.zones' },
  ];
  for (const c of cases) test(c.name, () => expect(buildError(c.dns, c.services)).toBe(c.message));

  test("record syntax errors come through with their line", () => {
    expect(() => zonesFrom({ records: "www A 192.0.2.1\nbad A 1.2.3" })).toThrow(new RecordSyntaxError(2, 'expected an IPv4 address for A, got "1.2.3"'));
  });
});
