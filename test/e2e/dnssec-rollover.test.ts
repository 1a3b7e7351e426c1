// Key rollovers walked from start to end on an accelerated clock. The node runs in process on a
// ManualClock, serving real sockets; the rollover is started the way `vigil keys rollover` does it
// (in the store) and the clock is stepped through every transition, halfway to each and a second
// before it, and through every signature renewal on the way. At each step:
//   - unbound, validating as of the step's time (val-override-date), must set AD on every judged
//     answer for each DS set a resolver could hold then (see parentDsSets: a new DS only once the DS
//     API offers it, the old one until the parent has surely swapped it and caches let it go);
//   - the RFC 7583 caching rules must hold over the steps seen: a key signs only once it has been in
//     the DNSKEY set for a DNSKEY TTL, a DS is offered only for such a key, and a key whose
//     signatures may still sit in caches (their TTL) stays in the DNSKEY set meanwhile.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as dnsPacket from "dns-packet";
import { VigilNode } from "../../src/app/node.ts";
import { parseConfig } from "../../src/config/load.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/store.ts";
import { readKeySet, rollInStore, STORE_RECHECK_MS } from "../../src/dns/dnssec/keyring.ts";
import { dnskeyRdata, keyTag } from "../../src/dns/dnssec/dnskey.ts";
import { signingWindow } from "../../src/dns/dnssec/signing-window.ts";
import type { AlgorithmNumber, KeyRole, KeyState } from "../../src/dns/dnssec/types.ts";
import { exchangeUdp } from "../helpers/raw-dns.ts";
import { fetchDs, Unbound, type DsLine } from "../helpers/validators.ts";

const ZONE = "signed.test";
const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

/** Every answer judged at every step: the key sets, the apex, a service, static data (the zone's longest TTL), a denial. */
const JUDGED: [string, string][] = [
  [ZONE, "DNSKEY"],
  [ZONE, "CDS"],
  [ZONE, "SOA"],
  [ZONE, "NS"],
  [`app.${ZONE}`, "A"],
  [`txt.${ZONE}`, "TXT"],
  [`nope.${ZONE}`, "A"],
];

const config = (keyType: string, dataDir: string) => `
dns:
  listen_address: "127.0.0.1:0"
  zones: [${ZONE}]
  nameservers: [{ name: ns1.${ZONE}, addresses: [127.0.0.1] }]
  records: |
    txt 7200 IN TXT "rolled"
  dnssec: { key_type: ${keyType} }
data_dir: ${dataDir}
api: { address: "127.0.0.1:0" }
metrics: { address: "127.0.0.1:0" }
logging: { format: json }
services:
  - name: app
    backends: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }]
`;

/** What one step saw of the zone. */
interface Sample {
  label: string;
  at: number;
  /** Tags in the DNSKEY RRset served, and its TTL (s). */
  published: Set<number>;
  dnskeyTtl: number;
  /** Every signed RRset in the judged answers: its type, how long it may be cached, the keys whose RRSIGs it carries. */
  signed: { covered: string; ttl: number; signers: number[] }[];
  /** The DS records the API offers for the parent. */
  offered: DsLine[];
  /** The node's keys, from the store: role, tag, state. */
  keys: { role: KeyRole; tag: number; state: KeyState }[];
}

/** Keys of which at least one must be in every DNSKEY set served during [from, to], and why. */
interface Requirement {
  tags: number[];
  from: number;
  to: number;
  why: string;
}

class RolloverBench {
  readonly samples: Sample[] = [];
  readonly failures: string[] = [];
  /** Hours in the step labels count from here. */
  private rollStart: number;

  private constructor(
    private readonly node: VigilNode,
    private readonly clock: ManualClock,
    private readonly store: Store,
    private readonly dir: string,
  ) {
    this.rollStart = clock.now();
  }

