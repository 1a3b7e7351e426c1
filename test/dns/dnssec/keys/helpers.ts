// Shared by the key tests: a real store in a temp dir, a DNSSEC config, a keyring on a ManualClock
// with its log lines captured, and the round timing numbers the timeline tests reason with.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DnssecConfig } from "../../../../src/config/types.ts";
import { ManualClock } from "../../../../src/lib/clock.ts";
import { createLogger, type Logger } from "../../../../src/lib/log.ts";
import { openStore } from "../../../../src/store/open.ts";
import type { Store } from "../../../../src/store/store.ts";
import { Keyring } from "../../../../src/dns/dnssec/keyring.ts";
import { rolloverTiming, type RolloverTiming } from "../../../../src/dns/dnssec/rollover.ts";
import type { DnssecKey } from "../../../../src/dns/dnssec/types.ts";

export const SECOND = 1000;
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export function dnssecConfig(over: Partial<DnssecConfig> = {}): DnssecConfig {
  return {
    enabled: true,
    algorithm: "ecdsap256sha256",
    key_type: "csk",
    denial: "nsec",
    signature_validity: 7 * DAY,
    inception_offset: HOUR,
    key_sync: { peers: [], poll_interval: HOUR },
    ...over,
  };
}

/** DNSKEY TTL 1 h, largest zone TTL 5 min, no peers: Ipub = 1 h margin + 1 h TTL = 2 h. */
export const TTLS = { dnskey: 3600, max: 300 };
export const timing: RolloverTiming = rolloverTiming(dnssecConfig(), TTLS);

/** Temp dirs made by a test file; call cleanup() in afterEach/afterAll. */
export class TempDirs {
  private readonly dirs: string[] = [];
  private readonly stores: Store[] = [];

  dir(): string {
    const dir = mkdtempSync(join(tmpdir(), "vigil-keys-"));
    this.dirs.push(dir);
    return dir;
  }

  store(dataDir: string = this.dir()): Store {
    const store = openStore(dataDir);
    this.stores.push(store);
    return store;
  }

  cleanup(): void {
    for (const store of this.stores.splice(0)) store.close();
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

export interface TestKeyring {
  keyring: Keyring;
  clock: ManualClock;
  lines: string[];
  log: Logger;
  store: Store;
}

export function testKeyring(
  store: Store,
  opts: { dnssec?: DnssecConfig; zones?: string[]; clock?: ManualClock; lines?: string[] } = {},
): TestKeyring {
  const clock = opts.clock ?? new ManualClock();
  const lines = opts.lines ?? [];
  const log = createLogger({ level: "debug", format: "json" }, { write: (line) => lines.push(line) });
  const keyring = new Keyring({
    repo: store.dnssecKeys,
    dnssec: opts.dnssec ?? dnssecConfig(),
    zones: opts.zones ?? ["example.test"],
    timing: () => timing,
    clock,
    log,
  });
  return { keyring, clock, lines, log, store };
}

/** Every text form a private key could leak in. */
export function secretForms(keys: readonly DnssecKey[]): string[] {
  return keys.flatMap((k) => {
    const b = Buffer.from(k.privateKey);
    return [b.toString("hex"), b.toString("hex").toUpperCase(), b.toString("base64"), b.toString("base64url")];
  });
}

export function summary(keys: readonly DnssecKey[]) {
  return keys.map((k) => ({ tag: k.tag, role: k.role, state: k.state }));
}
