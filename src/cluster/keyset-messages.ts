// DNSSEC key sets as overwatches gossip them (gossip is encrypted with the cluster key, so the private
// keys travel sealed): one zone's set per message, in the JSON form the HTTP key sync uses.

import { decodeKeySets, encodeKeySets } from "../dns/dnssec/key-sync.ts";
import type { KeySet } from "../dns/dnssec/keyring.ts";

const VERSION = 1;
const KIND = "keyset";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** One payload per zone; a set too large for one packet is left out (and named) for the HTTP key sync. */
export function encodeKeySetMessages(sets: readonly KeySet[], maxBytes: number): { payloads: Uint8Array[]; tooLarge: string[] } {
  const payloads: Uint8Array[] = [];
  const tooLarge: string[] = [];
  for (const set of sets) {
    const payload = encoder.encode(JSON.stringify({ v: VERSION, k: KIND, sets: encodeKeySets([set]) }));
    if (payload.length <= maxBytes) payloads.push(payload);
    else tooLarge.push(set.zone);
  }
  return { payloads, tooLarge };
}

export function decodeKeySetMessage(payload: Uint8Array): { ok: true; sets: KeySet[] } | { ok: false; reason: string } {
  try {
    const value = JSON.parse(decoder.decode(payload)) as { v?: unknown; k?: unknown; sets?: unknown };
    if (value?.k !== KIND) return { ok: false, reason: "not a key set" };
    if (value.v !== VERSION) return { ok: false, reason: `unknown version ${String(value.v)}` };
    return { ok: true, sets: decodeKeySets(value.sets) };
  } catch (err) {
    return { ok: false, reason: `bad key set: ${(err as Error).message}` };
  }
}