  static async start(keyType: string): Promise<RolloverBench> {
    const dir = mkdtempSync(join(tmpdir(), "vigil-rollover-"));
    const clock = new ManualClock(Date.parse("2031-03-01T00:00:00Z"));
    const yaml = config(keyType, join(dir, "data"));
    const node = await VigilNode.start(() => parseConfig(yaml), { clock, logSink: { write: () => {} } });
    // A second handle on the node's database, as `vigil keys` has.
    return new RolloverBench(node, clock, openStore(join(dir, "data")), dir);
  }

  /** `vigil keys rollover --role ROLE`: the new key goes into the store; the node picks it up. */
  roll(role: KeyRole): { old: number; new: number } {
    const old = this.keys().find((k) => k.role === role && k.state === "active")!.tag;
    this.rollStart = this.clock.now();
    return { old, new: rollInStore(this.store.dnssecKeys, ZONE, role, this.clock.now()).tag };
  }

  /** Moves the clock on by `ms` and judges the zone there. */
  advance(ms: number, what: string): Promise<void> {
    return this.stepTo(this.clock.now() + ms, what);
  }

  /** Moves the clock to `at` and judges the zone there. */
  async stepTo(at: number, what: string): Promise<void> {
    this.clock.advance(at - this.clock.now());
    const hours = ((at - this.rollStart) / HOUR).toFixed(3);
    const sample = await this.observe(`${what} (roll start + ${hours} h)`);
    this.samples.push(sample);
    await this.validate(sample);
  }

  /** Steps through every pending key transition and signature renewal until none is left. */
  async walkTheRoll(): Promise<void> {
    for (let due = this.nextTransition(); due !== undefined; due = this.nextTransition()) {
      const now = this.clock.now();
      const renewal = signingWindow(now, this.window()).renewAt;
      const event = Math.min(due, renewal);
      const what = event === due ? "a key transition" : "signature renewal";
      if ((now + event) / 2 > now + SECOND) await this.stepTo(Math.floor((now + event) / 2), `halfway to ${what}`);
      if (event - SECOND > now) await this.stepTo(event - SECOND, `just before ${what}`);
      await this.stepTo(event, what);
    }
  }

  /** The states each key went through, as the steps saw them. */
  statesOf(tag: number): KeyState[] {
    const states = this.samples.flatMap((s) => s.keys.filter((k) => k.tag === tag).map((k) => k.state));
    return states.filter((state, i) => state !== states[i - 1]);
  }

  /** The caching rules broken anywhere in the steps seen (see the top of the file). */
  cachingViolations(): string[] {
    const dnskeyTtl = Math.max(...this.samples.map((s) => s.dnskeyTtl)) * SECOND;
    return this.samples.flatMap((sample) =>
      requirementsOf(sample, dnskeyTtl).flatMap((req) =>
        inEffect(this.samples, req.from, req.to)
          .filter((seen) => !req.tags.some((tag) => seen.published.has(tag)))
          .map((seen) => `${req.why}; but the DNSKEY set served at "${seen.label}" is ${[...seen.published].join(", ")} (keys: ${keysText(seen)})`),
      ),
    );
  }

