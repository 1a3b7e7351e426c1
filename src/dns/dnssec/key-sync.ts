// Key sync: every node serving a zone ends up with one key set, so all of them publish one DNSKEY set
// and one DS. Each node polls its peers' API for their sets, sealed with AES-256-GCM under a key
// derived (HKDF-SHA256) from the shared api.token: the API never returns a private key in clear, and
// a sealed set is useless without the token. When two sets differ, one deterministic rule picks the
// same winner on every node (compareKeySets).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import type { Clock, TimerHandle } from "../../lib/clock.ts";
import { normalizeName } from "../../lib/dns-name.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { checkedKey, type KeySet, type Keyring } from "./keyring.ts";
import type { DnssecKey } from "./types.ts";

export const KEYSET_PATH = "/api/v1/dnssec/sync/keyset";
const SEALED_FORMAT = "vigil-sealed-keys-1";
const HKDF_INFO = "vigil dnssec key sync";
/** A sealed set older (or further ahead) than this is refused, so a recorded reply cannot be replayed later. */
export const SEAL_MAX_AGE_MS = 5 * 60_000;

/** A key set as JSON: bytes in base64, times in ms. Inside sealed payloads and `vigil keys export` files. */
export interface KeySetJson {
  zone: string;
  revision: number;
  keys: {
    role: string;
    algorithm: number;
    tag: number;
    state: string;
    public_key: string;
    private_key: string;
    created_at: number;
    state_since: number;
    next_transition_at: number | null;
  }[];
}

export interface SealedKeySets {
  format: string;
  salt: string;
  iv: string;
  ciphertext: string;
}

export function encodeKeySets(sets: readonly KeySet[]): KeySetJson[] {
  return sets.map((set) => ({
    zone: set.zone,
    revision: set.revision,
    keys: set.keys.map((k) => ({
      role: k.role,
      algorithm: k.algorithm,
      tag: k.tag,
      state: k.state,
      public_key: Buffer.from(k.publicKey).toString("base64"),
      private_key: Buffer.from(k.privateKey).toString("base64"),
      created_at: k.createdAt,
      state_since: k.stateSince,
      next_transition_at: k.nextTransitionAt ?? null,
    })),
  }));
}

/** The sets in `value` (a KeySetJson list), every key checked; throws naming what is wrong. */
export function decodeKeySets(value: unknown): KeySet[] {
  if (!Array.isArray(value)) throw new Error("expected a list of zones");
  return value.map((set: Record<string, unknown>, i) => {
    const zone = normalizeName(text(set?.zone, `zones[${i}].zone`));
    const revision = count(set.revision, `${zone}: revision`);
    if (!Array.isArray(set.keys)) throw new Error(`${zone}: expected a list of keys`);
    const keys = set.keys.map((k: Record<string, unknown>, j) => {
      const at = `${zone}: keys[${j}]`;
      return checkedKey({
        zone,
        role: text(k?.role, `${at}.role`),
        algorithm: count(k.algorithm, `${at}.algorithm`),
        tag: count(k.tag, `${at}.tag`),
        state: text(k.state, `${at}.state`),
        publicKey: new Uint8Array(Buffer.from(text(k.public_key, `${at}.public_key`), "base64")),
        privateKey: new Uint8Array(Buffer.from(text(k.private_key, `${at}.private_key`), "base64")),
        createdAt: count(k.created_at, `${at}.created_at`),
        stateSince: count(k.state_since, `${at}.state_since`),
        nextTransitionAt: k.next_transition_at === null ? undefined : count(k.next_transition_at, `${at}.next_transition_at`),
      });
    });
    if (new Set(keys.map((k) => k.tag)).size !== keys.length) throw new Error(`${zone}: two keys share a tag`);
    return { zone, revision, keys };
  });
}

