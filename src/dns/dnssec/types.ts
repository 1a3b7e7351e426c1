// DNSSEC as the answer path sees it: keys that sign, and a signer per zone that hands out RRSIGs
// (cached by RRset content) and denial-of-existence records (built and signed ahead of time).

import type { RR, RRset } from "../types.ts";

/** RFC 8624 algorithm numbers vigil signs with. */
export const Algorithm = { ECDSAP256SHA256: 13, ED25519: 15 } as const;
export type AlgorithmNumber = (typeof Algorithm)[keyof typeof Algorithm];

/** DNSKEY flags: 256 = zone key (ZSK); 257 = zone key + secure entry point (KSK, or a CSK). */
export const DnskeyFlags = { ZSK: 256, KSK: 257 } as const;

export type KeyRole = "csk" | "ksk" | "zsk";

/**
 * RFC 7583 key states, in order: published (in the DNSKEY set, not signing yet), active (signing),
 * retired (still published, no longer signing), removed (gone; kept only as history).
 */
export type KeyState = "published" | "active" | "retired" | "removed";

export interface DnssecKey {
  zone: string;
  role: KeyRole;
  algorithm: AlgorithmNumber;
  /** The DNSKEY public key field: 64 bytes (x‖y) for P-256, 32 for Ed25519. */
  publicKey: Uint8Array;
  /** The raw private scalar/seed: 32 bytes. Never logged, never returned by the API in clear. */
  privateKey: Uint8Array;
  /** RFC 4034 Appendix B key tag of the DNSKEY. */
  tag: number;
  state: KeyState;
  /** ms since epoch. */
  createdAt: number;
  /** When the key entered its current state, and when it is due to leave it (rollover timing). */
  stateSince: number;
  nextTransitionAt?: number;
}

/** What the answer path asks of a zone's signer. Everything returned is ready to encode. */
export interface ZoneSigner {
  readonly zone: string;
  /** The DNSKEY RRset (every published key) and its signatures. */
  dnskeys(): RR[];
  /** RRSIGs over one RRset; served from the cache when its content was signed before. */
  signaturesFor(set: RRset): RR[];
}
