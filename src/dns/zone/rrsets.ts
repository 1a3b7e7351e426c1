import type { RR, RRset } from "../types.ts";
import { formatRdata } from "./present.ts";

/** Names → types → RRsets. */
export type RRsetTree = Map<string, Map<number, RRset>>;

/**
 * Groups records into RRsets by owner and type, in the order first seen. Duplicate records are dropped;
 * a set whose records were given different TTLs takes the smallest (RFC 2181 §5.2 says they must agree).
 */
export function groupRecords(records: readonly RR[]): RRsetTree {
  const tree: RRsetTree = new Map();
  const seen = new Set<string>();
  for (const rr of records) {
    const key = `${rr.name} ${rr.type} ${formatRdata(rr.type, rr.rdata)}`;
    let types = tree.get(rr.name);
    if (!types) tree.set(rr.name, (types = new Map()));
    const set = types.get(rr.type);
    if (!set) types.set(rr.type, { name: rr.name, type: rr.type, ttl: rr.ttl, rdata: [rr.rdata] });
    else {
      set.ttl = Math.min(set.ttl, rr.ttl);
      if (!seen.has(key)) set.rdata.push(rr.rdata);
    }
    seen.add(key);
  }
  return tree;
}
