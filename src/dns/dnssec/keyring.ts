// Each zone's DNSSEC keys as the node uses them: made on first start (one CSK, or a KSK and a ZSK),
// kept in the store, moved through rollovers by the clock, handed to the signer, the DS API and key
// sync. Log lines name zone, tag, role, algorithm and state: never key material.
import type { DnssecConfig } from "../../config/types.ts";
import type { Clock, TimerHandle } from "../../lib/clock.ts";
import type { Logger } from "../../lib/log.ts";
import type { DnssecKeys, StoredKey } from "../../store/dnssec-keys.ts";
import { algorithmFor, findAlgorithm } from "./algorithms.ts";
import { DigestType, dnskeyRdata, dsRdata, formatDs, keyTag } from "./dnskey.ts";
import { RRType } from "../types.ts";
import { advance, beginRollover, RolloverError, type KeyChange, type RolloverTiming } from "./rollover.ts";
import type { ZoneKeys } from "./zone-signing.ts";
import { Algorithm, DnskeyFlags, type AlgorithmNumber, type DnssecKey, type KeyRole, type KeyState } from "./types.ts";

export interface KeySet {
  zone: string;
  /** Deliberate changes so far (first keys, rollover starts, imports); key sync prefers the higher. */
  revision: number;
  /** Removed keys included, as history. */
  keys: DnssecKey[];
}

/** Which key signs what, at this moment. */
export interface SigningKeys {
  /** The DNSKEY RRset is signed by each active KSK/CSK: two while one is being rolled. */
  dnskey: DnssecKey[];
  /** Every other RRset by the newest active ZSK/CSK. */
  data: DnssecKey;
}

/** A DS record for the parent zone, SHA-256 (digest type 2), digest in upper-case hex. */
export interface DsRecord {
  keyTag: number;
  algorithm: number;
  digestType: number;
  digest: string;
  /** Presentation form: "zone. IN DS tag algorithm digest-type digest". */
  record: string;
}

const ALGORITHM_NUMBERS: Record<DnssecConfig["algorithm"], AlgorithmNumber> = {
  ecdsap256sha256: Algorithm.ECDSAP256SHA256,
  ed25519: Algorithm.ED25519,
};

/** The apex sets signed by the KSK/CSK, as the DNSKEY RRset is (RFC 7344 §4.1 for CDS and CDNSKEY). */
const KEY_SET_TYPES: ReadonlySet<number> = new Set([RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]);
const ROLES: readonly KeyRole[] = ["csk", "ksk", "zsk"];
const STATES: readonly KeyState[] = ["published", "active", "retired", "removed"];
/** How often a node looks for sets `vigil keys` changed in its data_dir. */
export const STORE_RECHECK_MS = 60_000;

/** The roles of a zone's keys under dns.dnssec.key_type. */
function rolesFor(keyType: DnssecConfig["key_type"]): KeyRole[] {
  return keyType === "csk" ? ["csk"] : ["ksk", "zsk"];
}

/** What a rollover rolls unless told otherwise: the CSK, or with ksk_zsk the ZSK (the frequent one). */
export function defaultRolloverRole(keyType: DnssecConfig["key_type"]): KeyRole {
  return keyType === "csk" ? "csk" : "zsk";
}

/** The DNSKEY rdata of a key: flags 257 (SEP) for a KSK or CSK, 256 for a ZSK. */
export function dnskeyOf(key: Pick<DnssecKey, "role" | "algorithm" | "publicKey">): Uint8Array {
  return dnskeyRdata(key.role === "zsk" ? DnskeyFlags.ZSK : DnskeyFlags.KSK, key.algorithm, key.publicKey);
}

/** A fresh key, active from `now`, whose tag differs from every tag in `taken`. */
function newKey(zone: string, role: KeyRole, algorithm: AlgorithmNumber, now: number, taken: ReadonlySet<number>): DnssecKey {
  for (;;) {
    const { privateKey, publicKey } = algorithmFor(algorithm).generate();
    const tag = keyTag(dnskeyOf({ role, algorithm, publicKey }));
    // Distinct tags within a zone: validators and operators tell keys apart by them.
    if (!taken.has(tag)) return { zone, role, algorithm, publicKey, privateKey, tag, state: "active", createdAt: now, stateSince: now };
  }
}

/** Checks a key read from the store, a peer or a file: known role, state and algorithm, and a tag and public key that belong to its private key. */
export function checkedKey(k: StoredKey): DnssecKey {
  const role = ROLES.find((r) => r === k.role);
  const state = STATES.find((s) => s === k.state);
  const algorithm = findAlgorithm(k.algorithm);
  const what = `DNSSEC key ${k.tag} of ${k.zone}`;
  if (!role || !state) throw new Error(`${what}: unknown role "${k.role}" or state "${k.state}"`);
  if (!algorithm) throw new Error(`${what}: algorithm ${k.algorithm} is not supported (vigil signs with 13 and 15)`);
  if (!sameBytes(algorithm.publicKeyOf(k.privateKey), k.publicKey)) throw new Error(`${what}: public key does not match its private key`);
  const key: DnssecKey = { ...k, role, state, algorithm: algorithm.number };
  if (keyTag(dnskeyOf(key)) !== k.tag) throw new Error(`${what}: tag does not match the key`);
  return key;
}

