// dns.zones + dns.records + dns.nameservers + services → ZoneSet. For every zone:
// - NS at the apex: every dns.nameservers name (each nameserver serves every zone), or "ns1.<zone>"
//   when none are configured, with glue from `defaultNameserverAddresses` when given.
// - Glue: a nameserver name inside one of our zones gets A/AAAA records in the zone that holds it, so
//   it also answers for itself.
// - SOA: mname = the first NS, rname = dns.soa.rname or "hostmaster.<zone>", serial = serialFor(zone,
//   content hash). Its TTL is dns.soa.minimum, so the negative-caching TTL, min(SOA TTL, MINIMUM)
//   (RFC 2308 §5), is exactly the configured minimum.
// - Static records go to the zone with the longest apex above them; services get an A set if any
//   backend (or fallback address) is IPv4 and an AAAA set if any is IPv6.
// - A zone below another of ours is delegated from that one: the parent gets NS at the child's apex.

import type { DnsConfig, ServiceConfig } from "../../config/types.ts";
import { joinName, parentOf } from "../../lib/dns-name.ts";
import type { RR, RRset, ServiceRRset } from "../types.ts";
import { RRType } from "../types.ts";
import { ipFamily, parseIp } from "../../lib/cidr.ts";
import { nameAndAncestors } from "./ancestors.ts";
import { ZoneBuildError } from "./build-error.ts";
import { zoneContentHash } from "./content-hash.ts";
import { formatRR } from "./present.ts";
import { parseRecords } from "./records.ts";
import { groupRecords, type RRsetTree } from "./rrsets.ts";
import { type ServiceTree, checkZoneData, delegationPoints } from "./zone-checks.ts";
import { type Zone, type ZoneNode, ZoneSet, enclosingZone } from "./zone.ts";

export { ZoneBuildError } from "./build-error.ts";
export type { Zone, ZoneSet } from "./zone.ts";

export interface BuildZonesInput {
  dns: DnsConfig;
  services: readonly ServiceConfig[];
  serialFor: (zone: string, contentHash: string) => number;
  /**
   * Only used when dns.nameservers is empty: the addresses of the default "ns1.<zone>" (the specific
   * listen addresses). Leave it out when listening on a wildcard address; ns1 then has no glue.
   */
  defaultNameserverAddresses?: readonly string[];
  /** Records vigil makes itself for a zone's apex (DNSKEY, CDS, CDNSKEY), by zone apex. */
  apexRecords?: (apex: string) => readonly RR[];
}

interface ZoneDraft {
  apex: string;
  nameservers: string[];
  records: RR[];
  services: ServiceConfig[];
}

/** Throws RecordSyntaxError for bad dns.records text and ZoneBuildError for data that does not fit together. */
export function buildZones(input: BuildZonesInput): ZoneSet {
  const { dns } = input;
  const ttl = dns.default_ttl;
  const drafts = new Map<string, ZoneDraft>();
  for (const apex of dns.zones) {
    if (drafts.has(apex)) throw new ZoneBuildError(`zone "${apex}" is listed twice in dns.zones`);
    const nameservers = dns.nameservers.length > 0 ? dns.nameservers.map((ns) => ns.name) : [joinName("ns1", apex)];
    const records = [...nameserverRecords(apex, nameservers, ttl), ...(input.apexRecords?.(apex) ?? [])];
    drafts.set(apex, { apex, nameservers, records, services: [] });
  }
  const draftFor = (name: string, type?: number) => enclosingZone(drafts, name, type);

  for (const rr of parseRecords(dns.records, { origin: dns.zones[0] ?? "", defaultTtl: ttl })) {
    const draft = draftFor(rr.name, rr.type);
    if (!draft) throw new ZoneBuildError(`record "${formatRR(rr)}" in dns.records is outside every zone in dns.zones`);
    if (rr.type === RRType.NS && rr.name === draft.apex) {
      throw new ZoneBuildError(`record "${formatRR(rr)}": the NS records at a zone apex come from dns.nameservers`);
    }
    draft.records.push(rr);
  }
  for (const { name, addresses } of glueSources(input)) {
    draftFor(name)?.records.push(...addressRecords(name, addresses, ttl));
  }
  for (const child of drafts.values()) {
    const above = parentOf(child.apex);
    const parent = above === null ? undefined : draftFor(above);
    parent?.records.push(...nameserverRecords(child.apex, child.nameservers, ttl));
  }
  for (const service of input.services) {
    const draft = draftFor(service.fqdn);
    if (!draft) throw new ZoneBuildError(`service "${service.fqdn}" is outside every zone in dns.zones`);
    if (draft.services.some((s) => s.fqdn === service.fqdn)) {
      throw new ZoneBuildError(`service "${service.fqdn}" is defined twice`);
    }
    draft.services.push(service);
  }

  const zones = new ZoneSet([...drafts.values()].map((draft) => assembleZone(draft, input)));
  checkNameserversHaveAddresses(zones, dns);
  return zones;
}

