// Picks the pool for a TLS server name: a route's exact name, else a route's "*.parent" wildcard
// (one label, as certificates match), else the server's own pool or nobody, as
// `unexpected_hostname` says. Names compare in lower case without a trailing dot.

import type { Pool } from "./pool.ts";

export interface SniRoute {
  names: readonly string[];
  pool: Pool;
}

export class SniRouter {
  private readonly exact = new Map<string, Pool>();
  private readonly wildcard = new Map<string, Pool>();

  constructor(
    routes: readonly SniRoute[],
    private readonly fallback: Pool | undefined,
  ) {
    // The first route naming a host wins, as a reader of the config would expect.
    for (const route of routes) {
      for (const raw of route.names) {
        const name = normalise(raw);
        const table = name.startsWith("*.") ? this.wildcard : this.exact;
        const key = name.startsWith("*.") ? name.slice(2) : name;
        if (!table.has(key)) table.set(key, route.pool);
      }
    }
  }

  /** The pool for this name (undefined: the client sent none); undefined when the connection must be refused. */
  route(serverName: string | undefined): Pool | undefined {
    if (serverName === undefined) return this.fallback;
    const name = normalise(serverName);
    const exact = this.exact.get(name);
    if (exact) return exact;
    const dot = name.indexOf(".");
    return (dot > 0 ? this.wildcard.get(name.slice(dot + 1)) : undefined) ?? this.fallback;
  }
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}
