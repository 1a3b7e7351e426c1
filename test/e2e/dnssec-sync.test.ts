// Key sync between two compiled nodes on loopback: node B lists node A's API as its key-sync peer and
// shares its api.token, so at its first start it takes A's keys instead of making its own. Then both
// publish one DNSKEY set and one DS, and a validator that trusts that one DS accepts answers from
// either node. With the wrong token B is refused, keeps keys of its own, and says so.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dig } from "../helpers/dig.ts";
import { VigilProcess } from "../helpers/vigil-process.ts";
import { delv, fetchDs, Unbound, type DsLine } from "../helpers/validators.ts";

const ZONE = "signed.test";
const TOKEN = "sync-test-token-8c1f";

const config = (token: string, peers: string[]) => (dir: string) => `
dns:
  listen_address: "127.0.0.1:0"
  zones: [${ZONE}]
  nameservers: [{ name: ns1.${ZONE}, addresses: [127.0.0.1] }]
  records: |
    txt IN TXT "synced"
  dnssec:
    key_sync: { peers: ${JSON.stringify(peers)} }
data_dir: ${dir}/data
api: { address: "127.0.0.1:0", token: "${token}" }
metrics: { address: "127.0.0.1:0" }
logging: { format: json }
services:
  - name: app
    backends: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }]
`;

/** One running node: its DNS port and API address ("127.0.0.1:port"), from its "vigil started" line. */
interface Node {
  vigil: VigilProcess;
  dnsPort: number;
  api: string;
}

async function startNode(token: string, peers: string[] = []): Promise<Node> {
  const vigil = await VigilProcess.start(config(token, peers));
  const started = await vigil.waitForLog((l) => l.msg === "vigil started");
  return { vigil, dnsPort: await vigil.dnsPort(), api: String(started.api) };
}

/** The DNSKEY records a node serves, in presentation form, sorted. */
async function dnskeysOf(node: Node): Promise<string[]> {
  const r = await dig("127.0.0.1", node.dnsPort, ["+dnssec", ZONE, "DNSKEY"]);
  return r.answer.filter((l) => / DNSKEY /.test(l)).sort();
}

interface SyncStatus {
  local: { zone: string; key_tags: number[] }[];
  peers: { peer: string; result: string; error: string | null; last_sync: string | null; zones: { zone: string; outcome: string; key_tags: number[] }[] }[];
}

async function syncStatusOf(node: Node): Promise<SyncStatus> {
  const response = await fetch(`http://${node.api}/api/v1/dnssec/sync/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return (await response.json()) as SyncStatus;
}

describe("two nodes with one token share their keys", () => {
  let a: Node;
  let b: Node;
  let ds: DsLine[];

  beforeAll(async () => {
    a = await startNode(TOKEN);
    b = await startNode(TOKEN, [`http://${a.api}`]);
    ds = await fetchDs(a.api, TOKEN);
  }, 20_000);

  afterAll(async () => {
    await b?.vigil.stop();
    await a?.vigil.stop();
  });

  test("B took A's keys at its first start: one DNSKEY set, one DS", async () => {
    expect(ds).toHaveLength(1);
    expect(await fetchDs(b.api, TOKEN)).toEqual(ds);
    const keys = await dnskeysOf(a);
    expect(keys.length).toBeGreaterThan(0);
    expect(await dnskeysOf(b)).toEqual(keys);
    expect(b.vigil.logs.some((l) => l.msg === "dnssec keys adopted" && l.from === `http://${a.api}`)).toBe(true);
    expect(b.vigil.logs.some((l) => l.msg === "dnssec keys generated")).toBe(false);
  });

  for (const which of ["A", "B"] as const) {
    test(`unbound trusting the one DS sets AD on node ${which}'s answers`, async () => {
      const node = which === "A" ? a : b;
      const unbound = await Unbound.start(ds, node.dnsPort);
      try {
        for (const [name, type] of [[`app.${ZONE}`, "A"], [`txt.${ZONE}`, "TXT"], [`nope.${ZONE}`, "A"], [ZONE, "DNSKEY"]]) {
          const r = await unbound.query([name!, type!]);
          expect({ name, type, status: r.status, ad: r.flags.includes("ad") }).toEqual({ name, type, status: name!.startsWith("nope") ? "NXDOMAIN" : "NOERROR", ad: true });
        }
      } finally {
        await unbound.stop();
      }
    });

    test(`delv trusting the one DS fully validates node ${which}'s answers`, async () => {
      const node = which === "A" ? a : b;
      expect(await delv(ds[0]!, node.dnsPort, `app.${ZONE}`, "A")).toMatch(/fully validated/);
      expect(await delv(ds[0]!, node.dnsPort, `nope.${ZONE}`, "A")).toMatch(/fully validated/);
    });
  }

  test("B's sync status names A, its last sync and the key tags it holds", async () => {
    const status = await syncStatusOf(b);
    const tags = ds.map((d) => d.keyTag);
    expect(status.local).toEqual([expect.objectContaining({ zone: ZONE, key_tags: tags })]);
    expect(status.peers).toHaveLength(1);
    const [peer] = status.peers;
    expect(peer).toMatchObject({ peer: `http://${a.api}`, result: "ok", error: null, zones: [{ zone: ZONE, outcome: "adopted", key_tags: tags }] });
    expect(Date.parse(peer!.last_sync!)).toBeGreaterThan(Date.now() - 60_000);
    expect((await syncStatusOf(a)).peers).toEqual([]);
  });
});

describe("a node with the wrong token", () => {
  test("is refused, keeps keys of its own, and shows the refusal", async () => {
    const a = await startNode(TOKEN);
    const b = await startNode("not-the-token", [`http://${a.api}`]);
    try {
      const [dsA, dsB] = await Promise.all([fetchDs(a.api, TOKEN), fetchDs(b.api, "not-the-token")]);
      expect(dsB).toHaveLength(1);
      expect(dsB[0]!.digest).not.toBe(dsA[0]!.digest);
      expect(await dnskeysOf(b)).not.toEqual(await dnskeysOf(a));
      expect(b.vigil.logs.some((l) => l.msg === "dnssec keys generated")).toBe(true);

      const status = await syncStatusOf(b);
      expect(status.peers).toEqual([
        expect.objectContaining({ peer: `http://${a.api}`, result: "refused", last_sync: null, error: expect.stringContaining("401") }),
      ]);
      // Its own keys still sign: a validator trusting B's DS accepts B's answers, one trusting A's does not.
      const [ownDs, peersDs] = await Promise.all([Unbound.start(dsB, b.dnsPort), Unbound.start(dsA, b.dnsPort)]);
      try {
        expect((await ownDs.query([`app.${ZONE}`, "A"])).flags).toContain("ad");
        expect((await peersDs.query([`app.${ZONE}`, "A"])).status).toBe("SERVFAIL");
      } finally {
        await Promise.all([ownDs.stop(), peersDs.stop()]);
      }
    } finally {
      await b.vigil.stop();
      await a.vigil.stop();
    }
  }, 20_000);
});
