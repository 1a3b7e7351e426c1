// Rules a zone's data must keep before it is served. Each broken rule is a ZoneBuildError that names
// the owner and the rule, so the operator can fix dns.records or the services.

import { labelsOf } from "../../lib/dns-name.ts";
import type { RRset, ServiceRRset } from "../types.ts";
import { RRType } from "../types.ts";
import { ZoneBuildError } from "./build-error.ts";
import type { RRsetTree } from "./rrsets.ts";
import { typeName } from "./type-names.ts";
import { highestCut } from "./zone.ts";

export type ServiceTree = ReadonlyMap<string, ReadonlyMap<number, ServiceRRset>>;

const GLUE = new Set<number>([RRType.A, RRType.AAAA]);
/** At a delegation point only the referral (NS), the parent's DS and glue (when the NS is its own target). */
const AT_CUT = new Set<number>([RRType.NS, RRType.DS, RRType.A, RRType.AAAA]);
const SERVICE_CLASH = [RRType.A, RRType.AAAA, RRType.CNAME];

/** Names below the apex with NS records. */
export function delegationPoints(apex: string, records: RRsetTree): Set<string> {
  const cuts = new Set<string>();
  for (const [name, types] of records) {
    if (name !== apex && types.has(RRType.NS)) cuts.add(name);
  }
  return cuts;
}

export function checkZoneData(apex: string, records: RRsetTree, services: ServiceTree, cuts: ReadonlySet<string>): void {
  for (const name of services.keys()) checkServiceName(name, records.get(name));
  for (const [name, types] of records) checkCname(name, types, services.has(name));
  checkDelegations(apex, records, services, cuts);
}

function checkServiceName(name: string, types: ReadonlyMap<number, unknown> | undefined): void {
  const clash = SERVICE_CLASH.filter((type) => types?.has(type)).map(typeName);
  if (clash.length > 0) {
    throw new ZoneBuildError(
      `"${name}" is a service, so vigil answers its A/AAAA; it cannot also have static ${clash.join("/")} records`,
    );
  }
}

/** RFC 1034 §3.6.2 and RFC 2181 §10.1: a CNAME stands alone, and there is at most one. */
function checkCname(name: string, types: ReadonlyMap<number, RRset>, isService: boolean): void {
  const cname = types.get(RRType.CNAME);
  if (!cname) return;
  if (cname.rdata.length > 1) {
    throw new ZoneBuildError(`"${name}" has ${cname.rdata.length} CNAME records; a name can have only one`);
  }
  const others = [...types.keys()].filter((type) => type !== RRType.CNAME).map(typeName);
  if (isService) others.push("a service");
  if (others.length > 0) {
    throw new ZoneBuildError(`"${name}" has a CNAME and other data (${others.join(", ")}); a CNAME must stand alone`);
  }
}

/** Data at or below a cut belongs to the child zone and would never be answered here, except glue. */
function checkDelegations(apex: string, records: RRsetTree, services: ServiceTree, cuts: ReadonlySet<string>): void {
  for (const cut of cuts) {
    if (labelsOf(cut)[0] === "*") throw new ZoneBuildError(`NS at the wildcard name "${cut}" is not supported (RFC 4592 §4.2)`);
  }
  for (const [name, types] of records) {
    if (types.has(RRType.DS) && !cuts.has(name)) {
      throw new ZoneBuildError(`DS at "${name}" belongs at a delegation point: a name with NS records below a zone apex`);
    }
    const cut = highestCut(cuts, apex, name);
    if (cut === undefined) continue;
    const allowed = cut === name ? AT_CUT : GLUE;
    const occluded = [...types.keys()].filter((type) => !allowed.has(type)).map(typeName);
    if (occluded.length > 0) throw occludedError(name, occluded.join(", "), cut);
  }
  for (const name of services.keys()) {
    const cut = highestCut(cuts, apex, name);
    if (cut !== undefined) throw occludedError(name, "a service", cut);
  }
}

function occludedError(name: string, what: string, cut: string): ZoneBuildError {
  return new ZoneBuildError(
    `"${name}" has ${what}, but it is at or below the delegation at "${cut}", where only NS, DS and glue (A/AAAA) are served`,
  );
}
