// Overrides as overwatches gossip them: a batch of changes (set or clear, each with its time), in as
// many payloads as the packet size needs. JSON, tagged "overrides", versioned; anything malformed is
// refused with a reason.

import type { OverrideChange } from "../health/engine.ts";

const VERSION = 1;
const KIND = "overrides";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeOverrides(changes: readonly OverrideChange[], maxBytes: number): Uint8Array[] {
  const payloads: Uint8Array[] = [];
  let batch: OverrideChange[] = [];
  const flush = () => {
    if (batch.length > 0) payloads.push(encoder.encode(JSON.stringify({ v: VERSION, k: KIND, changes: batch })));
    batch = [];
  };
  for (const change of changes) {
    const alone = encoder.encode(JSON.stringify({ v: VERSION, k: KIND, changes: [change] })).length;
    if (alone > maxBytes) continue; // cannot happen with reasons of at most 500 characters
    const next = encoder.encode(JSON.stringify({ v: VERSION, k: KIND, changes: [...batch, change] })).length;
    if (next > maxBytes) flush();
    batch.push(change);
  }
  flush();
  return payloads;
}

export function decodeOverrides(payload: Uint8Array): { ok: true; changes: OverrideChange[] } | { ok: false; reason: string } {
  let value: { v?: unknown; k?: unknown; changes?: unknown };
  try {
    value = JSON.parse(decoder.decode(payload));
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  if (value?.k !== KIND) return { ok: false, reason: "not an override batch" };
  if (value.v !== VERSION) return { ok: false, reason: `unknown version ${String(value.v)}` };
  if (!Array.isArray(value.changes) || !value.changes.every(isChange)) return { ok: false, reason: "bad change" };
  return { ok: true, changes: value.changes };
}

const str = (v: unknown, max = 600) => typeof v === "string" && v.length > 0 && v.length <= max;
const time = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

function isChange(c: unknown): c is OverrideChange {
  const change = c as Record<string, unknown>;
  if (typeof change !== "object" || change === null || !time(change.at)) return false;
  if (change.op === "clear") return str(change.service) && str(change.address, 64);
  if (change.op !== "set") return false;
  const o = change.override as Record<string, unknown> | undefined;
  return (
    typeof o === "object" && o !== null && str(o.service) && str(o.address, 64) && typeof o.healthy === "boolean" &&
    str(o.reason) && time(o.createdAt) && (o.expiresAt === undefined || time(o.expiresAt))
  );
}
