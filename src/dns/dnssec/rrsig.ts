// RRSIG records (RFC 4034 §3): signing an RRset with a zone key, and checking such a signature.

import { labelsOf } from "../../lib/dns-name.ts";
import { RRClass, RRType, type RR, type RRset } from "../types.ts";
import { readName, skipName } from "../wire/read-name.ts";
import { algorithmFor, findAlgorithm } from "./algorithms.ts";
import { canonicalName, canonicalRdataSet } from "./canonical.ts";
import type { DnssecKey } from "./types.ts";

export type SigningKey = Pick<DnssecKey, "algorithm" | "privateKey" | "tag">;

/** Unix seconds; written modulo 2^32 as RFC 4034 §3.1.5 serial numbers. */
export interface SignatureTimes {
  inception: number;
  expiration: number;
}

/** The fields of RRSIG rdata, signer name in canonical presentation form. */
export interface RrsigFields {
  typeCovered: number;
  algorithm: number;
  labels: number;
  originalTtl: number;
  expiration: number;
  inception: number;
  keyTag: number;
  signer: string;
  signature: Uint8Array;
}

/** type covered(2) algorithm(1) labels(1) original TTL(4) expiration(4) inception(4) key tag(2). */
const FIXED_FIELDS = 18;
const WILDCARD = "*";

/**
 * The RRSIG over `set` by `key` on behalf of the zone `signer` (its apex). The RRSIG takes the set's
 * owner and TTL. A wildcard set ("*.example.com") is signed as such; the answer path renames the
 * RRSIG to the query name, which the labels field lets a validator undo (RFC 4035 §5.3.2).
 */
export function signRRset(set: RRset, key: SigningKey, signer: string, times: SignatureTimes): RR {
  const ownerLabels = labelsOf(set.name);
  const labels = ownerLabels[0] === WILDCARD ? ownerLabels.length - 1 : ownerLabels.length;
  const prefix = rrsigPrefix({
    typeCovered: set.type,
    algorithm: key.algorithm,
    labels,
    originalTtl: set.ttl,
    expiration: times.expiration,
    inception: times.inception,
    keyTag: key.tag,
    signer,
  });
  const signature = algorithmFor(key.algorithm).sign(signedData(prefix, set.name, set, set.ttl), key.privateKey);
  const rdata = new Uint8Array(prefix.length + signature.length);
  rdata.set(prefix);
  rdata.set(signature, prefix.length);
  return { name: set.name, type: RRType.RRSIG, ttl: set.ttl, rdata: { kind: "bytes", bytes: rdata } };
}

/**
 * True when `rrsig` is a valid signature by `publicKey` over `set` (whose owner may be a name a
 * wildcard was expanded to). Checks the covered type and the signature, not the validity period:
 * parseRrsig gives the times to whoever needs to judge them.
 */
export function verifyRRsig(set: RRset, rrsig: RR, publicKey: Uint8Array): boolean {
  if (rrsig.type !== RRType.RRSIG || rrsig.rdata.kind !== "bytes") return false;
  const fields = parseRrsig(rrsig.rdata.bytes);
  const algorithm = fields && findAlgorithm(fields.algorithm);
  if (!fields || !algorithm || fields.typeCovered !== set.type) return false;
  const ownerLabels = labelsOf(set.name);
  if (fields.labels > ownerLabels.length) return false;
  const owner =
    fields.labels < ownerLabels.length ? [WILDCARD, ...ownerLabels.slice(ownerLabels.length - fields.labels)].join(".") : set.name;
  const data = signedData(rrsigPrefix(fields), owner, set, fields.originalTtl);
  return algorithm.verify(data, fields.signature, publicKey);
}

/** The fields of RRSIG rdata, or null when it is malformed. */
export function parseRrsig(rdata: Uint8Array): RrsigFields | null {
  if (rdata.length < FIXED_FIELDS + 1) return null;
  const signer = readName(rdata, FIXED_FIELDS);
  const end = skipName(rdata, FIXED_FIELDS);
  // The signer name is never compressed (RFC 4034 §3.1.7): it must end in the root label.
  if (signer === null || end < 0 || rdata[end - 1] !== 0) return null;
  const view = new DataView(rdata.buffer, rdata.byteOffset, rdata.byteLength);
  return {
    typeCovered: view.getUint16(0),
    algorithm: rdata[2]!,
    labels: rdata[3]!,
    originalTtl: view.getUint32(4),
    expiration: view.getUint32(8),
    inception: view.getUint32(12),
    keyTag: view.getUint16(16),
    signer,
    signature: rdata.subarray(end),
  };
}

/** RRSIG rdata without the signature, signer name canonical: the first part of what is signed. */
function rrsigPrefix(fields: Omit<RrsigFields, "signature">): Uint8Array {
  const signer = canonicalName(fields.signer);
  const prefix = new Uint8Array(FIXED_FIELDS + signer.length);
  const view = new DataView(prefix.buffer);
  view.setUint16(0, fields.typeCovered);
  prefix[2] = fields.algorithm;
  prefix[3] = fields.labels;
  view.setUint32(4, fields.originalTtl);
  view.setUint32(8, fields.expiration >>> 0);
  view.setUint32(12, fields.inception >>> 0);
  view.setUint16(16, fields.keyTag);
  prefix.set(signer, FIXED_FIELDS);
  return prefix;
}

/**
 * RFC 4034 §3.1.8.1: the RRSIG prefix, then every record of the set in canonical order as
 * owner | type | class | original TTL | rdlength | rdata.
 */
function signedData(prefix: Uint8Array, owner: string, set: RRset, originalTtl: number): Uint8Array {
  const ownerWire = canonicalName(owner);
  const rdatas = canonicalRdataSet(set);
  const recordFixed = ownerWire.length + 10;
  let length = prefix.length;
  for (const rdata of rdatas) length += recordFixed + rdata.length;
  const data = new Uint8Array(length);
  const view = new DataView(data.buffer);
  data.set(prefix);
  let pos = prefix.length;
  for (const rdata of rdatas) {
    data.set(ownerWire, pos);
    pos += ownerWire.length;
    view.setUint16(pos, set.type);
    view.setUint16(pos + 2, RRClass.IN);
    view.setUint32(pos + 4, originalTtl);
    view.setUint16(pos + 8, rdata.length);
    data.set(rdata, pos + 10);
    pos += 10 + rdata.length;
  }
  return data;
}
