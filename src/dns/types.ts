// DNS data as every stage of the answer path sees it. Names are presentation form, lower case,
// without the trailing dot (the root is ""), with RFC 1035 escapes (\. and \DDD) for odd bytes.

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  DS: 43,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  CDS: 59,
  CDNSKEY: 60,
  ANY: 255,
  CAA: 257,
} as const;

export const RRClass = { IN: 1, ANY: 255 } as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** Extended rcode 16: needs OPT; upper 8 bits go in the OPT TTL field. */
  BADVERS: 16,
} as const;

export const Opcode = { QUERY: 0 } as const;

export const EdnsOption = { ECS: 8 } as const;

/**
 * Record data in the form the encoder needs: names kept apart from bytes so they can be compressed
 * (RFC 3597 §4: only the RFC 1035 types' names are compressed; SRV's target never is).
 */
export type RData =
  /** Fully encoded rdata with no names to compress (A, AAAA, TXT, CAA, DS, DNSKEY, RRSIG, NSEC, unknown types). */
  | { kind: "bytes"; bytes: Uint8Array }
  /** NS, CNAME, PTR: one compressible name. */
  | { kind: "name"; target: string }
  | { kind: "mx"; preference: number; exchange: string }
  | {
      kind: "soa";
      mname: string;
      rname: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    }
  /** SRV: the target is written uncompressed (RFC 2782). */
  | { kind: "srv"; priority: number; weight: number; port: number; target: string };

export interface RR {
  name: string;
  type: number;
  ttl: number;
  rdata: RData;
}

/** All records of one name and type; they share a TTL (RFC 2181 §5.2). */
export interface RRset {
  name: string;
  type: number;
  ttl: number;
  rdata: RData[];
}

/**
 * An A or AAAA set whose members a GSLB service chooses per query from the health snapshot.
 * The zone knows only which service answers; the policy stage fills in the addresses.
 */
export interface ServiceRRset {
  name: string;
  type: typeof RRType.A | typeof RRType.AAAA;
  ttl: number;
  /** The service's fqdn, the key into the services the policy stage knows. */
  service: string;
}

export type AnswerRRset = RRset | ServiceRRset;

/** The records of a set, one RR each, as the encoder takes them. */
export function rrsOf(set: RRset): RR[] {
  return set.rdata.map((rdata) => ({ name: set.name, type: set.type, ttl: set.ttl, rdata }));
}

export function isServiceRRset(set: AnswerRRset): set is ServiceRRset {
  return "service" in set;
}

/**
 * What a zone says about (qname, qtype), before any policy or signing. The server maps the kind to
 * rcode and flags (as CoreDNS's file plugin does). `answer` for a CNAME chain holds the CNAMEs in order,
 * then whatever the chain's target resolved to inside our zones.
 */
export type LookupResult =
  | { kind: "answer"; zone: string; answer: AnswerRRset[]; additional: RRset[] }
  /** The name exists but has no data of that type (RFC 2308 NODATA); `answer` may hold a CNAME chain. */
  | { kind: "nodata"; zone: string; answer: AnswerRRset[]; soa: RRset }
  /** The name does not exist; `answer` may hold a CNAME chain that led here. */
  | { kind: "nxdomain"; zone: string; answer: AnswerRRset[]; soa: RRset }
  /** The name is at or below a delegation: a referral, not authoritative. */
  | { kind: "delegation"; zone: string; ns: RRset; glue: RRset[] }
  /** Not in any zone we serve. */
  | { kind: "refused" };
