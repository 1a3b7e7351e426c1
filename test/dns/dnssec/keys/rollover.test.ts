import { afterEach, describe, expect, test } from "bun:test";
import { rollInStore, STORE_RECHECK_MS, type Keyring } from "../../../../src/dns/dnssec/keyring.ts";
import { parseConfig } from "../../../../src/config/load.ts";
import { buildEngine } from "../../../../src/dns/server/engine.ts";
import {
  advance,
  dsSwapInterval,
  maxTtlOf,
  publishInterval,
  rolloverTiming,
  zskRetireInterval,
} from "../../../../src/dns/dnssec/rollover.ts";
import type { KeyRole } from "../../../../src/dns/dnssec/types.ts";
import type { ManualClock } from "../../../../src/lib/clock.ts";
import { DAY, dnssecConfig, HOUR, SECOND, TempDirs, testKeyring, timing, TTLS } from "./helpers.ts";

const dirs = new TempDirs();
afterEach(() => dirs.cleanup());

const ZONE = "example.test";
// The numbers every timeline below is checked against, spelled out from helpers.ts's TTLS.
const IPUB = HOUR /* margin, no peers */ + 3600 * SECOND; /* DNSKEY TTL */
const IRET_ZSK = 7 * DAY /* signature validity */ + HOUR /* Dprp */ + 300 * SECOND; /* largest zone TTL */
const ISWAP = 3 * DAY /* DS registration */ + HOUR /* parent propagation */ + DAY; /* DS TTL */

describe("rollover timing", () => {
  test("the intervals follow RFC 7583 from the config and the zone's TTLs", () => {
    expect(publishInterval(timing)).toBe(IPUB);
    expect(zskRetireInterval(timing)).toBe(IRET_ZSK);
    expect(dsSwapInterval(timing)).toBe(ISWAP);
  });

  test("with peers, a new key waits one key-sync poll more: the other nodes learn of it at their next poll", () => {
    const synced = rolloverTiming(dnssecConfig({ key_sync: { peers: ["http://127.0.0.1:1"], poll_interval: 6 * HOUR } }), TTLS);
    expect(publishInterval(synced)).toBe(6 * HOUR + IPUB);
    expect(zskRetireInterval(synced)).toBe(6 * HOUR + IRET_ZSK);
  });

  test("TTLsig is the largest TTL in the zone, static records and services alike", () => {
    const zoneWith = (records: string) => {
      const config = parseConfig(
        ["mode: standalone", "dns:", "  zones: [ttl.test]", "  records: |", `    ${records}`, "services:", "  - name: app", "    ttl: 900", "    backends: [{ address: 192.0.2.1 }]"].join("\n"),
        { env: {} },
      );
      return buildEngine(config, () => 1).zones.zones[0]!;
    };
    expect(maxTtlOf(zoneWith('slow 7200 IN TXT "x"'))).toBe(7200);
    expect(maxTtlOf(zoneWith('fast 60 IN TXT "x"'))).toBe(900);
  });
});

/** Starts a rollover of `role` at t0 on a running keyring and returns how to look at the keys at t0 + offset. */
function rolled(keyType: "csk" | "ksk_zsk", role: KeyRole) {
  const { keyring, clock } = testKeyring(dirs.store(), { dnssec: dnssecConfig({ key_type: keyType }) });
  keyring.ensureKeys();
  keyring.start();
  const old = keyring.publishedKeys(ZONE).find((k) => k.role === role)!;
  const t0 = clock.now();
  const fresh = keyring.startRollover(ZONE, role);
  const at = (offset: number) => {
    clock.advance(t0 + offset - clock.now());
    const states = (tag: number) => keyring.keySet(ZONE).keys.find((k) => k.tag === tag)!.state;
    return { old: states(old.tag), fresh: states(fresh.tag), signing: keyring.activeSigningKeys(ZONE), keyring };
  };
  return { at, old, fresh, t0, keyring, clock };
}

describe("ZSK pre-publication", () => {
  test("published for DNSKEY TTL + propagation, then active as the old one retires; the old one goes once its signatures expired", () => {
    const { at, old, fresh } = rolled("ksk_zsk", "zsk");
    expect(at(0)).toMatchObject({ old: "active", fresh: "published" });
    expect(at(IPUB - 1)).toMatchObject({ old: "active", fresh: "published" });
    expect(at(IPUB - 1).signing.data.tag).toBe(old.tag);

    const activated = at(IPUB);
    expect(activated).toMatchObject({ old: "retired", fresh: "active" });
    expect(activated.signing.data.tag).toBe(fresh.tag);
    expect(activated.keyring.publishedKeys(ZONE).map((k) => k.tag)).toContain(old.tag);

    expect(at(IPUB + IRET_ZSK - 1)).toMatchObject({ old: "retired", fresh: "active" });
    const removed = at(IPUB + IRET_ZSK);
    expect(removed).toMatchObject({ old: "removed", fresh: "active" });
    expect(removed.keyring.publishedKeys(ZONE).map((k) => k.tag)).not.toContain(old.tag);
  });
});

