// dnsviz's assessment of a signed zone served by the compiled binary: `dnsviz probe` then `dnsviz
// grok`, trusting the key vigil's DS points at, must find no error and no warning anywhere, and every
// RRset, signature and proof it judges must be secure and valid. A wrong trust anchor must not pass.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { VigilProcess } from "../helpers/vigil-process.ts";
import { fetchDs } from "../helpers/validators.ts";
import { dnsvizReport, type DnsvizReport, type DnsvizTarget } from "../helpers/dnsviz.ts";

const ZONE = "signed.test";
const NAMESERVER = `ns1.${ZONE}`;

interface Variant {
  denial: "nsec" | "compact";
  algorithm: "ecdsap256sha256" | "ed25519";
  keyType: "csk" | "ksk_zsk";
}

const config = (v: Variant) => (dir: string) => `
dns:
  listen_address: "127.0.0.1:0"
  zones: [${ZONE}]
  nameservers: [{ name: ${NAMESERVER}, addresses: [127.0.0.1] }]
  records: |
    www     IN CNAME app
    txt     IN TXT   "signed text"
    @       IN MX    10 mail
    mail    IN A     192.0.2.25
    a.deep  IN A     192.0.2.26
    *.wild  IN A     192.0.2.27
  dnssec: { denial: ${v.denial}, algorithm: ${v.algorithm}, key_type: ${v.keyType} }
data_dir: ${dir}/data
api: { address: "127.0.0.1:0" }
metrics: { address: "127.0.0.1:0" }
logging: { format: json }
services:
  - name: app
    backends: [{ address: 192.0.2.1 }, { address: "2001:db8::1" }]
  - name: closed
    when_all_down: fail_closed
    backends: [{ address: 192.0.2.9 }]
`;

/** A CNAME to a service, static data, MX target, an empty non-terminal, a wildcard, a v4-only service, a name that does not exist. */
const NAMES = ["www", "app", "txt", "mail", "deep", "a.deep", "any.wild", "closed", "nope"].map((n) => `${n}.${ZONE}`);

/** What grok may say of something it judged: all is secure, signatures valid, answers as expected. */
const GOOD_STATUSES = new Set(["SECURE", "VALID", "NOERROR", "NXDOMAIN"]);

const VARIANTS: Variant[] = [
  { denial: "nsec", algorithm: "ecdsap256sha256", keyType: "csk" },
  { denial: "compact", algorithm: "ecdsap256sha256", keyType: "csk" },
  { denial: "nsec", algorithm: "ed25519", keyType: "csk" },
  { denial: "nsec", algorithm: "ecdsap256sha256", keyType: "ksk_zsk" },
];

for (const variant of VARIANTS) {
  describe(`dnsviz on a zone with ${variant.denial} denial, ${variant.algorithm}, ${variant.keyType}`, () => {
    let vigil: VigilProcess;
    let target: DnsvizTarget;
    let report: DnsvizReport;

    beforeAll(async () => {
      vigil = await VigilProcess.start(config(variant));
      const started = await vigil.waitForLog((l) => l.msg === "vigil started");
      const ds = await fetchDs(String(started.api));
      target = { zone: ZONE, nameserver: NAMESERVER, port: await vigil.dnsPort(), ds, names: NAMES };
      report = await dnsvizReport(target);
    }, 60_000);

    afterAll(async () => {
      await vigil.stop();
    });

    test("grok reports no errors and no warnings", () => {
      expect(report.findings).toEqual([]);
    });

    test("everything grok judged is secure and valid", () => {
      expect(report.statuses.length).toBeGreaterThan(20);
      expect(report.statuses.filter((s) => !GOOD_STATUSES.has(s.status))).toEqual([]);
      expect(report.statuses.some((s) => s.path.includes("DNSKEY") && s.status === "SECURE")).toBe(true);
    });

    test("with a trust anchor that is not the zone's key, grok finds the zone bogus", async () => {
      const stranger = `${ZONE}. 3600 IN DNSKEY 257 3 13 ${Buffer.alloc(64, 7).toString("base64")}\n`;
      const wrong = await dnsvizReport(target, stranger);
      expect(wrong.statuses.some((s) => s.status === "BOGUS")).toBe(true);
    }, 60_000);
  });
}
