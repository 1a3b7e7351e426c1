// What every probe kind shares: the verdict helpers, and one wrapper that times a check, settles it
// the moment its signal aborts, and turns any throw into a `down` with a short detail.

import type { HealthCheckConfig } from "../../config/types.ts";
import type { Probe, ProbeKind, ProbeStatus, ProbeTarget } from "../types.ts";

/** What a check found; the wrapper adds the time it took. */
export interface Verdict {
  status: ProbeStatus;
  detail: string;
}

export const up = (detail: string): Verdict => ({ status: "up", detail });
export const warning = (detail: string): Verdict => ({ status: "warning", detail });
export const down = (detail: string): Verdict => ({ status: "down", detail });

/** The settings of the check kinds a probe handles, narrowed from the union. */
export type SettingsOf<K extends ProbeKind> = HealthCheckConfig & { type: K };

type Check<K extends ProbeKind> = (settings: SettingsOf<K>, target: ProbeTarget, signal: AbortSignal) => Promise<Verdict>;

/**
 * Makes a Probe from a check. The probe settles with "timeout after N ms" as soon as the signal
 * aborts, whether or not the check has noticed (the check still gets the signal, to close what it
 * opened), and never rejects.
 */
export function defineProbe<K extends ProbeKind>(kinds: readonly K[], check: Check<K>): Probe {
  return async (target, signal) => {
    const started = performance.now();
    const settings = target.check;
    let verdict: Verdict;
    try {
      if (!isKind(settings, kinds)) throw new Error(`a ${kinds.join("/")} probe cannot run a ${settings.type} check`);
      signal.throwIfAborted();
      verdict = await untilAborted(check(settings, target, signal), signal);
    } catch (err) {
      verdict = down(signal.aborted ? `timeout after ${settings.timeout} ms` : describeError(err));
    }
    return { ...verdict, durationMs: performance.now() - started };
  };
}

function isKind<K extends ProbeKind>(settings: HealthCheckConfig, kinds: readonly K[]): settings is SettingsOf<K> {
  return (kinds as readonly ProbeKind[]).includes(settings.type);
}

/** Follows `work`, but rejects as soon as the signal aborts; a later outcome of `work` is ignored. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

// Socket error codes as an operator would say them; anything else keeps its own message.
const PHRASES: Record<string, string> = {
  ECONNREFUSED: "connect refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed while sending",
  ETIMEDOUT: "connect timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EADDRNOTAVAIL: "address not available",
};

/** One short line for an error: a known code's phrase, else the first line of its message. */
export function describeError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && PHRASES[code]) return PHRASES[code];
  return firstLine(err instanceof Error ? err.message : String(err ?? "")) || "unknown error";
}

const DETAIL_LIMIT = 200;

/** The first non-blank line of some text, trimmed and cut to a length that fits in a detail. */
export function firstLine(text: string): string {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== "") ?? "";
  return line.length > DETAIL_LIMIT ? `${line.slice(0, DETAIL_LIMIT)}…` : line;
}

/** Received bytes as text, up to a byte limit: what arrives beyond it is dropped, so memory stays bounded. */
export class CappedText {
  // Made on first use: most probes never read a byte of body, and a decoder is not free.
  private decoder: TextDecoder | undefined;
  private kept = 0;
  text = "";

  constructor(private readonly limitBytes: number) {}

  add(chunk: Uint8Array): void {
    const room = this.limitBytes - this.kept;
    if (room <= 0) return;
    const part = chunk.subarray(0, room);
    this.kept += part.length;
    this.decoder ??= new TextDecoder();
    this.text += this.decoder.decode(part, { stream: true });
  }

  get full(): boolean {
    return this.kept >= this.limitBytes;
  }
}
