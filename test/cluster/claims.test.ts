import { describe, expect, test } from "bun:test";
import { generateKeyPairSync, sign } from "node:crypto";
import {
  CLAIM_MAGIC, CLAIM_VERSION, DEFAULT_CLAIM_BYTES, DETAIL_MAX_BYTES, decodeClaim, encodeClaim, isClaimPayload, nextClaimSeq,
  type ClaimBackend, type ClaimContent, type ClaimSigner,
} from "../../src/cluster/claims.ts";
import { encodeVerdicts } from "../../src/cluster/verdict-messages.ts";
import { seededRandom } from "../../src/cluster/random.ts";

function signer(): ClaimSigner {
  const { privateKey } = generateKeyPairSync("ed25519");
  const publicKey = new Uint8Array(Buffer.from(privateKey.export({ format: "jwk" }).x!, "base64url"));
  return { publicKey, sign: (data) => new Uint8Array(sign(null, data, privateKey)) };
}

const key = signer();
const AGENT = "3f2b8c1e-9a4d-4e6f-8b7a-0c1d2e3f4a5b";

function content(backends: ClaimBackend[], extra: Partial<ClaimContent> = {}): ClaimContent {
  return { agentId: AGENT, service: "myapp", token: "s3cret-token", region: "us-east", seq: 1_700_000_000_123, time: 1_700_000_000_456, backends, ...extra };
}

const three: ClaimBackend[] = [
  { address: "10.0.1.10", port: 8080, weight: 100, status: "healthy", detail: "HTTP 200 in 3 ms" },
  { address: "2001:DB8:0:0:0:0:0:1", port: 443, weight: 0, status: "draining", detail: "", bleeding: true, region: "us-west" },
  { address: "10.0.1.11", port: 65535, weight: 1_000_000, status: "unhealthy", detail: "connection refused", bleeding: false },
];

function only(payloads: Uint8Array[]): Uint8Array {
  expect(payloads.length).toBe(1);
  return payloads[0]!;
}