describe("double-KSK", () => {
  test("both KSKs sign the DNSKEY RRset and offer a DS until the parent's DS has changed over; then the old one goes", () => {
    const { at, old, fresh, keyring } = rolled("ksk_zsk", "ksk");
    expect(at(IPUB - 1)).toMatchObject({ old: "active", fresh: "published" });
    expect(keyring.dsRecords(ZONE).map((d) => d.keyTag)).toEqual([old.tag]);

    const both = at(IPUB);
    expect(both).toMatchObject({ old: "active", fresh: "active" });
    expect(both.signing.dnskey.map((k) => k.tag).sort()).toEqual([old.tag, fresh.tag].sort());
    expect(keyring.dsRecords(ZONE).map((d) => d.keyTag).sort()).toEqual([old.tag, fresh.tag].sort());

    expect(at(IPUB + ISWAP - 1)).toMatchObject({ old: "active", fresh: "active" });
    expect(at(IPUB + ISWAP)).toMatchObject({ old: "removed", fresh: "active" });
    expect(keyring.dsRecords(ZONE).map((d) => d.keyTag)).toEqual([fresh.tag]);
  });
});

describe("CSK", () => {
  test("the new CSK takes over the data at once and shares the DNSKEY signing until the DS changed over; the old stays published until its data signatures expired", () => {
    const { at, old, fresh } = rolled("csk", "csk");
    expect(at(IPUB - 1)).toMatchObject({ old: "active", fresh: "published" });

    const both = at(IPUB);
    expect(both).toMatchObject({ old: "active", fresh: "active" });
    expect(both.signing.data.tag).toBe(fresh.tag);
    expect(both.signing.dnskey.map((k) => k.tag).sort()).toEqual([old.tag, fresh.tag].sort());

    expect(at(IPUB + ISWAP - 1)).toMatchObject({ old: "active" });
    const retired = at(IPUB + ISWAP);
    expect(retired).toMatchObject({ old: "retired", fresh: "active" });
    expect(retired.signing.dnskey.map((k) => k.tag)).toEqual([fresh.tag]);

    // Signatures over data stopped at IPUB, so the old CSK goes IRET_ZSK after that (later than the DS swap here).
    expect(IRET_ZSK).toBeGreaterThan(ISWAP);
    expect(at(IPUB + IRET_ZSK - 1)).toMatchObject({ old: "retired" });
    expect(at(IPUB + IRET_ZSK)).toMatchObject({ old: "removed", fresh: "active" });
  });
});

describe("the state machine", () => {
  test("a late advance stamps each change with its due time, and a second one changes nothing", () => {
    const { keyring, old, fresh, t0 } = rolled("ksk_zsk", "zsk");
    const started = keyring.keySet(ZONE).keys;
    const late = advance(started, t0 + 30 * DAY, timing);
    expect(late.changes.map((c) => [c.tag, c.from, c.to, c.at - t0])).toEqual([
      [fresh.tag, "published", "active", IPUB],
      [old.tag, "active", "retired", IPUB],
      [old.tag, "retired", "removed", IPUB + IRET_ZSK],
    ]);
    expect(advance(late.keys, t0 + 31 * DAY, timing)).toEqual({ keys: late.keys, changes: [] });
  });

  test("rescheduling the old CSK is no change of state; its retirement and removal are", () => {
    const { keyring, old, fresh, t0 } = rolled("csk", "csk");
    const late = advance(keyring.keySet(ZONE).keys, t0 + 30 * DAY, timing);
    expect(late.changes.map((c) => [c.tag, c.from, c.to, c.at - t0])).toEqual([
      [fresh.tag, "published", "active", IPUB],
      [old.tag, "active", "retired", IPUB + ISWAP],
      [old.tag, "retired", "removed", IPUB + IRET_ZSK],
    ]);
  });

  test("one rollover per role at a time; the other role may roll meanwhile", () => {
    const { keyring } = rolled("ksk_zsk", "zsk");
    expect(() => keyring.startRollover(ZONE, "zsk")).toThrow(/ZSK rollover of example.test is already under way/);
    expect(keyring.startRollover(ZONE, "ksk").state).toBe("published");
  });

  test("a role the zone has no active key of cannot be rolled", () => {
    const { keyring } = testKeyring(dirs.store());
    keyring.ensureKeys();
    expect(() => keyring.startRollover(ZONE, "zsk")).toThrow(/no active ZSK to roll/);
  });
});

describe("a rollover started in the data_dir of a running node", () => {
  test("is taken up within a minute and then runs on the node's clock", () => {
    const dataDir = dirs.dir();
    const { keyring, clock } = testKeyring(dirs.store(dataDir));
    keyring.ensureKeys();
    keyring.start();
    const cli = dirs.store(dataDir);
    const t0 = clock.now();
    const fresh = rollInStore(cli.dnssecKeys, ZONE, "csk", t0);
    const stateOf = (k: Keyring) => k.keySet(ZONE).keys.find((key) => key.tag === fresh.tag)?.state;

    advanceTo(clock, t0 + STORE_RECHECK_MS - 1);
    expect(stateOf(keyring)).toBeUndefined();
    advanceTo(clock, t0 + STORE_RECHECK_MS);
    expect(stateOf(keyring)).toBe("published");
    expect(keyring.keySet(ZONE).revision).toBe(2);
    advanceTo(clock, t0 + IPUB);
    expect(stateOf(keyring)).toBe("active");
    expect(cli.dnssecKeys.get(ZONE)!.keys.find((k) => k.tag === fresh.tag)!.state).toBe("active");
    keyring.stop();
  });
});

function advanceTo(clock: ManualClock, at: number): void {
  clock.advance(at - clock.now());
}