/** DS records for the parent: one per active KSK/CSK (two while one is rolled: publish both). */
export function dsRecordsOf(set: KeySet): DsRecord[] {
  return set.keys
    .filter((k) => k.role !== "zsk" && k.state === "active")
    .map((k) => {
      const ds = dsRdata(set.zone, dnskeyOf(k), DigestType.SHA256);
      const digest = Buffer.from(ds.subarray(4)).toString("hex").toUpperCase();
      return { keyTag: k.tag, algorithm: k.algorithm, digestType: DigestType.SHA256, digest, record: formatDs(set.zone, ds) };
    });
}

export function readKeySet(repo: DnssecKeys, zone: string): KeySet | undefined {
  const stored = repo.get(zone);
  return stored && { zone, revision: stored.revision, keys: stored.keys.map(checkedKey) };
}

/**
 * Starts a rollover in the store: a new key of `role`, published now, the revision one up. What the
 * node does with it (when it becomes active, when the old one goes) follows from its clock.
 */
export function rollInStore(repo: DnssecKeys, zone: string, role: KeyRole, now: number): DnssecKey {
  const set = readKeySet(repo, zone);
  if (!set) throw new RolloverError(`zone ${zone} has no DNSSEC keys yet: the node makes them at its first start`);
  const taken = new Set(set.keys.map((k) => k.tag));
  const { keys } = beginRollover(set.keys, role, now, (current) => newKey(zone, role, current.algorithm, now, taken));
  if (!repo.replace({ zone, revision: set.revision + 1, keys }, set.revision)) {
    throw new RolloverError(`the keys of ${zone} changed while the rollover was being written: try again`);
  }
  return keys[keys.length - 1]!;
}

export interface KeyringOptions {
  repo: DnssecKeys;
  dnssec: DnssecConfig;
  zones: readonly string[];
  /** The zone's rollover timing; read at every step, so a reload's new TTLs count. */
  timing: (zone: string) => RolloverTiming;
  clock: Clock;
  log: Logger;
}

export class Keyring {
  private readonly sets = new Map<string, KeySet>();
  private readonly listeners = new Set<(zone: string) => void>();
  private zoneList: string[] = [];
  private timer: TimerHandle | undefined;

  constructor(private readonly opts: KeyringOptions) {
    this.setZones(opts.zones);
  }

  /**
   * The zones served (at a reload); keys of a zone dropped from the config stay in the store. A new
   * zone without keys gets them from prepareKeys (or ensureKeys).
   */
  setZones(zones: readonly string[]): void {
    this.zoneList = [...zones];
    for (const zone of zones) if (!this.sets.has(zone)) this.load(zone);
  }

  zones(): string[] {
    return [...this.zoneList];
  }

  /** Zones without keys yet: a new node asks its peers for these before making its own. */
  missing(): string[] {
    return this.zoneList.filter((zone) => !this.sets.has(zone));
  }

  /** Makes the first keys of every zone that has none: a CSK, or a KSK and a ZSK (dnssec.key_type). */
  ensureKeys(): void {
    const { dnssec, clock, repo, log } = this.opts;
    const algorithm = ALGORITHM_NUMBERS[dnssec.algorithm];
    for (const zone of this.missing()) {
      const keys: DnssecKey[] = [];
      for (const role of rolesFor(dnssec.key_type)) keys.push(newKey(zone, role, algorithm, clock.now(), new Set(keys.map((k) => k.tag))));
      if (!repo.replace({ zone, revision: 1, keys }, undefined)) {
        this.load(zone); // another process made them first
        continue;
      }
      this.sets.set(zone, { zone, revision: 1, keys });
      log.info("dnssec keys generated", { zone, algorithm, keys: keys.map((k) => `${k.role} ${k.tag}`) });
      this.changed(zone);
    }
  }

  /** The zone's whole set, removed keys included. */
  keySet(zone: string): KeySet {
    const set = this.sets.get(zone);
    if (!set) throw new Error(`zone ${zone} has no DNSSEC keys`);
    return set;
  }

  /** The keys of the DNSKEY RRset: published, active and retired ones. */
  publishedKeys(zone: string): DnssecKey[] {
    return this.keySet(zone).keys.filter((k) => k.state !== "removed");
  }

  activeSigningKeys(zone: string): SigningKeys {
    const active = this.keySet(zone).keys.filter((k) => k.state === "active");
    const data = active.filter((k) => k.role !== "ksk").sort((a, b) => b.stateSince - a.stateSince || b.createdAt - a.createdAt)[0];
    if (!data) throw new Error(`zone ${zone} has no active zone-signing key`);
    return { dnskey: active.filter((k) => k.role !== "zsk"), data };
  }

