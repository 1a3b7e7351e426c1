// The audit trail: every write an API client made (or tried), who from, and how it ended.
import type { SqlDatabase } from "./driver.ts";

export interface AuditEntry {
  id?: number;
  at: number;
  /** The client's address. */
  client: string;
  method: string;
  /** The path as requested, e.g. /api/v1/overrides/app/10.0.0.1. */
  route: string;
  /** The HTTP status the write got. */
  status: number;
  /** A short, bounded account of the body (never a secret). */
  summary: string;
}

export interface AuditQuery {
  /** Entries with id below this (paging back from the newest). */
  beforeId?: number;
  limit: number;
}

export interface Audit {
  record(entry: AuditEntry): void;
  /** Newest first. */
  entries(query: AuditQuery): AuditEntry[];
}

export function createAudit(db: SqlDatabase): Audit {
  const insert = db.prepare("INSERT INTO audit (at, client, method, route, status, summary) VALUES (?, ?, ?, ?, ?, ?)");
  const select = db.prepare<Required<AuditEntry>>("SELECT * FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?");
  return {
    record(e) {
      insert.run(e.at, e.client, e.method, e.route, e.status, e.summary);
    },
    entries(q) {
      return select.all(q.beforeId ?? Number.MAX_SAFE_INTEGER, q.limit);
    },
  };
}
