// Client address → configured region, by longest matching CIDR, and regions ordered by distance.

import type { GeoConfig } from "../../config/types.ts";
import { cidrContains, parseCidr, type Cidr } from "../../lib/cidr.ts";

interface Rule {
  region: string;
  cidr: Cidr;
}

export interface GeoMatch {
  region: string | undefined;
  /** The ECS scope this answer holds for: no rule can tell apart clients that share this prefix. */
  scope: number;
}

export class GeoMap {
  private readonly rules: Rule[];
  private readonly nearestOrder = new Map<string, string[]>();

  constructor(config: GeoConfig) {
    this.rules = config.regions
      .flatMap((r) => r.networks.map((n) => ({ region: r.name, cidr: parseCidr(n) })))
      .sort((a, b) => b.cidr.prefix - a.cidr.prefix);
    for (const region of config.regions) {
      const others = config.regions.filter((r) => r.name !== region.name);
      const from = region.location;
      const ordered = from
        ? others
            .map((r) => ({ name: r.name, d: r.location ? distanceKm(from, r.location) : Infinity }))
            .sort((a, b) => a.d - b.d)
            .map((r) => r.name)
        : others.map((r) => r.name);
      this.nearestOrder.set(region.name, ordered);
    }
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /**
   * Finds the region of an address known to `knownPrefix` bits (the ECS source prefix, or the full
   * length for a resolver's own address). Only rules no longer than what is known can decide.
   */
  locate(address: Uint8Array, knownPrefix: number): GeoMatch {
    const family = address.length === 4 ? 4 : 6;
    const usable = this.rules.filter((r) => r.cidr.family === family && r.cidr.prefix <= knownPrefix);
    const match = usable.find((r) => cidrContains(r.cidr, address));
    const decided = match?.cidr.prefix ?? 0;
    // A longer rule inside the matched block sends some neighbours elsewhere: narrow the scope just
    // enough to leave that rule's network out (one bit past where the two addresses part).
    const block: Cidr = { family, bytes: address, prefix: decided };
    let scope = decided;
    for (const r of usable) {
      if (r.cidr.prefix <= decided || !cidrContains(block, r.cidr.bytes)) continue;
      scope = Math.max(scope, Math.min(r.cidr.prefix, commonPrefixLength(address, r.cidr.bytes) + 1));
    }
    return { region: match?.region, scope: Math.min(scope, knownPrefix) };
  }

  /** Other regions, nearest first (config order when locations are missing). */
  nearest(region: string): readonly string[] {
    return this.nearestOrder.get(region) ?? [];
  }
}

function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const diff = a[i]! ^ b[i]!;
    if (diff !== 0) return i * 8 + Math.clz32(diff) - 24;
  }
  return a.length * 8;
}

/** Great-circle distance (haversine), enough to rank regions. */
function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}
