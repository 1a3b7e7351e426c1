import { createHash } from "node:crypto";
import type { ServiceConfig } from "../../config/types.ts";
import type { RRset } from "../types.ts";
import { formatRRset } from "./present.ts";

/**
 * sha256 hex of what a zone serves, whatever order it was written in: its records (the SOA with
 * serial 0), and each service's name, policy, TTL, backends and fallback. Health is left out, so the
 * serial moves when the configuration does, not when a backend goes down.
 */
export function zoneContentHash(rrsets: Iterable<RRset>, services: readonly ServiceConfig[]): string {
  const records = [...rrsets].flatMap(formatRRset).sort();
  const serviceLines = services
    .map((s) =>
      JSON.stringify({
        fqdn: s.fqdn,
        policy: s.policy,
        ttl: s.ttl,
        whenAllDown: s.when_all_down,
        backends: s.backends.map((b) => JSON.stringify([b.address, b.port, b.weight, b.priority, b.region ?? null])).sort(),
      }),
    )
    .sort();
  return createHash("sha256").update(JSON.stringify({ records, services: serviceLines })).digest("hex");
}
