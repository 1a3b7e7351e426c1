import { afterEach, describe, expect, test } from "bun:test";
import { algorithmFor } from "../../../../src/dns/dnssec/algorithms.ts";
import { dnskeyOf } from "../../../../src/dns/dnssec/keyring.ts";
import { keyTag } from "../../../../src/dns/dnssec/dnskey.ts";
import { RRType } from "../../../../src/dns/types.ts";
import { ManualClock } from "../../../../src/lib/clock.ts";
import { dnssecConfig, HOUR, secretForms, summary, TempDirs, testKeyring } from "./helpers.ts";

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

describe("first start and restart", () => {
  test("the first start makes one active CSK per zone; a restart uses the same keys", () => {
    const dataDir = dirs.dir();
    const first = testKeyring(dirs.store(dataDir), { zones: ["a.test", "b.test"] });
    expect(first.keyring.missing()).toEqual(["a.test", "b.test"]);
    first.keyring.ensureKeys();
    const made = first.keyring.publishedKeys("a.test");
    expect(summary(made)).toEqual([{ tag: made[0]!.tag, role: "csk", state: "active" }]);
    expect(made[0]!.algorithm).toBe(13);
    expect(first.keyring.keySet("a.test").revision).toBe(1);
    first.store.close();

    const restarted = testKeyring(dirs.store(dataDir), { zones: ["a.test", "b.test"] });
    expect(restarted.keyring.missing()).toEqual([]);
    restarted.keyring.ensureKeys();
    expect(restarted.keyring.publishedKeys("a.test")).toEqual(made);
    expect(restarted.lines.filter((l) => l.includes("generated"))).toEqual([]);
  });

  test("key_type ksk_zsk makes a KSK (flags 257) and a ZSK (256); ed25519 is algorithm 15", () => {
    const { keyring } = testKeyring(dirs.store(), { dnssec: dnssecConfig({ key_type: "ksk_zsk", algorithm: "ed25519" }) });
    keyring.ensureKeys();
    const keys = keyring.publishedKeys("example.test");
    expect(keys.map((k) => k.role).sort()).toEqual(["ksk", "zsk"]);
    for (const key of keys) {
      expect(key.algorithm).toBe(15);
      const rdata = dnskeyOf(key);
      expect((rdata[0]! << 8) | rdata[1]!).toBe(key.role === "ksk" ? 257 : 256);
      expect(keyTag(rdata)).toBe(key.tag);
      expect(algorithmFor(15).publicKeyOf(key.privateKey)).toEqual(key.publicKey);
    }
    const signing = keyring.activeSigningKeys("example.test");
    expect(signing.dnskey.map((k) => k.role)).toEqual(["ksk"]);
    expect(signing.data.role).toBe("zsk");
    expect(keyring.dsRecords("example.test").map((d) => d.keyTag)).toEqual([keys.find((k) => k.role === "ksk")!.tag]);
  });

  test("a CSK signs both the DNSKEY RRset and the data, and has the zone's one DS", () => {
    const { keyring } = testKeyring(dirs.store());
    keyring.ensureKeys();
    const [csk] = keyring.publishedKeys("example.test");
    expect(keyring.activeSigningKeys("example.test")).toEqual({ dnskey: [csk!], data: csk! });
    const [ds] = keyring.dsRecords("example.test");
    expect(ds).toMatchObject({ keyTag: csk!.tag, algorithm: 13, digestType: 2 });
    expect(ds!.digest).toMatch(/^[0-9A-F]{64}$/);
    expect(ds!.record).toBe(`example.test. IN DS ${csk!.tag} 13 2 ${ds!.digest}`);
  });

  test("zoneKeys gives the zone signer the KSK/CSK for DNSKEY, CDS and CDNSKEY and the ZSK for the rest", () => {
    const { keyring } = testKeyring(dirs.store(), { dnssec: dnssecConfig({ key_type: "ksk_zsk" }) });
    expect(keyring.zoneKeys("example.test")).toBeUndefined();
    keyring.ensureKeys();
    const keys = keyring.zoneKeys("example.test")!;
    const tagsFor = (type: number) => keys.signingKeys(type).map((k) => k.tag);
    const ksk = keyring.publishedKeys("example.test").find((k) => k.role === "ksk")!;
    const zsk = keyring.publishedKeys("example.test").find((k) => k.role === "zsk")!;
    for (const type of [RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]) expect(tagsFor(type)).toEqual([ksk.tag]);
    for (const type of [RRType.SOA, RRType.A, RRType.NSEC]) expect(tagsFor(type)).toEqual([zsk.tag]);
  });

  test("keys that no longer match dns.dnssec are kept, with a warning", () => {
    const dataDir = dirs.dir();
    testKeyring(dirs.store(dataDir)).keyring.ensureKeys();
    const changed = testKeyring(dirs.store(dataDir), { dnssec: dnssecConfig({ algorithm: "ed25519" }) });
    changed.keyring.ensureKeys();
    expect(changed.keyring.publishedKeys("example.test")[0]!.algorithm).toBe(13);
    expect(changed.lines.some((l) => l.includes('"level":"warn"') && l.includes("differ from dns.dnssec"))).toBe(true);
  });

  test("listeners hear of new keys and of state changes", () => {
    const { keyring, clock } = testKeyring(dirs.store());
    const heard: string[] = [];
    keyring.onChange((zone) => heard.push(zone));
    keyring.ensureKeys();
    expect(heard).toEqual(["example.test"]);
    keyring.startRollover("example.test");
    clock.advance(2 * HOUR);
    keyring.tick();
    expect(heard.length).toBe(3); // generated, rollover started, new key active
  });
});

describe("key material stays out of logs", () => {
  test("generation, rollover, every transition and a restart log tags and states, never a private key", () => {
    const dataDir = dirs.dir();
    const clock = new ManualClock();
    const lines: string[] = [];
    const dnssec = dnssecConfig({ key_type: "ksk_zsk" });
    const { keyring } = testKeyring(dirs.store(dataDir), { dnssec, clock, lines });
    keyring.ensureKeys();
    keyring.start();
    keyring.startRollover("example.test", "ksk");
    keyring.startRollover("example.test", "zsk");
    clock.advance(30 * 24 * HOUR);
    keyring.stop();
    testKeyring(dirs.store(dataDir), { dnssec, clock, lines }).keyring.ensureKeys();

    const everyKey = keyring.keySet("example.test").keys;
    expect(everyKey.length).toBe(4);
    expect(lines.some((l) => l.includes("dnssec key removed"))).toBe(true);
    const log = lines.join("\n");
    for (const secret of secretForms(everyKey)) expect(log).not.toContain(secret);
  });
});
