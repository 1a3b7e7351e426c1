// The JSON shapes the API answers with: snake_case keys, times as ISO 8601 strings.

import type { BackendView } from "../health/engine.ts";
import type { Override } from "../store/overrides.ts";
import type { HealthEvent } from "../store/health-history.ts";
import type { AuditEntry } from "../store/audit.ts";

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function presentBackend(b: BackendView) {
  return {
    service: b.service,
    address: b.address,
    port: b.port,
    state: b.state,
    reason: b.reason,
    since: iso(b.since),
    verdict: b.verdict,
    last_probe: b.verdictDetail,
    watched: b.watched,
    held_out_until: iso(b.heldOutUntil),
    recent_changes: b.recentChanges,
    suspect: b.suspect,
    override: b.override ? presentOverride(b.override) : null,
  };
}

export function presentOverride(o: Override) {
  return {
    service: o.service,
    address: o.address,
    healthy: o.healthy,
    reason: o.reason,
    created_at: iso(o.createdAt),
    expires_at: iso(o.expiresAt),
  };
}

export function presentEvent(e: HealthEvent) {
  return {
    id: e.id,
    at: iso(e.at),
    service: e.service,
    address: e.address,
    port: e.port,
    from: e.oldState,
    to: e.newState,
    reason: e.reason,
    detail: e.detail,
  };
}

export function presentAudit(e: AuditEntry) {
  return { id: e.id, at: iso(e.at), client: e.client, method: e.method, route: e.route, status: e.status, summary: e.summary };
}
