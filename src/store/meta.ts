// Facts about this node that outlive a restart (its id, when it was set up), as key/value text.
import type { SqlDatabase } from "./driver.ts";

export interface Meta {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

export function createMeta(db: SqlDatabase): Meta {
  const read = db.prepare<{ value: string }>("SELECT value FROM meta WHERE key = ?");
  const write = db.prepare(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  return {
    get: (key) => read.get(key)?.value,
    set: (key, value) => void write.run(key, value),
  };
}