describe("claims", () => {
  test("round-trip: every field, addresses in canonical form, bleeding always a boolean", () => {
    const payload = only(encodeClaim(content(three), key));
    expect(isClaimPayload(payload)).toBe(true);
    const decoded = decodeClaim(payload);
    expect(decoded).toEqual({
      ok: true,
      claim: {
        version: CLAIM_VERSION,
        agentId: AGENT,
        service: "myapp",
        token: "s3cret-token",
        region: "us-east",
        publicKey: key.publicKey,
        seq: 1_700_000_000_123,
        time: 1_700_000_000_456,
        part: 0,
        parts: 1,
        backends: [
          { address: "10.0.1.10", port: 8080, weight: 100, status: "healthy", detail: "HTTP 200 in 3 ms", bleeding: false },
          { address: "2001:db8::1", port: 443, weight: 0, status: "draining", detail: "", bleeding: true, region: "us-west" },
          { address: "10.0.1.11", port: 65535, weight: 1_000_000, status: "unhealthy", detail: "connection refused", bleeding: false },
        ],
      },
    });
  });

  test("round-trip: no backends, no region, the largest seq and time", () => {
    const max = Number.MAX_SAFE_INTEGER;
    const decoded = decodeClaim(only(encodeClaim(content([], { region: "", seq: max, time: 0 }), key)));
    expect(decoded.ok && decoded.claim).toMatchObject({ region: "", seq: max, time: 0, part: 0, parts: 1, backends: [] });
  });

  test("a claim has a header of 98 bytes plus its fields, and 14 bytes per IPv4 backend without detail", () => {
    const empty = only(encodeClaim(content([]), key)).length;
    const one = only(encodeClaim(content([{ address: "10.0.0.1", port: 80, weight: 1, status: "healthy", detail: "" }]), key)).length;
    expect(empty).toBe(2 + 32 + 64 + 16 + (1 + 5) + (1 + 12) + (1 + 7) + 8 + 8 + 1 + 1 + 2);
    expect(one - empty).toBe(14);
  });

  test("altering any byte after the version makes it a bad signature", () => {
    const payload = only(encodeClaim(content(three), key));
    for (let i = 2; i < payload.length; i++) {
      for (const flip of [0x01, 0x80]) {
        const tampered = payload.slice();
        tampered[i]! ^= flip;
        const decoded = decodeClaim(tampered);
        expect(decoded.ok ? `byte ${i} accepted` : `${decoded.reason}`).toBe("bad-signature");
      }
    }
  });

  test("altering the first byte makes it not a claim, the second an unknown version", () => {
    const payload = only(encodeClaim(content(three), key));
    const other = payload.slice();
    other[0] = 0x7b; // "{": the JSON of another gossip message
    expect(decodeClaim(other)).toMatchObject({ ok: false, reason: "not-a-claim" });
    expect(isClaimPayload(other)).toBe(false);
    const newer = payload.slice();
    newer[1] = 2;
    expect(decodeClaim(newer)).toEqual({ ok: false, reason: "unknown-version", detail: "version 2, this node reads 1" });
  });

  test("a claim signed by another key than the one it carries is a bad signature", () => {
    const other = signer();
    const forged = only(encodeClaim(content(three), { publicKey: key.publicKey, sign: other.sign }));
    expect(decodeClaim(forged)).toMatchObject({ ok: false, reason: "bad-signature" });
  });

  test("a public key that is no curve point is a bad signature, not an exception", () => {
    const payload = only(encodeClaim(content(three), key));
    payload.fill(0xff, 2, 34);
    expect(decodeClaim(payload)).toMatchObject({ ok: false, reason: "bad-signature" });
  });

  test("other gossip payloads are not claims", () => {
    for (const payload of encodeVerdicts(1, ["myapp|10.0.0.1|80"], 1300)) {
      expect(isClaimPayload(payload)).toBe(false);
      expect(decodeClaim(payload)).toMatchObject({ ok: false, reason: "not-a-claim" });
    }
    expect(decodeClaim(new Uint8Array())).toMatchObject({ ok: false, reason: "not-a-claim" });
  });

  test("truncated input is malformed or, cut inside the signed part, a bad signature; never an exception", () => {
    const payload = only(encodeClaim(content(three), key));
    for (let length = 1; length < payload.length; length++) {
      const decoded = decodeClaim(payload.subarray(0, length));
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) expect(["malformed", "bad-signature"]).toContain(decoded.reason);
      if (length < 98 && length > 1 && !decoded.ok) expect(decoded).toEqual({ ok: false, reason: "malformed", detail: "truncated" });
    }
  });

  test("validly signed but malformed bodies are refused with what is wrong", () => {
    // Sign arbitrary bodies with the agent's key, as a buggy or hostile agent could.
    const seal = (body: number[]) => {
      const head = Uint8Array.of(CLAIM_MAGIC, CLAIM_VERSION);
      const bytes = Uint8Array.from(body);
      const input = Buffer.concat([Buffer.from("vigil/agent-claim"), head, key.publicKey, bytes]);
      return Uint8Array.from([...head, ...key.publicKey, ...key.sign(input), ...bytes]);
    };
    const good = only(encodeClaim(content([three[0]!]), key));
    const body = [...good.subarray(98)];
    expect(decodeClaim(seal(body))).toMatchObject({ ok: true });
    const backendAt = body.length - (1 + 4 + 2 + 4 + 1 + 1 + 1 + three[0]!.detail.length);
    const cases: [string, number[], string][] = [
      ["trailing bytes", [...body, 0], "1 trailing bytes"],
      ["a short body", body.slice(0, 20), "truncated"],
      ["part beyond parts", patch(body, backendAt - 4, [1, 1]), "part 1 of 1"],
      ["zero parts", patch(body, backendAt - 4, [0, 0]), "part 0 of 0"],
      ["address family 5", patch(body, backendAt, [5]), "backend 0: address family 5"],
      ["port 0", patch(body, backendAt + 5, [0, 0]), "backend 10.0.1.10: port 0"],
      ["weight over a million", patch(body, backendAt + 7, [0xff, 0xff, 0xff, 0xff]), "backend 10.0.1.10|8080: weight 4294967295"],
      ["status 3", patch(body, backendAt + 11, [3]), "backend 10.0.1.10|8080: state 3"],
      ["unknown state bits", patch(body, backendAt + 11, [0x08]), "backend 10.0.1.10|8080: state 8"],
      ["an empty service", patch(body, 16, [0]).slice(0, 17).concat(body.slice(17 + 5)), "bad-field"],
      ["seq beyond 2^53", patch(body, 16 + 6 + 13 + 8, [0, 0x20, 0, 0]), "seq beyond 2^53"],
      ["invalid UTF-8 in the region", patch(body, 16 + 6 + 13 + 1, [0xff]), "bad-field"],
    ];
    for (const [name, bad, detail] of cases) {
      expect({ name, decoded: decodeClaim(seal(bad)) }).toEqual({ name, decoded: { ok: false, reason: "malformed", detail } });
    }
    // One backend twice.
    const twice = only(encodeClaim(content([three[0]!, { ...three[0]!, port: 8081 }]), key)).subarray(98);
    const second = body.length; // the second backend starts where the one-backend body ends
    const dup = patch([...twice], second + 5, [8080 >> 8, 8080 & 0xff]); // its port 8081 → 8080
    expect(decodeClaim(seal(dup))).toEqual({ ok: false, reason: "malformed", detail: "backend 10.0.1.10|8080 listed twice" });
  });

  test("a payload over the limit is refused as oversized before its signature is checked", () => {
    const payload = only(encodeClaim(content(three), key));
    expect(decodeClaim(payload, { maxBytes: payload.length })).toMatchObject({ ok: true });
    expect(decodeClaim(payload, { maxBytes: payload.length - 1 })).toEqual({
      ok: false,
      reason: "oversized",
      detail: `${payload.length} bytes, at most ${payload.length - 1}`,
    });
  });

  test("random bytes behind the claim marker never throw", () => {
    const random = seededRandom(7);
    for (let i = 0; i < 2000; i++) {
      const bytes = new Uint8Array(Math.floor(random() * 300));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      if (bytes.length > 0) bytes[0] = CLAIM_MAGIC;
      if (bytes.length > 1 && random() < 0.9) bytes[1] = CLAIM_VERSION;
      expect(decodeClaim(bytes).ok).toBe(false);
    }
  });

  test("a long detail is cut to 64 bytes at a character boundary, with an ellipsis", () => {
    const detail = `${"é".repeat(40)} timed out`;
    const decoded = decodeClaim(only(encodeClaim(content([{ ...three[0]!, detail }]), key)));
    const cut = decoded.ok ? decoded.claim.backends[0]!.detail : "";
    expect(new TextEncoder().encode(cut).length).toBeLessThanOrEqual(DETAIL_MAX_BYTES);
    expect(cut).toBe(`${"é".repeat(30)}…`);
    const exact = "x".repeat(DETAIL_MAX_BYTES);
    const kept = decodeClaim(only(encodeClaim(content([{ ...three[0]!, detail: exact }]), key)));
    expect(kept.ok && kept.claim.backends[0]!.detail).toBe(exact);
  });

  test("content that cannot be a claim is refused when encoding, saying what is wrong", () => {
    const b = three[0]!;
    const cases: [Partial<ClaimContent>, string][] = [
      [{ agentId: "agent-1" }, 'claim agent id: expected a lower-case UUID, got "agent-1"'],
      [{ service: "" }, "claim service: must not be empty"],
      [{ token: "" }, "claim token: must not be empty"],
      [{ token: "t".repeat(256) }, "gossip claim token: at most 255 bytes, got 256"],
      [{ seq: -1 }, "claim seq: expected a whole number from 0 to 2^53, got -1"],
      [{ time: 1.5 }, "claim time: expected a whole number from 0 to 2^53, got 1.5"],
      [{ backends: [{ ...b, address: "app.internal" }] }, 'claim backend address: expected an IPv4 or IPv6 address, got "app.internal"'],
      [{ backends: [{ ...b, port: 0 }] }, "claim backend 10.0.1.10 port: expected 1 to 65535, got 0"],
      [{ backends: [{ ...b, weight: 1_000_001 }] }, "claim backend 10.0.1.10|8080 weight: expected 0 to 1000000, got 1000001"],
      [{ backends: [{ ...b, status: "up" as never }] }, 'claim backend 10.0.1.10|8080 status: expected healthy, unhealthy or draining, got "up"'],
      [{ backends: [b, { ...b, address: "10.0.1.10", detail: "again" }] }, "claim backend 10.0.1.10|8080: listed twice"],
      [{ backends: [{ ...b, address: "2001:db8::1" }, { ...b, address: "2001:DB8:0::1" }] }, "claim backend 2001:db8::1|8080: listed twice"],
    ];
    for (const [change, message] of cases) expect(() => encodeClaim(content([b], change), key)).toThrow(message);
    expect(() => encodeClaim(content([b]), key, { maxBytes: 180 })).toThrow("claim backend 10.0.1.10|8080: 30 bytes do not fit in 180 beside the claim's 161-byte header");
  });

  test("200 backends split into parts under the limit, each complete, signed and decodable alone", () => {
    const backends: ClaimBackend[] = Array.from({ length: 200 }, (_, i) => ({
      address: i % 2 === 0 ? `10.1.${i >> 8}.${i & 0xff}` : `2001:db8::${i.toString(16)}`,
      port: 8000 + i,
      weight: i,
      status: (["healthy", "unhealthy", "draining"] as const)[i % 3]!,
      detail: `check ${i} ok`,
      bleeding: i % 7 === 0,
    }));
    const payloads = encodeClaim(content(backends), key);
    expect(payloads.length).toBeGreaterThan(3);
    const decoded = payloads.map((p) => {
      expect(p.length).toBeLessThanOrEqual(DEFAULT_CLAIM_BYTES);
      const d = decodeClaim(p, { maxBytes: DEFAULT_CLAIM_BYTES });
      if (!d.ok) throw new Error(d.reason);
      return d.claim;
    });
    decoded.forEach((claim, i) => {
      expect(claim).toMatchObject({ agentId: AGENT, service: "myapp", token: "s3cret-token", seq: 1_700_000_000_123, part: i, parts: payloads.length });
      expect(claim.backends.length).toBeGreaterThan(0);
    });
    const all = decoded.flatMap((c) => c.backends);
    expect(all.map((b) => `${b.port}`)).toEqual(backends.map((b) => `${b.port}`));
    expect(all.map((b) => b.bleeding)).toEqual(backends.map((b) => b.bleeding === true));
    // Independently signed: tampering with one part leaves the others valid.
    const tampered = payloads[1]!.slice();
    tampered[tampered.length - 1]! ^= 1;
    expect(decodeClaim(tampered)).toMatchObject({ ok: false, reason: "bad-signature" });
    expect(decodeClaim(payloads[2]!)).toMatchObject({ ok: true });
    // A tighter limit gives more, smaller parts.
    const small = encodeClaim(content(backends), key, { maxBytes: 400 });
    expect(small.length).toBeGreaterThan(payloads.length);
    for (const p of small) expect(p.length).toBeLessThanOrEqual(400);
  });

  test("more than 255 parts is refused", () => {
    const backends: ClaimBackend[] = Array.from({ length: 600 }, (_, i) => ({ address: `10.2.${i >> 8}.${i & 0xff}`, port: 80, weight: 1, status: "healthy", detail: "x".repeat(20) }));
    expect(() => encodeClaim(content(backends), key, { maxBytes: 200 })).toThrow("claim for service myapp: 600 parts, at most 255");
  });

  test("nextClaimSeq rises with every heartbeat and never falls below the clock", () => {
    expect(nextClaimSeq(0, 1_700_000_000_000.7)).toBe(1_700_000_000_000);
    expect(nextClaimSeq(1_700_000_000_000, 1_700_000_000_000)).toBe(1_700_000_000_001);
    expect(nextClaimSeq(1_700_000_000_005, 1_699_999_000_000)).toBe(1_700_000_000_006); // the clock went back
  });
});

function patch(body: number[], at: number, bytes: number[]): number[] {
  const out = body.slice();
  out.splice(at, bytes.length, ...bytes);
  return out;
}
