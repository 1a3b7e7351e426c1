// Health history: every change of a backend's effective state, and the last state of each backend,
// so a restart answers from what was known instead of from nothing.
import type { SqlDatabase } from "./driver.ts";

export interface HealthEvent {
  id?: number;
  at: number;
  service: string;
  address: string;
  port: number;
  oldState: string;
  newState: string;
  reason: string;
  detail: string;
}

export interface SavedState {
  service: string;
  address: string;
  port: number;
  state: string;
  reason: string;
  since: number;
}

export interface EventQuery {
  /** Only events with id greater than this (paging forward, oldest first). */
  afterId?: number;
  /** Newest first, only events with id below this (paging back); afterId is then ignored. */
  newestFirst?: { beforeId?: number };
  sinceMs?: number;
  service?: string;
  address?: string;
  limit: number;
}

export interface HealthHistory {
  /** Records events and the backends' current states in one transaction. */
  record(events: readonly HealthEvent[], states: readonly SavedState[]): void;
  events(query: EventQuery): HealthEvent[];
  savedStates(): SavedState[];
}

interface EventRow {
  id: number;
  at: number;
  service: string;
  address: string;
  port: number;
  old_state: string;
  new_state: string;
  reason: string;
  detail: string;
}

export function createHealthHistory(db: SqlDatabase): HealthHistory {
  const insertEvent = db.prepare(
    "INSERT INTO health_events (at, service, address, port, old_state, new_state, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const saveState = db.prepare(
    `INSERT INTO backend_states (service, address, port, state, reason, since) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (service, address, port) DO UPDATE SET state = excluded.state, reason = excluded.reason, since = excluded.since`,
  );
  const filter = "at >= ? AND (? IS NULL OR service = ?) AND (? IS NULL OR address = ?)";
  const selectOldestFirst = db.prepare<EventRow>(`SELECT * FROM health_events WHERE id > ? AND ${filter} ORDER BY id LIMIT ?`);
  const selectNewestFirst = db.prepare<EventRow>(`SELECT * FROM health_events WHERE id < ? AND ${filter} ORDER BY id DESC LIMIT ?`);
  const selectStates = db.prepare<SavedState>("SELECT service, address, port, state, reason, since FROM backend_states");
  return {
    record(events, states) {
      if (events.length === 0 && states.length === 0) return;
      db.transaction(() => {
        for (const e of events) insertEvent.run(e.at, e.service, e.address, e.port, e.oldState, e.newState, e.reason, e.detail);
        for (const s of states) saveState.run(s.service, s.address, s.port, s.state, s.reason, s.since);
      });
    },
    events(q) {
      const service = q.service ?? null;
      const address = q.address ?? null;
      const rows = q.newestFirst
        ? selectNewestFirst.all(q.newestFirst.beforeId ?? Number.MAX_SAFE_INTEGER, q.sinceMs ?? 0, service, service, address, address, q.limit)
        : selectOldestFirst.all(q.afterId ?? 0, q.sinceMs ?? 0, service, service, address, address, q.limit);
      return rows.map((r) => ({
        id: r.id,
        at: r.at,
        service: r.service,
        address: r.address,
        port: r.port,
        oldState: r.old_state,
        newState: r.new_state,
        reason: r.reason,
        detail: r.detail,
      }));
    },
    savedStates() {
      return selectStates.all();
    },
  };
}
