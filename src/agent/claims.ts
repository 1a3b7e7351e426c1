// What an agent says in a heartbeat: one claim per service (cluster/claims.ts), listing each of its
// backends of that service with the status its probes and predictive signals give. A backend whose
// first probe is still to come is left out rather than guessed at. A service once announced keeps
// being claimed, with no backends once it left the config, so the overwatches drop its backends at
// the next heartbeat instead of waiting out stale.remove_after.

import type { AgentBackendConfig } from "../config/types.ts";
import { DETAIL_MAX_BYTES, encodeClaim, type ClaimBackend, type ClaimContent, type ClaimSigner } from "../cluster/claims.ts";

export interface ClaimIdentity {
  agentId: string;
  /** identity.service_token. */
  token: string;
  /** identity.region, "" for none. */
  region: string;
}

/** What the agent knows of one backend now: its effective state and the last probe's words. */
export interface BackendStatus {
  up: boolean;
  detail: string;
}

/** The agent's view at heartbeat time. */
export interface AgentView {
  backends: readonly AgentBackendConfig[];
  /** undefined while the backend's first probe is still to come. */
  status(b: AgentBackendConfig): BackendStatus | undefined;
  /** Why the backend is bleeding, or undefined. */
  bleeding(b: AgentBackendConfig): string | undefined;
}

export interface SignedClaim {
  /** Gossip key: a newer claim replaces one still queued under the same key. */
  key: string;
  payload: Uint8Array;
}

function claimBackend(b: AgentBackendConfig, status: BackendStatus, bleeding: string | undefined, claimRegion: string): ClaimBackend {
  const backend: ClaimBackend = bleeding
    ? { address: b.address, port: b.port, weight: b.weight, status: "draining", detail: `bleeding: ${bleeding}`, bleeding: true }
    : { address: b.address, port: b.port, weight: b.weight, status: status.up ? "healthy" : "unhealthy", detail: status.detail };
  if (b.region !== undefined && b.region !== claimRegion) backend.region = b.region;
  return backend;
}

/** One claim per service of the view, then an empty one for each service announced before but gone now. */
export function claimContents(view: AgentView, who: ClaimIdentity, announced: Iterable<string>, seq: number, time: number): ClaimContent[] {
  const byService = new Map<string, ClaimBackend[]>();
  for (const b of view.backends) {
    const listed = byService.get(b.service) ?? [];
    byService.set(b.service, listed);
    const status = view.status(b);
    if (status) listed.push(claimBackend(b, status, view.bleeding(b), who.region));
  }
  for (const service of announced) if (!byService.has(service)) byService.set(service, []);
  return [...byService].map(([service, backends]) => ({ agentId: who.agentId, service, token: who.token, region: who.region, seq, time, backends }));
}

/** Signs the heartbeats and remembers which services were announced. */
export class AgentClaims {
  private readonly announced = new Set<string>();

  constructor(
    private readonly signer: ClaimSigner,
    readonly who: ClaimIdentity,
  ) {}

  /** This heartbeat's payloads, each at most maxBytes. Throws when the content cannot be encoded. */
  sign(view: AgentView, seq: number, time: number, maxBytes: number): SignedClaim[] {
    const signed = claimContents(view, this.who, this.announced, seq, time).flatMap((content) =>
      encodeClaim(content, this.signer, { maxBytes }).map((payload, part) => ({ key: `claim:${content.service}:${part}`, payload })),
    );
    for (const b of view.backends) this.announced.add(b.service);
    return signed;
  }

  /**
   * Throws an Error naming the problem when some backend could never be claimed (an address that is
   * not an IP, a weight out of range, a region too long, too many backends for one service): at start
   * and on reload, before the config is taken.
   */
  check(backends: readonly AgentBackendConfig[], maxBytes: number): void {
    const worst: AgentView = { backends, status: () => ({ up: true, detail: "x".repeat(DETAIL_MAX_BYTES) }), bleeding: () => undefined };
    for (const content of claimContents(worst, this.who, [], 0, 0)) encodeClaim(content, this.signer, { maxBytes });
  }
}
