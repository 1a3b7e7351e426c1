// The DNSSEC part of the API, mounted by buildApi's caller:
//   GET /api/v1/dnssec/ds            DS records for the parent, as the deployment guide shows them. One
//                                    zone served: {zone, ds_records}; several: a list of those objects;
//                                    ?zone=NAME picks one (always the object form).
//   GET /api/v1/dnssec/sync/status   this node's key tags and, per peer, the last sync and its outcome.
//   GET /api/v1/dnssec/sync/keyset   every zone's key set, sealed under api.token, for peers; needs
//                                    "Authorization: Bearer <api.token>"; 404 when no token is configured.
// Nothing here returns a private key in clear.
import { Hono, type Context } from "hono";
import type { KeySet, Keyring } from "../dns/dnssec/keyring.ts";
import { sealKeySets, type KeySync, type PeerStatus } from "../dns/dnssec/key-sync.ts";
import type { ApiEnv } from "./app.ts";
import { bearerMatches } from "./access.ts";

export interface DnssecRouteDeps {
  /** Undefined while DNSSEC is off. */
  keyring: Keyring | undefined;
  /** Undefined when no peers are configured. */
  sync: KeySync | undefined;
  /** api.token. */
  token: string | undefined;
  now(): number;
}

export function dnssecRoutes(deps: DnssecRouteDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const off = (c: Context<ApiEnv>) => c.json({ error: "DNSSEC is off (dns.dnssec.enabled: false)" }, 404);

  app.get("/api/v1/dnssec/ds", (c) => {
    const keyring = deps.keyring;
    if (!keyring) return off(c);
    const wanted = c.req.query("zone")?.toLowerCase().replace(/\.$/, "");
    if (wanted !== undefined && !keyring.zones().includes(wanted)) return c.json({ error: `no zone ${wanted} here` }, 404);
    const zones = (wanted === undefined ? keyring.zones() : [wanted]).map((zone) => ({
      zone,
      ds_records: keyring.missing().includes(zone)
        ? []
        : keyring.dsRecords(zone).map((ds) => ({
            key_tag: ds.keyTag,
            algorithm: ds.algorithm,
            digest_type: ds.digestType,
            digest: ds.digest,
            ds_record: ds.record,
          })),
    }));
    return c.json(zones.length === 1 ? zones[0] : zones);
  });

  app.get("/api/v1/dnssec/sync/status", (c) => {
    const keyring = deps.keyring;
    if (!keyring) return off(c);
    return c.json({
      local: keySets(keyring).map((set) => ({
        zone: set.zone,
        revision: set.revision,
        key_tags: set.keys.filter((k) => k.state !== "removed").map((k) => k.tag),
      })),
      peers: (deps.sync?.status() ?? []).map(presentPeer),
    });
  });

  app.get("/api/v1/dnssec/sync/keyset", (c) => {
    const keyring = deps.keyring;
    if (!keyring || !deps.token) return c.json({ error: "no key set is shared: DNSSEC is off or api.token is not set" }, 404);
    if (!bearerMatches(c.req.header("authorization"), deps.token)) {
      c.header("WWW-Authenticate", 'Bearer realm="vigil"');
      return c.json({ error: "unauthorized: send Authorization: Bearer <api.token>" }, 401);
    }
    return c.json(sealKeySets(keySets(keyring), deps.token, deps.now()));
  });

  return app;
}

function keySets(keyring: Keyring): KeySet[] {
  const missing = keyring.missing();
  return keyring.zones().filter((zone) => !missing.includes(zone)).map((zone) => keyring.keySet(zone));
}

function presentPeer(p: PeerStatus) {
  const iso = (at: number | undefined) => (at === undefined ? null : new Date(at).toISOString());
  return {
    peer: p.peer,
    result: p.result,
    error: p.error ?? null,
    last_attempt: iso(p.lastAttempt),
    last_sync: iso(p.lastSuccess),
    zones: p.zones.map((z) => ({ zone: z.zone, outcome: z.outcome, key_tags: z.keyTags })),
  };
}
