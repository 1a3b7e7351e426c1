// Online signing for the zones of one answer engine, in one signing window: RRSIGs from the
// signature cache, and the zone's denial of existence (built, and for NSEC signed, on first use).
// A new window (or new keys, which come with a new engine) means a new ZoneSigning.

import type { RR, RRset } from "../types.ts";
import type { Zone, ZoneSet } from "../zone/zone.ts";
import { signRRset, type SigningKey } from "./rrsig.ts";
import type { SignatureCache } from "./signature-cache.ts";
import type { SigningWindow } from "./signing-window.ts";
import { NsecDenial } from "./denial.ts";
import { CompactDenial } from "./compact-denial.ts";

/** The keys of one zone, by what they sign. */
export interface ZoneKeys {
  /** KSK/CSK for DNSKEY, CDS and CDNSKEY; ZSK/CSK for every other type. */
  signingKeys(type: number): readonly SigningKey[];
}

export type DenialMode = "nsec" | "compact";

export interface ZoneSecurity {
  zone: Zone;
  sign(set: RRset): RR[];
  denial(): NsecDenial | CompactDenial;
}

export class ZoneSigning {
  private readonly byApex = new Map<string, ZoneSecurity>();

  constructor(
    private readonly zones: ZoneSet,
    private readonly keysFor: (apex: string) => ZoneKeys | undefined,
    readonly window: SigningWindow,
    private readonly cache: SignatureCache,
    private readonly denialMode: DenialMode,
  ) {}

  /** The signing of the zone that holds `name`; undefined when that zone is not signed. */
  forName(name: string): ZoneSecurity | undefined {
    const zone = this.zones.findZone(name);
    if (!zone) return undefined;
    let security = this.byApex.get(zone.apex);
    if (!security) {
      const keys = this.keysFor(zone.apex);
      if (!keys) return undefined;
      security = this.secure(zone, keys);
      this.byApex.set(zone.apex, security);
    }
    return security;
  }

  private secure(zone: Zone, keys: ZoneKeys): ZoneSecurity {
    const { window, cache } = this;
    // The zone's own sets (its SOA above all, in every negative answer) come back as the same
    // objects: remember their signatures by identity and skip building a content key.
    const byIdentity = new WeakMap<RRset, RR[]>();
    const sign = (set: RRset) => {
      let signatures = byIdentity.get(set);
      if (!signatures) {
        signatures = cache.get(set, window.epoch, (s) => keys.signingKeys(s.type).map((key) => signRRset(s, key, zone.apex, window)));
        byIdentity.set(set, signatures);
      }
      return signatures;
    };
    let denial: NsecDenial | CompactDenial | undefined;
    return {
      zone,
      sign,
      // Built on first need: an NSEC chain signs every link, which a zone never queried with DO need not pay.
      denial: () => (denial ??= this.denialMode === "nsec" ? new NsecDenial(zone, sign) : new CompactDenial(zone, sign)),
    };
  }
}
