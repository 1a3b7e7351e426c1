// A small zone signed with our code, written as a zone file for outside validators (BIND, ldns) to judge.
// Names inside rdata are in mixed case on purpose: signatures must cover them lowered (RFC 4034 §6.2).

import { parseIpv4, parseIpv6 } from "../../../src/lib/cidr.ts";
import { algorithmFor } from "../../../src/dns/dnssec/algorithms.ts";
import { dnskeyRdata, keyTag } from "../../../src/dns/dnssec/dnskey.ts";
import { compareCanonical } from "../../../src/dns/dnssec/name-order.ts";
import { nsecSet } from "../../../src/dns/dnssec/nsec-chain.ts";
import { signRRset, type SignatureTimes } from "../../../src/dns/dnssec/rrsig.ts";
import { DnskeyFlags, type AlgorithmNumber, type KeyRole } from "../../../src/dns/dnssec/types.ts";
import { RRType, type RData, type RR, type RRset } from "../../../src/dns/types.ts";
import { formatRR, formatRRset } from "../../../src/dns/zone/present.ts";

export const ZONE = "example.com";
const TTL = 300;
const NEGATIVE_TTL = 60;

const ip4 = (text: string): RData => ({ kind: "bytes", bytes: parseIpv4(text)! });
const ip6 = (text: string): RData => ({ kind: "bytes", bytes: parseIpv6(text)! });
const txt = (...strings: string[]): RData => ({ kind: "bytes", bytes: Uint8Array.from(strings.flatMap((s) => [s.length, ...Buffer.from(s)])) });
const set = (name: string, type: number, ...rdata: RData[]): RRset => ({ name, type, ttl: TTL, rdata });

/** SOA, NS, A, AAAA, MX, TXT, SRV, CNAME, PTR and a wildcard. */
export const ZONE_DATA: RRset[] = [
  {
    name: ZONE,
    type: RRType.SOA,
    ttl: 3600,
    rdata: [{ kind: "soa", mname: "NS1.Example.com", rname: "HostMaster.Example.COM", serial: 2024060101, refresh: 3600, retry: 600, expire: 1209600, minimum: NEGATIVE_TTL }],
  },
  set(ZONE, RRType.NS, { kind: "name", target: "ns1.Example.com" }, { kind: "name", target: "NS2.example.COM" }),
  set(ZONE, RRType.MX, { kind: "mx", preference: 10, exchange: "Mail.Example.com" }, { kind: "mx", preference: 20, exchange: "mail2.EXAMPLE.com" }),
  set(ZONE, RRType.TXT, txt("v=spf1 -all"), txt("Case Stays", "As Written")),
  set("ns1.example.com", RRType.A, ip4("192.0.2.53")),
  set("ns2.example.com", RRType.A, ip4("192.0.2.54")),
  set("ns2.example.com", RRType.AAAA, ip6("2001:db8::54")),
  set("mail.example.com", RRType.A, ip4("192.0.2.25")),
  set("mail2.example.com", RRType.A, ip4("192.0.2.26")),
  set("www.example.com", RRType.A, ip4("192.0.2.2"), ip4("192.0.2.1"), ip4("192.0.2.10")),
  set("www.example.com", RRType.AAAA, ip6("2001:db8::1")),
  set(
    "_sip._tcp.example.com",
    RRType.SRV,
    { kind: "srv", priority: 10, weight: 60, port: 5060, target: "SIP.Example.com" },
    { kind: "srv", priority: 20, weight: 40, port: 5060, target: "sip.example.COM" },
  ),
  set("sip.example.com", RRType.A, ip4("192.0.2.60")),
  set("alias.example.com", RRType.CNAME, { kind: "name", target: "WWW.Example.com" }),
  set("pointer.example.com", RRType.PTR, { kind: "name", target: "Www.EXAMPLE.com" }),
  set("*.wild.example.com", RRType.A, ip4("192.0.2.99")),
];

export interface ZoneKey {
  role: KeyRole;
  algorithm: AlgorithmNumber;
  privateKey: Uint8Array;
  dnskey: Uint8Array;
  tag: number;
}

export function newZoneKey(role: KeyRole, algorithm: AlgorithmNumber): ZoneKey {
  const { privateKey, publicKey } = algorithmFor(algorithm).generate();
  const dnskey = dnskeyRdata(role === "zsk" ? DnskeyFlags.ZSK : DnskeyFlags.KSK, algorithm, publicKey);
  return { role, algorithm, privateKey, dnskey, tag: keyTag(dnskey) };
}

/** Valid from an hour ago for a week. */
export function currentTimes(): SignatureTimes {
  const now = Math.floor(Date.now() / 1000);
  return { inception: now - 3600, expiration: now + 7 * 86400 };
}

/**
 * The zone file: DNSKEY set, data, an NSEC chain, each RRset followed by its RRSIGs. KSKs sign the
 * DNSKEY set, ZSKs everything else, a CSK both.
 */
export function signedZoneFile(keys: ZoneKey[], times: SignatureTimes): string {
  const dnskeys = set(ZONE, RRType.DNSKEY, ...keys.map((key): RData => ({ kind: "bytes", bytes: key.dnskey })));
  const data = [dnskeys, ...ZONE_DATA];
  const lines: string[] = [];
  for (const rrset of [...data, ...nsecChain(data)]) {
    const signers = keys.filter((key) => (rrset.type === RRType.DNSKEY ? key.role !== "zsk" : key.role !== "ksk"));
    const signatures: RR[] = signers.map((key) => signRRset(rrset, key, ZONE, times));
    lines.push(...formatRRset(rrset), ...signatures.map(formatRR));
  }
  return lines.join("\n") + "\n";
}

function nsecChain(data: RRset[]): RRset[] {
  const owners = [...new Set(data.map((s) => s.name))].sort(compareCanonical);
  return owners.map((owner, i) => {
    const types = data.filter((s) => s.name === owner).map((s) => s.type);
    return nsecSet(owner, owners[(i + 1) % owners.length]!, types, NEGATIVE_TTL);
  });
}
