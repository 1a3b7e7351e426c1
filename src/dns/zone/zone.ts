// Built zones as lookup reads them. A ZoneSet is a value: a reload builds a new one and swaps it in.

import type { RRset, ServiceRRset } from "../types.ts";
import { RRType } from "../types.ts";
import { nameAndAncestors } from "./ancestors.ts";
import { joinName } from "../../lib/dns-name.ts";

export interface ZoneNode {
  /** Static data by type; at the apex also SOA and NS. */
  readonly rrsets: ReadonlyMap<number, RRset>;
  /** A/AAAA sets a GSLB service answers, by type. */
  readonly services: ReadonlyMap<number, ServiceRRset>;
}

export interface Zone {
  readonly apex: string;
  readonly serial: number;
  /** sha256 hex of the zone's content, health left out; the serial is derived from it. */
  readonly contentHash: string;
  readonly soa: RRset;
  readonly ns: RRset;
  /** Every name that owns data, glue included. */
  readonly nodes: ReadonlyMap<string, ZoneNode>;
  /** Names with descendants but no data of their own: they exist, so they get NODATA (RFC 8020). */
  readonly emptyNonTerminals: ReadonlySet<string>;
  /** Names below the apex that have NS: delegation points. */
  readonly cuts: ReadonlySet<string>;
}

export class ZoneSet {
  private readonly byApex: ReadonlyMap<string, Zone>;

  constructor(readonly zones: readonly Zone[]) {
    this.byApex = new Map(zones.map((zone) => [zone.apex, zone]));
    Object.freeze(this);
  }

  /** The zone with the longest apex at or above `name`. */
  findZone(name: string): Zone | undefined {
    return enclosingZone(this.byApex, name);
  }

  /** The zone that holds data of this type at this name: as findZone, except for DS (see enclosingZone). */
  zoneForType(name: string, type: number): Zone | undefined {
    return enclosingZone(this.byApex, name, type);
  }
}

/**
 * The entry of the longest apex at or above `name`. A DS record lives on the parent side of a cut
 * (RFC 4035 §2.4), so a DS at one of our apexes belongs to the zone above it when we serve that one too.
 */
export function enclosingZone<T>(byApex: ReadonlyMap<string, T>, name: string, type?: number): T | undefined {
  const names = nameAndAncestors(name);
  const from = type === RRType.DS && byApex.has(name) && names.length > 1 ? 1 : 0;
  for (let i = from; i < names.length; i++) {
    const zone = byApex.get(names[i]!);
    if (zone) return zone;
  }
  return from === 1 ? byApex.get(name) : undefined;
}

/** The highest delegation point at or above `name` (below the apex): where a referral starts. */
export function highestCut(cuts: ReadonlySet<string>, apex: string, name: string): string | undefined {
  if (cuts.size === 0) return undefined;
  let highest: string | undefined;
  for (const ancestor of nameAndAncestors(name)) {
    if (ancestor === apex) break;
    if (cuts.has(ancestor)) highest = ancestor;
  }
  return highest;
}

/** A name exists when it owns data or has descendants that do (RFC 8020): NODATA, not NXDOMAIN. */
export function nameExists(zone: Zone, name: string): boolean {
  return zone.nodes.has(name) || zone.emptyNonTerminals.has(name);
}

/** RFC 4592 §3.3.1: "*." under the closest existing ancestor, the source a wildcard answer comes from. */
export function wildcardFor(zone: Zone, name: string): string {
  const encloser = nameAndAncestors(name).find((n) => n !== name && nameExists(zone, n));
  return joinName("*", encloser ?? zone.apex);
}
