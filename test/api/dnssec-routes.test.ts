import { afterEach, describe, expect, test } from "bun:test";
import { apiHarness } from "./harness.ts";
import { dnssecRoutes, type DnssecRouteDeps } from "../../src/api/dnssec-routes.ts";
import { openKeySets } from "../../src/dns/dnssec/key-sync.ts";
import { dnssecConfig, secretForms, TempDirs, testKeyring } from "../dns/dnssec/keys/helpers.ts";

const TOKEN = "s3cret-api-token";
const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

function routes(zones: string[], over: Partial<DnssecRouteDeps> = {}) {
  const { keyring, clock } = testKeyring(dirs.store(), { zones, dnssec: dnssecConfig({ key_type: "ksk_zsk" }) });
  keyring.ensureKeys();
  const app = dnssecRoutes({ keyring, sync: undefined, token: TOKEN, now: () => clock.now(), ...over });
  return { app, keyring, clock };
}

interface DsJson {
  zone: string;
  ds_records: { key_tag: number; algorithm: number; digest_type: number; digest: string; ds_record: string }[];
}

const get = (app: ReturnType<typeof routes>["app"], path: string, headers: Record<string, string> = {}) =>
  app.request(path, { headers }, { clientAddress: "127.0.0.1" });

describe("GET /api/v1/dnssec/ds", () => {
  test("one zone: the guide's object, one DS per KSK", async () => {
    const { app, keyring } = routes(["gslb.example.com"]);
    const r = await get(app, "/api/v1/dnssec/ds");
    expect(r.status).toBe(200);
    const body = (await r.json()) as DsJson;
    const ksk = keyring.publishedKeys("gslb.example.com").find((k) => k.role === "ksk")!;
    expect(Object.keys(body)).toEqual(["zone", "ds_records"]);
    expect(body.zone).toBe("gslb.example.com");
    expect(body.ds_records).toHaveLength(1);
    const ds = body.ds_records[0]!;
    expect(Object.keys(ds)).toEqual(["key_tag", "algorithm", "digest_type", "digest", "ds_record"]);
    expect(ds).toMatchObject({ key_tag: ksk.tag, algorithm: 13, digest_type: 2 });
    expect(ds.digest).toMatch(/^[0-9A-F]{64}$/);
    expect(ds.ds_record).toBe(`gslb.example.com. IN DS ${ksk.tag} 13 2 ${ds.digest}`);
  });

  test("several zones: a list of those objects; ?zone= picks one", async () => {
    const { app } = routes(["a.test", "b.test"]);
    const all = (await (await get(app, "/api/v1/dnssec/ds")).json()) as DsJson[];
    expect(all.map((z) => z.zone)).toEqual(["a.test", "b.test"]);
    const one = await (await get(app, "/api/v1/dnssec/ds?zone=B.test.")).json();
    expect(one).toEqual(all[1]);
    const unknown = await get(app, "/api/v1/dnssec/ds?zone=c.test");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: "no zone c.test here" });
  });

  test("with DNSSEC off every DNSSEC route is 404, saying so", async () => {
    const app = dnssecRoutes({ keyring: undefined, sync: undefined, token: TOKEN, now: () => 0 });
    for (const path of ["/api/v1/dnssec/ds", "/api/v1/dnssec/sync/status", "/api/v1/dnssec/sync/keyset"]) {
      const r = await app.request(path, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: string }).error).toContain("DNSSEC is off");
    }
  });

  test("mounted on the API app, the allowed_networks check applies", async () => {
    const { keyring } = routes(["a.test"]);
    const h = apiHarness(undefined, { mount: [dnssecRoutes({ keyring, sync: undefined, token: TOKEN, now: () => 0 })] });
    const app = h.app;
    expect((await app.request("/api/v1/dnssec/ds", {}, { clientAddress: "127.0.0.1" })).status).toBe(200);
    expect((await app.request("/api/v1/dnssec/ds", {}, { clientAddress: "192.0.2.7" })).status).toBe(403);
    h.close();
  });
});

describe("GET /api/v1/dnssec/sync/status", () => {
  test("this node's tags per zone, and no peers when none are configured", async () => {
    const { app, keyring } = routes(["a.test"]);
    const body = await (await get(app, "/api/v1/dnssec/sync/status")).json();
    expect(body).toEqual({
      local: [{ zone: "a.test", revision: 1, key_tags: keyring.publishedKeys("a.test").map((k) => k.tag) }],
      peers: [],
    });
  });
});

describe("GET /api/v1/dnssec/sync/keyset", () => {
  test("needs the bearer token: none or a wrong one is 401; the right one gets the sealed set", async () => {
    const { app, keyring, clock } = routes(["a.test"]);
    const missing = await get(app, "/api/v1/dnssec/sync/keyset");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toContain("Bearer");
    expect((await get(app, "/api/v1/dnssec/sync/keyset", { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await get(app, "/api/v1/dnssec/sync/keyset", { authorization: TOKEN })).status).toBe(401);

    const ok = await get(app, "/api/v1/dnssec/sync/keyset", { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(openKeySets(await ok.json(), TOKEN, clock.now())).toEqual([keyring.keySet("a.test")]);
  });

  test("is not served at all without api.token", async () => {
    const { app } = routes(["a.test"], { token: undefined });
    const r = await get(app, "/api/v1/dnssec/sync/keyset", { authorization: "Bearer " });
    expect(r.status).toBe(404);
  });
});

test("no response of any DNSSEC route holds a private key in any encoding", async () => {
  const { app, keyring } = routes(["a.test", "b.test"]);
  keyring.startRollover("a.test", "ksk");
  const bodies: string[] = [];
  for (const path of ["/api/v1/dnssec/ds", "/api/v1/dnssec/ds?zone=a.test", "/api/v1/dnssec/sync/status", "/api/v1/dnssec/sync/keyset"]) {
    for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) bodies.push(await (await get(app, path, headers)).text());
  }
  const keys = [...keyring.keySet("a.test").keys, ...keyring.keySet("b.test").keys];
  expect(keys.length).toBe(5);
  const all = bodies.join("\n");
  for (const secret of secretForms(keys)) expect(all).not.toContain(secret);
});
