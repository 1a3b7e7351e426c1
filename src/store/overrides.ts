// Manual overrides: an operator's word on a backend address of a service, until cleared or expired.
import type { SqlDatabase } from "./driver.ts";

export interface Override {
  service: string;
  address: string;
  healthy: boolean;
  reason: string;
  createdAt: number;
  /** ms since epoch; undefined = until cleared. */
  expiresAt?: number;
}

export interface Overrides {
  set(override: Override): void;
  /** True when there was one to clear. */
  clear(service: string, address: string): boolean;
  /** Those still in force at `now`. */
  active(now: number): Override[];
}

interface Row {
  service: string;
  address: string;
  healthy: number;
  reason: string;
  created_at: number;
  expires_at: number | null;
}

export function createOverrides(db: SqlDatabase): Overrides {
  const upsert = db.prepare(
    `INSERT INTO overrides (service, address, healthy, reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (service, address) DO UPDATE SET healthy = excluded.healthy, reason = excluded.reason,
       created_at = excluded.created_at, expires_at = excluded.expires_at`,
  );
  const remove = db.prepare("DELETE FROM overrides WHERE service = ? AND address = ?");
  const current = db.prepare<Row>("SELECT * FROM overrides WHERE expires_at IS NULL OR expires_at > ? ORDER BY service, address");
  return {
    set(o) {
      upsert.run(o.service, o.address, o.healthy ? 1 : 0, o.reason, o.createdAt, o.expiresAt ?? null);
    },
    clear(service, address) {
      return remove.run(service, address).changes > 0;
    },
    active(now) {
      return current.all(now).map((r) => ({
        service: r.service,
        address: r.address,
        healthy: r.healthy === 1,
        reason: r.reason,
        createdAt: r.created_at,
        expiresAt: r.expires_at ?? undefined,
      }));
    },
  };
}
