// Cost of one RRSIG (canonical form + signature) per algorithm, as the online signer pays it on a
// signature-cache miss. Run: bun scripts/bench-sign.ts   (not a test; numbers depend on the machine)

import { algorithmFor } from "../src/dns/dnssec/algorithms.ts";
import { dnskeyRdata, keyTag } from "../src/dns/dnssec/dnskey.ts";
import { signRRset, verifyRRsig } from "../src/dns/dnssec/rrsig.ts";
import { Algorithm, DnskeyFlags, type AlgorithmNumber } from "../src/dns/dnssec/types.ts";
import { RRType, type RRset } from "../src/dns/types.ts";

const ITERATIONS = 2_000;
const times = { inception: 1_700_000_000, expiration: 1_701_209_600 };
const set: RRset = {
  name: "app.gslb.example.com",
  type: RRType.A,
  ttl: 30,
  rdata: [Uint8Array.of(192, 0, 2, 10), Uint8Array.of(192, 0, 2, 11)].map((bytes) => ({ kind: "bytes", bytes })),
};

function microsPerOp(op: () => unknown): number {
  for (let i = 0; i < ITERATIONS / 10; i++) op();
  const start = Bun.nanoseconds();
  for (let i = 0; i < ITERATIONS; i++) op();
  return (Bun.nanoseconds() - start) / ITERATIONS / 1000;
}

for (const number of [Algorithm.ECDSAP256SHA256, Algorithm.ED25519] as AlgorithmNumber[]) {
  const algorithm = algorithmFor(number);
  const { privateKey, publicKey } = algorithm.generate();
  const key = { algorithm: number, privateKey, tag: keyTag(dnskeyRdata(DnskeyFlags.KSK, number, publicKey)) };
  const rrsig = signRRset(set, key, "gslb.example.com", times);
  const sign = microsPerOp(() => signRRset(set, key, "gslb.example.com", times));
  const verify = microsPerOp(() => verifyRRsig(set, rrsig, publicKey));
  console.log(`${algorithm.mnemonic.padEnd(16)} sign ${sign.toFixed(1).padStart(7)} µs/RRSIG   verify ${verify.toFixed(1).padStart(7)} µs/RRSIG`);
}