  async stop(): Promise<void> {
    await this.node.stop();
    this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private keys(): Sample["keys"] {
    return readKeySet(this.store.dnssecKeys, ZONE)!.keys.map((k) => ({ role: k.role, tag: k.tag, state: k.state }));
  }

  private nextTransition(): number | undefined {
    const due = readKeySet(this.store.dnssecKeys, ZONE)!
      .keys.map((k) => k.nextTransitionAt)
      .filter((at): at is number => at !== undefined && at > this.clock.now());
    return due.length > 0 ? Math.min(...due) : undefined;
  }

  private window() {
    const dnssec = this.node.currentConfig.dns.dnssec;
    return { validityMs: dnssec.signature_validity, inceptionOffsetMs: dnssec.inception_offset };
  }

  private async observe(label: string): Promise<Sample> {
    const port = this.node.dnsAddresses()[0]!.udpPort;
    const replies = await Promise.all(JUDGED.map(([name, type]) => askWithDo(port, name, type)));
    const records = replies.flatMap((r) => [...(r.answers ?? []), ...(r.authorities ?? [])]);
    const dnskeys = records.filter((r) => r.type === "DNSKEY");
    const published = new Set(
      dnskeys.map((r) => {
        const { flags, algorithm, key } = r.data as { flags: number; algorithm: number; key: Buffer };
        return keyTag(dnskeyRdata(flags, algorithm as AlgorithmNumber, key));
      }),
    );
    const signed = new Map<string, Sample["signed"][number]>();
    for (const r of records.filter((r) => r.type === "RRSIG")) {
      const sig = r.data as { keyTag: number; typeCovered: string; originalTTL: number };
      const key = `${r.name} ${sig.typeCovered}`;
      const set = signed.get(key) ?? { covered: key, ttl: sig.originalTTL, signers: [] };
      if (!set.signers.includes(sig.keyTag)) set.signers.push(sig.keyTag);
      signed.set(key, set);
    }
    const offered = await fetchDs(`127.0.0.1:${this.node.apiPort()}`);
    return { label, at: this.clock.now(), published, dnskeyTtl: dnskeys[0]?.ttl ?? 0, signed: [...signed.values()], offered, keys: this.keys() };
  }

  /** unbound, as of the sample's time, for every DS set the parent could hold then: AD on every judged answer. */
  private async validate(sample: Sample): Promise<void> {
    const port = this.node.dnsAddresses()[0]!.udpPort;
    const dsSets = parentDsSets(this.samples, sample);
    if (dsSets.length === 0) this.failures.push(`${sample.label}: the DS API offers nothing, so no parent could validate`);
    for (const dsSet of dsSets) {
      const unbound = await Unbound.start(dsSet, port, { validateAt: sample.at });
      try {
        const results = await Promise.all(JUDGED.map(([name, type]) => unbound.query([name, type])));
        results.forEach((r, i) => {
          if (r.flags.includes("ad") && ["NOERROR", "NXDOMAIN"].includes(r.status)) return;
          const [name, type] = JUDGED[i]!;
          this.failures.push(
            `${sample.label} at ${new Date(sample.at).toISOString()}, keys ${keysText(sample)}, parent DS ${dsSet.map((d) => d.keyTag).join("+")}: ` +
              `${name} ${type} → ${r.status} flags ${r.flags.join(" ")}`,
          );
        });
      } finally {
        await unbound.stop();
      }
    }
  }
}

async function askWithDo(port: number, name: string, type: string): Promise<dnsPacket.Packet> {
  const query = dnsPacket.encode({
    type: "query",
    id: 1,
    flags: 0,
    questions: [{ name, type: type as dnsPacket.RecordType, class: "IN" }],
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: 4096, flags: dnsPacket.DNSSEC_OK } as never],
  });
  const reply = await exchangeUdp(port, new Uint8Array(query));
  if (!reply) throw new Error(`no reply to ${name} ${type}`);
  return dnsPacket.decode(Buffer.from(reply));
}

/**
 * The parent as a resolver may have it cached. A DS is there at the earliest once the API offers it
 * (the operator publishes it then, or up to 3 days later); a DS the API stopped offering may linger
 * until the parent has surely swapped it and the old DS set has left every cache: 3 days to register
 * the new DS, an hour for the parent's servers, a day of DS TTL, after the new DS was first offered.
 * Any mix of the DS records that may be there is a DS set some resolver holds.
 */
const PARENT_SWAP_MS = 3 * DAY + HOUR + DAY;

function parentDsSets(history: readonly Sample[], now: Sample): DsLine[][] {
  const firstOffered = new Map<number, { ds: DsLine; at: number }>();
  for (const s of history) for (const ds of s.offered) if (!firstOffered.has(ds.keyTag)) firstOffered.set(ds.keyTag, { ds, at: s.at });
  const offers = [...firstOffered.values()];
  const mayBeThere = offers
    .filter(({ ds, at }) => now.offered.some((d) => d.keyTag === ds.keyTag) || offers.some((next) => next.at > at && now.at < next.at + PARENT_SWAP_MS))
    .map(({ ds }) => ds);
  const subsets = mayBeThere.reduce<DsLine[][]>((acc, ds) => [...acc, ...acc.map((set) => [...set, ds])], [[]]);
  return subsets.filter((set) => set.length > 0);
}

