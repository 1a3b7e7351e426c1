// Signed answers of the compiled binary, judged by real validators: unbound (the AD flag) and delv
// ("fully validated"), each trusting only the DS vigil publishes; a wrong DS must fail.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dig } from "../helpers/dig.ts";
import { VigilProcess } from "../helpers/vigil-process.ts";
import { delv, parseDs, Unbound, type DsLine } from "../helpers/validators.ts";

const config = (denial: "nsec" | "compact", algorithm = "ecdsap256sha256") => (dir: string) => `
dns:
  listen_address: "127.0.0.1:0"
  zones: [signed.test]
  nameservers: [{ name: ns1.signed.test, addresses: [127.0.0.1] }]
  records: |
    www     IN CNAME app
    alias   IN CNAME www
    txt     IN TXT   "signed text"
    @       IN MX    10 mail
    mail    IN A     192.0.2.25
    a.deep  IN A     192.0.2.26
    *.wild  IN A     192.0.2.27
    sub     IN NS    ns.sub
    ns.sub  IN A     192.0.2.53
  dnssec:
    algorithm: ${algorithm}
    denial: ${denial}
data_dir: ${dir}/data
api: { address: "127.0.0.1:0" }
metrics: { address: "127.0.0.1:0" }
logging: { format: json }
services:
  - name: app
    backends: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }, { address: "2001:db8::1" }]
  - name: closed
    when_all_down: fail_closed
    backends: [{ address: 192.0.2.9 }]
`;

async function dsOf(vigil: VigilProcess): Promise<DsLine> {
  const api = String((await vigil.waitForLog((l) => l.msg === "vigil started")).api);
  const body = (await (await fetch(`http://${api}/api/v1/dnssec/ds`)).json()) as { ds_records: { ds_record: string }[] };
  return parseDs(body.ds_records[0]!.ds_record);
}

for (const [denial, algorithm] of [["nsec", "ecdsap256sha256"], ["compact", "ecdsap256sha256"], ["nsec", "ed25519"]] as const) {
  describe(`validated by unbound and delv (${denial} denial, ${algorithm})`, () => {
    let vigil: VigilProcess;
    let port: number;
    let unbound: Unbound;
    let ds: DsLine;

    beforeAll(async () => {
      vigil = await VigilProcess.start(config(denial, algorithm));
      port = await vigil.dnsPort();
      ds = await dsOf(vigil);
      unbound = await Unbound.start(ds, port);
    }, 20_000);

    afterAll(async () => {
      await unbound.stop();
      await vigil.stop();
    });

    const cases: [string, string, string, (answer: string[]) => void][] = [
      ["a positive service answer", "app.signed.test", "A", (a) => expect(a.filter((l) => / A /.test(l)).length).toBe(2)],
      ["AAAA", "app.signed.test", "AAAA", (a) => expect(a.some((l) => l.includes("2001:db8::1"))).toBe(true)],
      ["a CNAME chain", "alias.signed.test", "A", (a) => expect(a.some((l) => l.includes("CNAME"))).toBe(true)],
      ["TXT", "txt.signed.test", "TXT", (a) => expect(a.some((l) => l.includes("signed text"))).toBe(true)],
      ["MX", "signed.test", "MX", (a) => expect(a.some((l) => l.includes("MX"))).toBe(true)],
      ["NODATA", "txt.signed.test", "AAAA", (a) => expect(a).toEqual([])],
      ["NODATA at an empty non-terminal", "deep.signed.test", "A", (a) => expect(a).toEqual([])],
      ["NXDOMAIN", "nope.signed.test", "A", (a) => expect(a).toEqual([])],
      ["NXDOMAIN under a CNAME-free branch", "x.y.z.signed.test", "A", (a) => expect(a).toEqual([])],
      ["a wildcard answer", "anything.wild.signed.test", "A", (a) => expect(a.some((l) => l.includes("192.0.2.27"))).toBe(true)],
      ["a service with no backend of the family", "closed.signed.test", "AAAA", (a) => expect(a).toEqual([])],
      ["DNSKEY", "signed.test", "DNSKEY", (a) => expect(a.some((l) => l.includes("DNSKEY"))).toBe(true)],
      ["CDS", "signed.test", "CDS", (a) => expect(a.some((l) => l.includes("CDS"))).toBe(true)],
    ];

    for (const [what, name, type, check] of cases) {
      test(`unbound sets AD: ${what}`, async () => {
        const r = await unbound.query([name, type]);
        expect(r.status).toMatch(/^(NOERROR|NXDOMAIN)$/);
        expect(r.flags).toContain("ad");
        check(r.answer.filter((l) => !l.includes("RRSIG")));
      });
    }

    test("NXDOMAIN keeps its rcode through the validator (or NOERROR under compact denial)", async () => {
      const r = await unbound.query(["nope.signed.test", "A"]);
      expect(r.status).toBe(denial === "nsec" ? "NXDOMAIN" : "NOERROR");
    });

    test("the referral to an unsigned child validates as insecure (no AD, no SERVFAIL)", async () => {
      const r = await unbound.query(["host.sub.signed.test", "A"]);
      expect(r.status).not.toBe("SERVFAIL");
    });

    for (const [name, type] of [["app.signed.test", "A"], ["alias.signed.test", "A"], ["txt.signed.test", "AAAA"], ["nope.signed.test", "A"]] as const) {
      test(`delv: ${name} ${type} is fully validated`, async () => {
        const out = await delv(ds, port, name, type);
        expect(out).toMatch(/fully validated/);
      });
    }
  });
}

describe("a validator that trusts the wrong DS", () => {
  test("gets SERVFAIL, proving the checks above can fail", async () => {
    const vigil = await VigilProcess.start(config("nsec"));
    const port = await vigil.dnsPort();
    const ds = await dsOf(vigil);
    const wrong: DsLine = { ...ds, digest: ds.digest.replace(/^./, (c) => (c === "0" ? "1" : "0")) };
    const unbound = await Unbound.start(wrong, port);
    try {
      expect((await unbound.query(["app.signed.test", "A"])).status).toBe("SERVFAIL");
      expect(await delv(wrong, port, "app.signed.test", "A")).not.toMatch(/fully validated/);
    } finally {
      await unbound.stop();
      await vigil.stop();
    }
  }, 20_000);
});

describe("without DO", () => {
  test("no DNSSEC records are sent", async () => {
    const vigil = await VigilProcess.start(config("nsec"));
    const port = await vigil.dnsPort();
    try {
      const r = await dig("127.0.0.1", port, ["app.signed.test", "A"]);
      expect(r.answer.some((l) => l.includes("RRSIG"))).toBe(false);
      const nx = await dig("127.0.0.1", port, ["nope.signed.test", "A"]);
      expect(nx.authority.some((l) => /NSEC|RRSIG/.test(l))).toBe(false);
    } finally {
      await vigil.stop();
    }
  });
});
