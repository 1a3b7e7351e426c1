// SRV discovery: the SRV records of a name at one server become balancer targets. Each record's target
// name gets its addresses from the reply's additional section when the server put them there, else
// from A and AAAA questions to the same server. The SRV weight is the target's weight; priority is
// not used (the balancer's own election and health decide among all targets).

import type * as dnsPacket from "dns-packet";
import type { HostPort } from "../config/types.ts";
import { formatIp, parseIp } from "../lib/cidr.ts";
import { formatHostPort } from "../lib/hostport.ts";
import { queryDns, rcodeName } from "./dns-query.ts";
import { targetKey } from "./pool.ts";
import type { LbTarget } from "./types.ts";

export interface SrvLookupResult {
  /** Sorted by address and port, one per address and port. */
  targets: LbTarget[];
  /** SRV target names for which the server gave no address. */
  unresolved: string[];
}

/**
 * Rejects when the SRV question itself fails (no reply before `signal` aborts, a malformed reply, an
 * rcode other than NOERROR); NOERROR without SRV records is an empty list. A target name whose own
 * questions fail or give nothing is listed in `unresolved`, and the others still count.
 */
export async function lookupSrv(server: HostPort, name: string, signal: AbortSignal): Promise<SrvLookupResult> {
  const reply = await queryDns(server, name, "SRV", signal);
  const rcode = rcodeName(reply);
  if (rcode !== "NOERROR") throw new Error(`SRV ${name} at ${formatHostPort(server)}: ${rcode}`);
  const records = (reply.answers ?? []).filter((a): a is dnsPacket.SrvAnswer => a.type === "SRV");
  // "." as the target: the service is decidedly not offered here (RFC 2782).
  const offered = records.filter((r) => r.data.target !== "" && r.data.target !== ".");
  const known = addressesIn([...(reply.answers ?? []), ...(reply.additionals ?? [])]);
  const names = [...new Set(offered.map((r) => lower(r.data.target)))];
  const addressesByName = new Map<string, string[]>();
  await Promise.all(
    names.map(async (target) => {
      addressesByName.set(target, known.get(target) ?? (await resolveAddresses(server, target, signal)));
    }),
  );
  // RFC 2782: when every weight is 0 they share equally; a 0 among others stays out of elections.
  const allZero = offered.every((r) => (r.data.weight ?? 0) === 0);
  const targets = new Map<string, LbTarget>();
  for (const record of offered) {
    for (const address of addressesByName.get(lower(record.data.target)) ?? []) {
      const target = { address, port: record.data.port, weight: allZero ? 1 : (record.data.weight ?? 0) };
      targets.set(targetKey(target), target);
    }
  }
  return {
    targets: [...targets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, t]) => t),
    unresolved: names.filter((n) => addressesByName.get(n)!.length === 0),
  };
}

/** The A and AAAA records among `records` by owner name; addresses in canonical form, so keys compare. */
function addressesIn(records: readonly dnsPacket.Answer[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const record of records) {
    if (record.type !== "A" && record.type !== "AAAA") continue;
    const bytes = parseIp(record.data);
    if (!bytes) continue;
    const owner = lower(record.name);
    found.set(owner, [...(found.get(owner) ?? []), formatIp(bytes)]);
  }
  return found;
}

/** Both families from the same server; a failed question (other than the deadline) gives no addresses. */
async function resolveAddresses(server: HostPort, name: string, signal: AbortSignal): Promise<string[]> {
  const ask = async (type: "A" | "AAAA") => {
    try {
      const reply = await queryDns(server, name, type, signal);
      // A CNAME chain ends in the records of another owner: every address in the answer is this name's.
      return rcodeName(reply) === "NOERROR" ? [...addressesIn(reply.answers ?? []).values()].flat() : [];
    } catch (err) {
      if (signal.aborted) throw err;
      return [];
    }
  };
  const [v4, v6] = await Promise.all([ask("A"), ask("AAAA")]);
  return [...v4, ...v6];
}

function lower(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}
