// The health decision for one backend (DESIGN.md "Health decision"), as a pure function of its
// inputs, so every rule is a table row in a test. Agents and peers join these inputs later.

import type { HealthState } from "./snapshot.ts";

export type Verdict = "up" | "down" | "unknown";

export interface DecisionInputs {
  now: number;
  /** An operator's override in force. */
  override?: { healthy: boolean; reason: string };
  /** This node's own verdict after rise/fall thresholds; unknown when not checked (yet). */
  verdict: Verdict;
  /** Whether the backend has a health check at all. */
  watched: boolean;
  /** The last probe's detail, for the reason. */
  verdictDetail: string;
  /** Flap damping holds the backend out until this time (ms). */
  heldOutUntil?: number;
  /** The state saved before the last restart, used until the first verdict. */
  saved?: { state: HealthState; reason: string };
  /** What the agent beside the backend claims (overwatch mode); "unknown" once its heartbeats went stale. */
  agent?: { claim: "healthy" | "unhealthy" | "draining" | "unknown"; detail: string };
  /** With min_peers_agree > 0: what the other overwatches say, and the state the backend has now. */
  quorum?: { minPeersAgree: number; downVoters: string[]; reachable: number };
  /** The effective state the backend has now (kept when nothing new can be said). */
  current?: HealthState;
}

export type Suspicion = "disputed" | "no quorum";

export interface Decision {
  state: HealthState;
  reason: string;
  /** Out on the strength of probes alone: the min_healthy floor may keep it in. */
  outByProbe: boolean;
  /** In only because of the min_healthy floor. */
  keptByFloor?: boolean;
  /** This node's probes say down, but the peers do not agree (disputed) or cannot be asked (no quorum). */
  suspect?: Suspicion;
}

export function decide(i: DecisionInputs): Decision {
  if (i.override) {
    return { state: i.override.healthy ? "up" : "down", reason: `override: ${i.override.reason}`, outByProbe: false };
  }
  if (i.agent?.claim === "draining") return { state: "down", reason: `agent: draining${i.agent.detail ? ` (${i.agent.detail})` : ""}`, outByProbe: false };
  if (i.heldOutUntil !== undefined && i.now < i.heldOutUntil) {
    return { state: "down", reason: `flapping: held out until ${new Date(i.heldOutUntil).toISOString()}`, outByProbe: true };
  }
  if (i.verdict === "up") return { state: "up", reason: `probe: ${i.verdictDetail}`, outByProbe: false };
  if (i.verdict === "down") return i.quorum && i.quorum.minPeersAgree > 0 ? downWithQuorum(i, i.quorum) : probeDown(i);
  // No verdict of this node's own: the agent's fresh claim. A stale one tells nothing, so the state stays.
  if (i.agent?.claim === "healthy") return { state: "up", reason: `agent: ${i.agent.detail || "healthy"}`, outByProbe: false };
  if (i.agent?.claim === "unhealthy") return { state: "down", reason: `agent: ${i.agent.detail || "unhealthy"}`, outByProbe: false };
  if (i.agent?.claim === "unknown") {
    return { state: i.current ?? "up", reason: "agent: no heartbeat within stale.threshold, last state kept", outByProbe: false };
  }
  // A saved state stands in for a verdict still to come; a backend without a check gets none, so for it
  // the saved state (an override's, say) would never end.
  if (i.saved && i.watched) return { state: i.saved.state, reason: `saved before restart: ${i.saved.reason}`, outByProbe: false };
  return { state: "up", reason: i.watched ? "not checked yet" : "no health check configured", outByProbe: false };
}

const probeDown = (i: DecisionInputs): Decision => ({ state: "down", reason: `probe: ${i.verdictDetail}`, outByProbe: true });

/**
 * goavail's rule: own evidence takes an address out only with min_peers_agree others seeing it down.
 * Fewer peers in reach than that is no quorum at all, and the last agreed state stands.
 */
function downWithQuorum(i: DecisionInputs, q: NonNullable<DecisionInputs["quorum"]>): Decision {
  if (q.downVoters.length >= q.minPeersAgree) {
    return { state: "down", reason: `probe: ${i.verdictDetail}; confirmed by ${q.downVoters.join(", ")}`, outByProbe: true };
  }
  if (q.reachable < q.minPeersAgree) {
    return {
      state: i.current ?? "up",
      reason: `no quorum: ${q.reachable} of ${q.minPeersAgree} peers in reach, last agreed state kept; own probe: ${i.verdictDetail}`,
      outByProbe: false,
      suspect: "no quorum",
    };
  }
  return {
    state: "up",
    reason: `suspect: own probe ${i.verdictDetail}, but ${q.downVoters.length} of ${q.minPeersAgree} peers agree`,
    outByProbe: false,
    suspect: "disputed",
  };
}
