// SOA serials per zone, unix-time style (as Knot's "unixtime" policy): a new serial only when the
// zone's content changes, and never lower than one handed out before, even if the clock went back.
import type { SqlDatabase } from "./driver.ts";

export interface ZoneSerials {
  /**
   * The serial for zone (its canonical name) with this content: the stored one while contentHash is
   * unchanged, otherwise max(stored + 1, nowSeconds), which is then stored with the hash.
   */
  serialFor(zone: string, contentHash: string, nowSeconds: number): number;
}

export function createZoneSerials(db: SqlDatabase): ZoneSerials {
  const read = db.prepare<{ serial: number; content_hash: string }>(
    "SELECT serial, content_hash FROM zone_serials WHERE zone = ?",
  );
  const write = db.prepare(
    `INSERT INTO zone_serials (zone, serial, content_hash) VALUES (?, ?, ?)
     ON CONFLICT (zone) DO UPDATE SET serial = excluded.serial, content_hash = excluded.content_hash`,
  );
  return {
    serialFor(zone, contentHash, nowSeconds) {
      return db.transaction(() => {
        const stored = read.get(zone);
        if (stored?.content_hash === contentHash) return stored.serial;
        const now = Math.floor(nowSeconds);
        const serial = stored ? Math.max(stored.serial + 1, now) : now;
        write.run(zone, serial, contentHash);
        return serial;
      });
    },
  };
}
