// The shapes the wire layer hands to and takes from the server pipeline.

import type { RR } from "../types.ts";

export interface ClientSubnet {
  family: 1 | 2;
  sourcePrefix: number;
  scopePrefix: number;
  /** The address bytes as sent: ceil(sourcePrefix / 8) octets. */
  address: Uint8Array;
}

export interface Edns {
  /** The requestor's UDP payload size (values under 512 are treated as 512). */
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  /** Present only when the query carried a well-formed ECS option. */
  clientSubnet?: ClientSubnet;
}

export interface ParsedQuery {
  id: number;
  /** The 16-bit flags word of the query, as sent. */
  flags: number;
  opcode: number;
  recursionDesired: boolean;
  checkingDisabled: boolean;
  /** Lower case presentation form without the trailing dot (see dns/types.ts). */
  qname: string;
  qtype: number;
  qclass: number;
  /** Offset just past the question section in the query; bytes 12..questionEnd are the question as sent. */
  questionEnd: number;
  edns?: Edns;
}

/**
 * What the parser made of a packet. `drop`: not worth an answer (too short for a header, or a response).
 * `formerr` / `notimp` / `badvers`: answer with that rcode; `id`, `flags` and (when parsed) `question`
 * let the error response echo what it can.
 */
export type ParseResult =
  | { status: "ok"; query: ParsedQuery }
  | { status: "drop" }
  | { status: "formerr" | "notimp" | "badvers"; id: number; flags: number; query?: ParsedQuery };

export interface OptRecord {
  udpSize: number;
  /** The upper 8 bits of a 12-bit extended rcode. */
  extendedRcode: number;
  version: number;
  dnssecOk: boolean;
  options: { code: number; data: Uint8Array }[];
}

export interface ResponseParts {
  /** The original query bytes: the question is copied from them as sent (keeps the 0x20 case). */
  queryBytes: Uint8Array;
  query: ParsedQuery;
  /** The low 4 bits; extended bits travel in opt.extendedRcode. */
  rcode: number;
  authoritative: boolean;
  truncated?: boolean;
  answer: RR[];
  authority: RR[];
  additional: RR[];
  /** Written as the last record of the additional section. */
  opt?: OptRecord;
}
