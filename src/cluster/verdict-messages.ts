// An overwatch's own verdicts as it gossips them to the other overwatches: the whole set of backends
// its probes see down, so a receiver simply replaces what it had from that peer (no deltas to lose).
// A set too large for one packet goes in parts of one round; the receiver applies a round once it
// has every part.

const VERSION = 1;
const KIND = "verdicts";

export interface VerdictReport {
  /** The sender's clock when it made the report (ms); receivers time freshness by their own clock. */
  round: number;
  part: number;
  parts: number;
  /** Backend keys ("service|address|port") the sender's probes see down. */
  down: string[];
}

export type Decoded = { ok: true; report: VerdictReport } | { ok: false; reason: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The down set as one or more payloads of at most `maxBytes` each. */
export function encodeVerdicts(round: number, down: readonly string[], maxBytes: number): Uint8Array[] {
  const groups: string[][] = [[]];
  let size = 64; // the envelope around the keys
  for (const key of down) {
    const cost = encoder.encode(key).length + 3;
    if (cost + 64 > maxBytes) continue; // a key this long cannot be a backend key; never sent
    if (size + cost > maxBytes && groups.at(-1)!.length > 0) {
      groups.push([]);
      size = 64;
    }
    groups.at(-1)!.push(key);
    size += cost;
  }
  return groups.map((keys, part) => encoder.encode(JSON.stringify({ v: VERSION, k: KIND, round, part, parts: groups.length, down: keys })));
}

export function decodeVerdicts(payload: Uint8Array): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(payload));
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  const m = value as Partial<{ v: unknown; k: unknown; round: unknown; part: unknown; parts: unknown; down: unknown }>;
  if (typeof m !== "object" || m === null || m.k !== KIND) return { ok: false, reason: "not a verdict report" };
  if (m.v !== VERSION) return { ok: false, reason: `unknown version ${String(m.v)}` };
  const whole = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (!whole(m.round) || !whole(m.part) || !whole(m.parts) || m.part >= m.parts || m.parts > 10_000) return { ok: false, reason: "bad round or part" };
  if (!Array.isArray(m.down) || !m.down.every((k) => typeof k === "string" && k.length < 600)) return { ok: false, reason: "bad down list" };
  return { ok: true, report: { round: m.round, part: m.part, parts: m.parts, down: m.down } };
}

/** Collects the parts of each peer's latest round; returns the whole set once a round is complete. */
export class VerdictAssembler {
  private readonly pending = new Map<string, { round: number; parts: Map<number, string[]> }>();
  private readonly applied = new Map<string, number>();

  add(peer: string, report: VerdictReport): string[] | undefined {
    if (report.round <= (this.applied.get(peer) ?? -1)) return undefined; // older than what stands
    let round = this.pending.get(peer);
    if (!round || round.round < report.round) {
      round = { round: report.round, parts: new Map() };
      this.pending.set(peer, round);
    } else if (round.round > report.round) return undefined;
    round.parts.set(report.part, report.down);
    if (round.parts.size < report.parts) return undefined;
    this.pending.delete(peer);
    this.applied.set(peer, report.round);
    return [...round.parts.values()].flat();
  }

  forget(peer: string): void {
    this.pending.delete(peer);
    this.applied.delete(peer);
  }
}