function assembleZone(draft: ZoneDraft, { dns, serialFor }: BuildZonesInput): Zone {
  const { apex } = draft;
  const records = groupRecords(draft.records);
  const services = serviceTree(draft.services);
  const cuts = delegationPoints(apex, records);
  checkZoneData(apex, records, services, cuts);

  const soaWithSerial = (serial: number): RRset => ({
    name: apex,
    type: RRType.SOA,
    ttl: dns.soa.minimum,
    rdata: [
      {
        kind: "soa",
        mname: draft.nameservers[0]!,
        rname: dns.soa.rname ?? joinName("hostmaster", apex),
        serial,
        refresh: dns.soa.refresh,
        retry: dns.soa.retry,
        expire: dns.soa.expire,
        minimum: dns.soa.minimum,
      },
    ],
  });
  const allSets = [...records.values()].flatMap((types) => [...types.values()]);
  const contentHash = zoneContentHash([...allSets, soaWithSerial(0)], draft.services);
  const serial = serialFor(apex, contentHash);
  const soa = soaWithSerial(serial);
  const apexTypes = records.get(apex)!; // always there: it holds the NS set
  apexTypes.set(RRType.SOA, soa);

  const nodes = mergeNodes(records, services);
  return Object.freeze({
    apex,
    serial,
    contentHash,
    soa,
    ns: apexTypes.get(RRType.NS)!,
    nodes,
    emptyNonTerminals: emptyNonTerminals(apex, nodes),
    cuts,
  });
}

function nameserverRecords(owner: string, nameservers: readonly string[], ttl: number): RR[] {
  return nameservers.map((target) => ({ name: owner, type: RRType.NS, ttl, rdata: { kind: "name", target } }));
}

function glueSources({ dns, defaultNameserverAddresses = [] }: BuildZonesInput): { name: string; addresses: readonly string[] }[] {
  if (dns.nameservers.length > 0) return dns.nameservers;
  return dns.zones.map((apex) => ({ name: joinName("ns1", apex), addresses: defaultNameserverAddresses }));
}

function addressRecords(name: string, addresses: readonly string[], ttl: number): RR[] {
  return addresses.map((address) => {
    const bytes = parseIp(address);
    if (!bytes) throw new ZoneBuildError(`nameserver "${name}": "${address}" is not an IP address`);
    return { name, type: bytes.length === 4 ? RRType.A : RRType.AAAA, ttl, rdata: { kind: "bytes", bytes } };
  });
}

function serviceTree(services: readonly ServiceConfig[]): ServiceTree {
  const tree = new Map<string, Map<number, ServiceRRset>>();
  for (const service of services) {
    const families = new Set<number>(service.backends.map((b) => b.family));
    if (service.when_all_down.mode === "fallback") {
      for (const address of service.when_all_down.addresses) {
        const family = ipFamily(address);
        if (!family) throw new ZoneBuildError(`service "${service.fqdn}": fallback "${address}" is not an IP address`);
        families.add(family);
      }
    }
    const sets = new Map<number, ServiceRRset>();
    const set = (type: typeof RRType.A | typeof RRType.AAAA) =>
      sets.set(type, { name: service.fqdn, type, ttl: service.ttl, service: service.fqdn });
    if (families.has(4)) set(RRType.A);
    if (families.has(6)) set(RRType.AAAA);
    tree.set(service.fqdn, sets);
  }
  return tree;
}

function mergeNodes(records: RRsetTree, services: ServiceTree): Map<string, ZoneNode> {
  const nodes = new Map<string, ZoneNode>();
  for (const name of new Set([...records.keys(), ...services.keys()])) {
    nodes.set(name, { rrsets: records.get(name) ?? new Map(), services: services.get(name) ?? new Map() });
  }
  return nodes;
}

function emptyNonTerminals(apex: string, nodes: ReadonlyMap<string, ZoneNode>): Set<string> {
  const empty = new Set<string>();
  for (const name of nodes.keys()) {
    for (const ancestor of nameAndAncestors(name)) {
      if (ancestor === apex) break;
      if (!nodes.has(ancestor)) empty.add(ancestor);
    }
  }
  return empty;
}

/** A nameserver inside our zones cannot be reached without an address there (glue). */
function checkNameserversHaveAddresses(zones: ZoneSet, dns: DnsConfig): void {
  for (const { name } of dns.nameservers) {
    const zone = zones.findZone(name);
    const types = zone?.nodes.get(name)?.rrsets;
    if (zone && !types?.has(RRType.A) && !types?.has(RRType.AAAA)) {
      throw new ZoneBuildError(
        `nameserver "${name}" is inside zone "${zone.apex}" but has no address: give it addresses in dns.nameservers`,
      );
    }
  }
}
