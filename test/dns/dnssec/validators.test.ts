// Our signatures and DS records judged by validators we did not write: BIND's dnssec-verify and
// dnssec-dsfromkey (Debian bind9-utils) and ldns-verify-zone (ldnsutils). Each suite is skipped, saying
// so, when its tool is not installed.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DigestType, dsRdata, formatDs, type DigestTypeNumber } from "../../../src/dns/dnssec/dnskey.ts";
import { Algorithm } from "../../../src/dns/dnssec/types.ts";
import { currentTimes, newZoneKey, signedZoneFile, ZONE, type ZoneKey } from "./signed-zone.ts";

const hasBind = Bun.which("dnssec-verify") !== null && Bun.which("dnssec-dsfromkey") !== null;
const hasLdns = Bun.which("ldns-verify-zone") !== null;
if (!hasBind) console.warn("SKIPPED: BIND checks need dnssec-verify and dnssec-dsfromkey (apt-get install bind9-utils)");
if (!hasLdns) console.warn("SKIPPED: ldns checks need ldns-verify-zone (apt-get install ldnsutils)");

const dir = mkdtempSync(join(tmpdir(), "vigil-dnssec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function writeZone(text: string): string {
  const path = join(dir, `zone-${++files}.db`);
  writeFileSync(path, text);
  return path;
}

function run(argv: string[]): { code: number; output: string } {
  const result = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  return { code: result.exitCode, output: result.stdout.toString() + result.stderr.toString() };
}

/** Key sets vigil can sign with: a CSK alone, or a KSK for the DNSKEY set and a ZSK for the rest. */
const keySets: [string, ZoneKey[]][] = [
  ["ECDSA P-256 CSK", [newZoneKey("csk", Algorithm.ECDSAP256SHA256)]],
  ["Ed25519 CSK", [newZoneKey("csk", Algorithm.ED25519)]],
  ["ECDSA P-256 KSK + ZSK", [newZoneKey("ksk", Algorithm.ECDSAP256SHA256), newZoneKey("zsk", Algorithm.ECDSAP256SHA256)]],
  ["Ed25519 KSK + ZSK", [newZoneKey("ksk", Algorithm.ED25519), newZoneKey("zsk", Algorithm.ED25519)]],
];

/** The zone file with one A record's address changed after signing. */
function tampered(keys: ZoneKey[]): string {
  const text = signedZoneFile(keys, currentTimes());
  const changed = text.replace(/^(www\.example\.com\. \d+ IN A) 192\.0\.2\.1$/m, "$1 192.0.2.7");
  expect(changed).not.toBe(text);
  return changed;
}

function dnssecVerify(keys: ZoneKey[], file: string) {
  // Without a ZSK, BIND must be told that KSKs sign everything (-z), as with a CSK.
  const cskOnly = keys.every((key) => key.role !== "zsk");
  return run(["dnssec-verify", ...(cskOnly ? ["-z"] : []), "-o", ZONE, file]);
}

describe.skipIf(!hasBind)("BIND dnssec-verify", () => {
  test.each(keySets)("%s: the zone is fully signed and every signature valid", (_name, keys) => {
    const { code, output } = dnssecVerify(keys, writeZone(signedZoneFile(keys, currentTimes())));
    expect(output).toContain("Zone fully signed");
    expect(code).toBe(0);
  });

  test("catches a record changed after signing (the check has teeth)", () => {
    const keys = keySets[0]![1];
    const { code, output } = dnssecVerify(keys, writeZone(tampered(keys)));
    expect(output).toContain("not fully signed");
    expect(code).not.toBe(0);
  });
});

describe.skipIf(!hasBind)("BIND dnssec-dsfromkey", () => {
  const digests: [string, DigestTypeNumber][] = [
    ["SHA-256", DigestType.SHA256],
    ["SHA-384", DigestType.SHA384],
  ];

  test.each(keySets.flatMap(([name, keys]) => digests.map(([digest, type]) => [name, digest, type, keys] as const)))(
    "%s, %s: prints the DS we compute for each KSK",
    (_name, digest, digestType, keys) => {
      const { code, output } = run(["dnssec-dsfromkey", "-a", digest, "-f", writeZone(signedZoneFile(keys, currentTimes())), ZONE]);
      expect(code).toBe(0);
      const ours = keys.filter((key) => key.role !== "zsk").map((key) => formatDs(ZONE, dsRdata(ZONE, key.dnskey, digestType)));
      expect(output.trim().split("\n")).toEqual(ours);
    },
  );
});

describe.skipIf(!hasLdns)("ldns-verify-zone", () => {
  test.each(keySets)("%s: verified and complete", (_name, keys) => {
    const { code, output } = run(["ldns-verify-zone", writeZone(signedZoneFile(keys, currentTimes()))]);
    expect(output).toContain("Zone is verified and complete");
    expect(code).toBe(0);
  });

  test("catches a record changed after signing", () => {
    const { code, output } = run(["ldns-verify-zone", writeZone(tampered(keySets[1]![1]))]);
    expect(output).toContain("Bogus DNSSEC signature for www.example.com.");
    expect(code).not.toBe(0);
  });
});