function requirementsOf(sample: Sample, dnskeyTtl: number): Requirement[] {
  const at = `"${sample.label}"`;
  return [
    // A signed RRset meets DNSKEY sets cached up to a TTL ago: one of its signers must be in them.
    ...sample.signed.map((set) => ({
      tags: set.signers,
      from: sample.at - dnskeyTtl,
      to: sample.at,
      why: `at ${at} ${set.covered} is signed by ${set.signers.join("+")}, so one of them must have been in the DNSKEY set for the DNSKEY TTL before`,
    })),
    // It also sits in caches for its TTL while resolvers fetch the DNSKEY set again.
    ...sample.signed
      .filter((set) => !set.covered.endsWith(" DNSKEY"))
      .map((set) => ({
        tags: set.signers,
        from: sample.at,
        to: sample.at + set.ttl * SECOND,
        why: `at ${at} ${set.covered} (TTL ${set.ttl} s) is signed by ${set.signers.join("+")}, so one of them must stay in the DNSKEY set while it is cached`,
      })),
    // A DS at the parent meets DNSKEY sets cached up to a TTL ago.
    ...sample.offered.map((ds) => ({
      tags: [ds.keyTag],
      from: sample.at - dnskeyTtl,
      to: sample.at,
      why: `at ${at} the DS API offers ${ds.keyTag}, so that key must have been in the DNSKEY set for the DNSKEY TTL before`,
    })),
  ];
}

/** The samples whose DNSKEY set was served at some moment of [from, to]: the sets change only at sampled steps. */
function inEffect(samples: readonly Sample[], from: number, to: number): Sample[] {
  const before = samples.filter((s) => s.at <= from).at(-1);
  return [...(before ? [before] : []), ...samples.filter((s) => s.at > from && s.at <= to)];
}

function keysText(sample: Sample): string {
  return sample.keys.map((k) => `${k.role} ${k.tag} ${k.state}`).join(", ");
}

interface RollCase {
  title: string;
  keyType: "csk" | "ksk_zsk";
  role: KeyRole;
  /** The states the rolled-out key is seen in; the new key goes published → active. */
  oldKey: KeyState[];
}

const CASES: RollCase[] = [
  { title: "a ZSK rollover (pre-publication)", keyType: "ksk_zsk", role: "zsk", oldKey: ["active", "retired", "removed"] },
  { title: "a CSK rollover (the default key_type)", keyType: "csk", role: "csk", oldKey: ["active", "retired", "removed"] },
  { title: "a KSK rollover (double-KSK)", keyType: "ksk_zsk", role: "ksk", oldKey: ["active", "removed"] },
];

describe("a key rollover on an accelerated clock, judged by unbound at every step", () => {
  for (const c of CASES) {
    test(c.title, async () => {
      const bench = await RolloverBench.start(c.keyType);
      try {
        await bench.advance(0, "before the roll");
        const tags = bench.roll(c.role);
        await bench.advance(0, "rollover started in the store");
        await bench.advance(STORE_RECHECK_MS, "the node has picked it up");
        await bench.walkTheRoll();
        await bench.advance(DAY, "a day after the roll");

        expect(bench.failures).toEqual([]);
        expect(bench.cachingViolations()).toEqual([]);
        expect(bench.statesOf(tags.new)).toEqual(["published", "active"]);
        expect(bench.statesOf(tags.old)).toEqual(c.oldKey);
        // The parent model was exercised: a KSK/CSK roll offers both DS records for a while.
        const mostOffered = Math.max(...bench.samples.map((s) => s.offered.length));
        expect(mostOffered).toBe(c.role === "zsk" ? 1 : 2);
      } finally {
        await bench.stop();
      }
    }, 180_000);
  }
});
