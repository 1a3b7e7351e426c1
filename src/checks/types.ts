// What a probe is, as the scheduler and the health decision see it. A probe checks one target once;
// thresholds, timing and sharing are the scheduler's and the decision's business, not the probe's.

import type { HealthCheckConfig } from "../config/types.ts";

/** `warning` is up, but worth showing (a script that exited 1). */
export type ProbeStatus = "up" | "warning" | "down";

export interface ProbeResult {
  status: ProbeStatus;
  /** One line an operator reads: "HTTP 503 from /health", "connect refused", "timeout after 2000 ms". */
  detail: string;
  /** Wall time of the check, ms (the RTT for ICMP). */
  durationMs: number;
}

/** One distinct thing to check: the same target shared by several backends is probed once. */
export interface ProbeTarget {
  /** Identity of the target (type, address, port and the type's own settings); see targetKeyOf. */
  key: string;
  check: HealthCheckConfig;
  /** Where to send the probe: the backend's check_address/check_port when set, else its own. */
  address: string;
  port: number;
}

/**
 * Runs one check. Must settle by the time `signal` aborts (the scheduler aborts it at the check's
 * timeout) and must never reject: every failure is a `down` result with a detail.
 */
export type Probe = (target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult>;

export type ProbeKind = HealthCheckConfig["type"];
