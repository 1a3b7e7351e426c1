// Authenticated denial with a pre-signed NSEC chain (RFC 4035 §3.1.3). The chain is built and signed once
// per zone build; a query for a random name then costs a binary search, never a signature. Each method
// returns NSEC records with their RRSIGs, ready for the authority section, and mirrors a decision of
// zone/lookup.ts.

import type { RR } from "../types.ts";
import { RRType } from "../types.ts";
import { nameExists, wildcardFor, type Zone } from "../zone/zone.ts";
import { canonicalKey } from "./name-order.ts";
import { type NsecLink, type SignSet, buildNsecChain, nsecSet, nsecTtl, withSignatures } from "./nsec-chain.ts";

export type { SignSet } from "./nsec-chain.ts";

export class NsecDenial {
  private readonly links: NsecLink[];
  /** canonicalKey of each link's owner, so a search compares plain strings. */
  private readonly ownerKeys: string[];
  /** Per link: its NSEC and RRSIGs. */
  private readonly signed: RR[][];
  private readonly ttl: number;
  /** Service NSECs with a family taken out, by owner and types: signed once per health change, not per query. */
  private readonly serviceVariants = new Map<string, RR[]>();

  constructor(
    private readonly zone: Zone,
    private readonly sign: SignSet,
  ) {
    this.ttl = nsecTtl(zone);
    this.links = buildNsecChain(zone);
    this.ownerKeys = this.links.map((link) => canonicalKey(link.owner));
    this.signed = this.links.map((link) => withSignatures(nsecSet(link.owner, link.next, link.types, this.ttl), sign));
  }

  /** §3.1.3.2: the NSEC covering qname and the one proving no wildcard at the closest encloser. */
  nxdomain(qname: string): RR[] {
    return this.proofs([qname, wildcardFor(this.zone, qname)]);
  }

  /**
   * §3.1.3.1 and §3.1.3.4, for a name lookup answered NODATA. At a name with data: its own NSEC, whose types
   * lack every type lookup said NODATA for. At an empty non-terminal: the NSEC covering it (its next
   * name lies below). A name that exists only through a wildcard: the NSEC covering qname and the NSEC of
   * the wildcard, showing the type is missing there too. The query type is not needed to choose these.
   */
  nodata(qname: string): RR[] {
    if (nameExists(this.zone, qname)) return this.proofs([qname]);
    return this.proofs([qname, wildcardFor(this.zone, qname)]);
  }

  /** §3.1.3.3: an answer synthesized from a wildcard carries the NSEC proving qname itself is absent. */
  wildcardAnswer(qname: string): RR[] {
    return this.proofs([qname]);
  }

  /** §3.1.4.1: a referral to an unsigned child carries the cut's NSEC, showing NS and no DS. [] when it has a DS. */
  delegation(cut: string): RR[] {
    return this.zone.nodes.get(cut)?.rrsets.has(RRType.DS) ? [] : this.proofs([cut]);
  }

  /**
   * NODATA for a service name whose A or AAAA set is empty right now (no healthy backend of that family,
   * or all down with fail_closed). The chain says those types exist, so the NSEC is re-made without them,
   * keeping its next name. `typesLeft`: the address types that still have records.
   */
  emptyService(name: string, typesLeft: readonly number[]): RR[] {
    const index = this.exactIndex(name);
    const serviceTypes = [...(this.zone.nodes.get(name)?.services.keys() ?? [])];
    const gone = serviceTypes.filter((type) => !typesLeft.includes(type));
    if (index < 0 || gone.length === 0) return this.nodata(name);
    const link = this.links[index]!;
    const types = link.types.filter((type) => !gone.includes(type));
    const key = `${name} ${types.join(",")}`;
    let records = this.serviceVariants.get(key);
    if (!records) {
      records = withSignatures(nsecSet(name, link.next, types, this.ttl), this.sign);
      this.serviceVariants.set(key, records);
    }
    return records;
  }

  /** The signed NSECs matching or covering each name, each once. */
  private proofs(names: readonly string[]): RR[] {
    const indexes = new Set(names.map((name) => this.matchOrCoverIndex(name)));
    return [...indexes].flatMap((index) => this.signed[index]!);
  }


  /** The link whose owner is the name, or, when none is, the one that covers it (the last owner before it). */
  private matchOrCoverIndex(name: string): number {
    // A name before every owner (only one outside the zone can be) falls to the last link, which wraps to the apex.
    const key = canonicalKey(name);
    let low = 0;
    let high = this.links.length - 1;
    let found = high;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const owner = this.ownerKeys[middle]!;
      if (owner === key) return middle;
      if (owner < key) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    return found;
  }

  /** The link owned by the name, or -1. */
  private exactIndex(name: string): number {
    const index = this.matchOrCoverIndex(name);
    return this.links[index]!.owner === name ? index : -1;
  }
}