  /** The zone's signing keys as they are now, in the shape ZoneSigning asks for; undefined without keys. */
  zoneKeys(zone: string): ZoneKeys | undefined {
    if (!this.sets.has(zone)) return undefined;
    const { dnskey, data } = this.activeSigningKeys(zone);
    return { signingKeys: (type) => (KEY_SET_TYPES.has(type) ? dnskey : [data]) };
  }

  dsRecords(zone: string): DsRecord[] {
    return dsRecordsOf(this.keySet(zone));
  }

  /** Starts rolling the zone's key of `role` (by default its CSK, or its ZSK with ksk_zsk); returns the new key. */
  startRollover(zone: string, role: KeyRole = defaultRolloverRole(this.opts.dnssec.key_type)): DnssecKey {
    const key = rollInStore(this.opts.repo, zone, role, this.opts.clock.now());
    this.load(zone);
    this.tick();
    return key;
  }

  /** Takes a whole set from a peer or a file; false when the store changed under us (it is re-read). */
  adopt(set: KeySet, from: string): boolean {
    const current = this.sets.get(set.zone);
    if (!this.opts.repo.replace(set, current?.revision)) {
      this.load(set.zone);
      return false;
    }
    this.sets.set(set.zone, set);
    this.opts.log.info("dnssec keys adopted", { zone: set.zone, from, revision: set.revision, keys: describe(set.keys) });
    this.changed(set.zone);
    this.tick();
    return true;
  }

  /** Re-reads sets changed in the store by someone else, applies due transitions, saves, tells listeners. */
  tick(): void {
    const { repo, clock, log, timing } = this.opts;
    const revisions = repo.revisions();
    for (const zone of this.zoneList) {
      if (revisions.get(zone) !== this.sets.get(zone)?.revision) this.load(zone);
      const set = this.sets.get(zone);
      if (!set) continue;
      const { keys, changes } = advance(set.keys, clock.now(), timing(zone));
      if (keys.every((k, i) => k === set.keys[i])) continue;
      const next = { ...set, keys };
      if (!repo.replace(next, set.revision)) {
        this.load(zone); // changed meanwhile: the next tick advances what is there now
        continue;
      }
      this.sets.set(zone, next);
      for (const change of changes) {
        log.info(`dnssec key ${change.to}`, { zone, tag: change.tag, role: change.role, since: new Date(change.at).toISOString() });
      }
      this.announceNewDs(zone, changes);
      if (changes.length > 0) this.changed(zone);
    }
  }

  /** Ticks now, then at every due transition and at least every STORE_RECHECK_MS. */
  start(): void {
    this.stop();
    this.maintain();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Called with the zone whenever its keys or their states change (the signer drops its cache). */
  onChange(listener: (zone: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private maintain(): void {
    const { clock, log } = this.opts;
    try {
      this.tick();
    } catch (err) {
      log.error("dnssec key maintenance failed; trying again at the next check", { error: err });
    }
    const due = this.zoneList.flatMap((z) => this.sets.get(z)?.keys ?? []).map((k) => k.nextTransitionAt ?? Infinity);
    const wait = Math.min(STORE_RECHECK_MS, ...due.map((at) => at - clock.now()));
    this.timer = clock.setTimeout(() => this.maintain(), Math.max(0, wait));
  }

  private load(zone: string): void {
    const set = readKeySet(this.opts.repo, zone);
    if (!set) return;
    this.warnIfConfigDiffers(set);
    this.sets.set(zone, set);
    this.changed(zone);
  }

  private warnIfConfigDiffers(set: KeySet): void {
    const { dnssec, log } = this.opts;
    const active = set.keys.filter((k) => k.state === "active");
    const roles = rolesFor(dnssec.key_type);
    if (active.some((k) => k.algorithm !== ALGORITHM_NUMBERS[dnssec.algorithm] || !roles.includes(k.role))) {
      log.warn("dnssec keys differ from dns.dnssec (algorithm or key_type); vigil does not roll algorithms or key types, so the existing keys stay", {
        zone: set.zone,
        keys: describe(active),
        configured: { algorithm: dnssec.algorithm, key_type: dnssec.key_type },
      });
    }
  }

  /** A KSK/CSK that just became active has a DS the parent needs before its predecessor retires. */
  private announceNewDs(zone: string, changes: KeyChange[]): void {
    for (const change of changes) {
      if (change.to !== "active" || change.role === "zsk") continue;
      const ds = this.dsRecords(zone).find((d) => d.keyTag === change.tag);
      const predecessor = this.keySet(zone).keys.find((k) => k.role === change.role && k.tag !== change.tag && k.state === "active");
      if (!ds || !predecessor?.nextTransitionAt) continue;
      this.opts.log.warn("publish the new DS at the parent zone", {
        zone,
        ds: ds.record,
        before: new Date(predecessor.nextTransitionAt).toISOString(),
      });
    }
  }

  private changed(zone: string): void {
    for (const listener of this.listeners) listener(zone);
  }
}

function describe(keys: readonly DnssecKey[]): string[] {
  return keys.map((k) => `${k.role} ${k.tag} ${k.state}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
