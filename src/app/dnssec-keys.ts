// The node's DNSSEC keys: the keyring (generation, rollover on the clock), key sync with the other
// nodes of the zones, and the view of them the answer engine builds zones from.

import type { Config } from "../config/types.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import type { Store } from "../store/store.ts";
import type { DnssecSource } from "../dns/server/engine.ts";
import type { ZoneSet } from "../dns/zone/zone.ts";
import { Keyring } from "../dns/dnssec/keyring.ts";
import { KeySync, prepareKeys } from "../dns/dnssec/key-sync.ts";
import { maxTtlOf, rolloverTiming } from "../dns/dnssec/rollover.ts";
import { apexRecords, DNSKEY_TTL } from "../dns/dnssec/apex-records.ts";

export class DnssecKeys implements DnssecSource {
  readonly keyring: Keyring;
  readonly sync: KeySync;

  private constructor(config: Config, store: Store, clock: Clock, log: Logger, zones: () => ZoneSet | undefined) {
    const dnssec = config.dns.dnssec;
    this.keyring = new Keyring({
      repo: store.dnssecKeys,
      dnssec,
      zones: config.dns.zones,
      timing: (apex) => {
        const zone = zones()?.findZone(apex);
        return rolloverTiming(dnssec, { dnskey: DNSKEY_TTL, max: zone ? maxTtlOf(zone) : config.dns.default_ttl });
      },
      clock,
      log,
    });
    this.sync = new KeySync({
      keyring: this.keyring,
      peers: dnssec.key_sync.peers,
      token: config.api.token,
      pollInterval: dnssec.key_sync.poll_interval,
      clock,
      log,
    });
  }

  /** Fetches keys from peers for zones that have none yet, else generates them; then starts the timers. */
  static async start(config: Config, store: Store, clock: Clock, log: Logger, zones: () => ZoneSet | undefined): Promise<DnssecKeys> {
    const keys = new DnssecKeys(config, store, clock, log, zones);
    if (config.dns.dnssec.key_sync.peers.length > 0 && !config.api.token) {
      // Allowed (the deployment guide's example does it), but then no key set can travel: say so.
      log.warn("dns.dnssec.key_sync.peers is set but api.token is not: keys are not synced with peers");
    }
    await prepareKeys(keys.keyring, keys.sync);
    keys.keyring.start();
    keys.sync.start();
    return keys;
  }

  /** A reload may add zones: they get keys (from peers first) before the new engine is built. */
  async setZones(zones: readonly string[]): Promise<void> {
    this.keyring.setZones(zones);
    await prepareKeys(this.keyring, this.sync);
  }

  apexRecords(apex: string) {
    return apexRecords(apex, this.keyring.publishedKeys(apex));
  }

  keysFor(apex: string) {
    return this.keyring.zoneKeys(apex);
  }

  stop(): void {
    this.sync.stop();
    this.keyring.stop();
  }
}