export function sealKeySets(sets: readonly KeySet[], token: string, now: number): SealedKeySets {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealingKey(token, salt), iv);
  cipher.setAAD(Buffer.from(SEALED_FORMAT));
  const plain = JSON.stringify({ sealed_at: now, zones: encodeKeySets(sets) });
  const ciphertext = Buffer.concat([cipher.update(plain, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return { format: SEALED_FORMAT, salt: b64(salt), iv: b64(iv), ciphertext: b64(ciphertext) };
}

/** Opens what sealKeySets made with the same token, no older than SEAL_MAX_AGE_MS at `now`. */
export function openKeySets(sealed: unknown, token: string, now: number): KeySet[] {
  const s = (sealed ?? {}) as Partial<SealedKeySets>;
  if (s.format !== SEALED_FORMAT) throw new Error(`not a sealed key set (format ${JSON.stringify(s.format)})`);
  const body = Buffer.from(text(s.ciphertext, "ciphertext"), "base64");
  const decipher = createDecipheriv("aes-256-gcm", sealingKey(token, Buffer.from(text(s.salt, "salt"), "base64")), Buffer.from(text(s.iv, "iv"), "base64"));
  decipher.setAAD(Buffer.from(SEALED_FORMAT));
  let plain: string;
  try {
    decipher.setAuthTag(body.subarray(body.length - 16));
    plain = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString("utf8");
  } catch {
    throw new Error("cannot open the sealed key set: api.token differs between the nodes, or the data was altered");
  }
  const payload = JSON.parse(plain) as { sealed_at?: unknown; zones?: unknown };
  const age = now - count(payload.sealed_at, "sealed_at");
  if (Math.abs(age) > SEAL_MAX_AGE_MS) throw new Error(`the sealed key set is ${Math.round(age / 1000)} s old: replayed, or the clocks disagree`);
  return decodeKeySets(payload.zones);
}

/**
 * Negative when `a` should win, positive for `b`, 0 when they hold the same keys. In order: the
 * higher revision (it has seen more deliberate changes: a rollover started, an import); the set
 * whose oldest active key was made first; the lower sequence of tags; the lower public keys.
 */
export function compareKeySets(a: KeySet, b: KeySet): number {
  return (
    b.revision - a.revision ||
    oldestActive(a) - oldestActive(b) ||
    compareSequences(inUse(a).map((k) => k.tag), inUse(b).map((k) => k.tag)) ||
    compareSequences(publicBytes(a), publicBytes(b))
  );
}

export type ZoneOutcome = "in_sync" | "adopted" | "kept_local" | "not_at_peer";

/** A peer's set for one zone against ours: the one compareKeySets prefers is what both end up serving. */
export function settleKeySet(keyring: Keyring, theirs: KeySet, peer: string): ZoneOutcome {
  if (!keyring.zones().includes(theirs.zone)) return "not_at_peer";
  const ours = keyring.missing().includes(theirs.zone) ? undefined : keyring.keySet(theirs.zone);
  const order = ours ? compareKeySets(ours, theirs) : 1;
  if (order === 0) return "in_sync";
  if (order < 0) return "kept_local";
  return keyring.adopt(theirs, peer) ? "adopted" : "kept_local";
}

export interface PeerStatus {
  peer: string;
  lastAttempt?: number;
  /** When the peer last gave a set we could open. */
  lastSuccess?: number;
  result: "never" | "ok" | "refused" | "error";
  error?: string;
  zones: { zone: string; outcome: ZoneOutcome; keyTags: number[] }[];
}

export interface KeySyncOptions {
  keyring: Keyring;
  /** API base URLs ("https://overwatch-2.internal:9090"). */
  peers: readonly string[];
  token: string | undefined;
  pollInterval: number;
  clock: Clock;
  log: Logger;
  timeoutMs?: number;
}

export class KeySync {
  private readonly peers: PeerStatus[];
  private timer: TimerHandle | undefined;
  private stopped = true;

  constructor(private readonly opts: KeySyncOptions) {
    this.peers = opts.peers.map((peer) => ({ peer: peer.replace(/\/+$/, ""), result: "never", zones: [] }));
  }

  status(): PeerStatus[] {
    return this.peers.map((p) => ({ ...p, zones: [...p.zones] }));
  }

  /** One round: each peer in turn, each of our zones settled against the peer's set. */
  async syncOnce(): Promise<void> {
    for (const status of this.peers) await this.syncWith(status);
  }

  /** Polls every poll_interval (the first round is the caller's: see prepareKeys). */
  start(): void {
    this.stopped = false;
    this.timer = this.opts.clock.setTimeout(() => {
      void this.syncOnce().finally(() => {
        if (!this.stopped) this.start();
      });
    }, this.opts.pollInterval);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private async syncWith(status: PeerStatus): Promise<void> {
    const { clock, log, keyring, token } = this.opts;
    status.lastAttempt = clock.now();
    try {
      if (!token) throw new RefusedError("api.token is not set: key sync needs the same token on every node");
      const remote = await this.fetchSets(status.peer, token);
      status.zones = keyring.zones().map((zone) => {
        const theirs = remote.find((set) => set.zone === zone);
        const outcome = theirs ? this.settle(theirs, status.peer) : "not_at_peer";
        return { zone, outcome, keyTags: (theirs?.keys ?? []).filter((k) => k.state !== "removed").map((k) => k.tag) };
      });
      Object.assign(status, { result: "ok", error: undefined, lastSuccess: clock.now() });
    } catch (err) {
      const refused = err instanceof RefusedError;
      Object.assign(status, { result: refused ? "refused" : "error", error: errorMessage(err) });
      log.warn("dnssec key sync with a peer failed", { peer: status.peer, error: errorMessage(err) });
    }
  }

  private settle(theirs: KeySet, peer: string): ZoneOutcome {
    return settleKeySet(this.opts.keyring, theirs, peer);
  }

  private async fetchSets(peer: string, token: string): Promise<KeySet[]> {
    const response = await fetch(peer + KEYSET_PATH, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
    });
    if (response.status === 401 || response.status === 403) {
      throw new RefusedError(`refused (HTTP ${response.status}): ${await response.text()}`);
    }
    if (response.status === 404) throw new Error("the peer has no key set to share (its api.token is not set)");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return openKeySets(await response.json(), token, this.opts.clock.now());
  }
}

/**
 * Start-up: a node without keys for some zone first asks its peers, so it joins the keys the cluster
 * already serves; only zones nobody has get fresh keys.
 */
export async function prepareKeys(keyring: Keyring, sync: KeySync): Promise<void> {
  if (keyring.missing().length > 0) await sync.syncOnce();
  keyring.ensureKeys();
}

class RefusedError extends Error {}

function sealingKey(token: string, salt: Uint8Array): Buffer {
  return Buffer.from(hkdfSync("sha256", token, salt, HKDF_INFO, 32));
}

const inUse = (set: KeySet) => set.keys.filter((k) => k.state !== "removed").sort((a, b) => a.tag - b.tag);
const oldestActive = (set: KeySet) => Math.min(...set.keys.filter((k) => k.state === "active").map((k) => k.createdAt));
const publicBytes = (set: KeySet) => inUse(set).flatMap((k: DnssecKey) => [...k.publicKey]);

function compareSequences(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

function text(value: unknown, what: string): string {
  if (typeof value !== "string") throw new Error(`${what}: expected text`);
  return value;
}

function count(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw new Error(`${what}: expected a whole number`);
  return value;
}
