import { expect, test } from "bun:test";
import { decodeVerdicts, encodeVerdicts, VerdictAssembler } from "../../src/cluster/verdict-messages.ts";

const keys = (n: number) => Array.from({ length: n }, (_, i) => `svc${i % 7}.gslb.example.com|10.0.${i >> 8}.${i & 255}|8080`);

test("a small set is one payload; a large one splits into parts that each fit and reassemble whole", () => {
  expect(encodeVerdicts(5, keys(3), 1350)).toHaveLength(1);
  const parts = encodeVerdicts(6, keys(500), 1350);
  expect(parts.length).toBeGreaterThan(10);
  for (const p of parts) expect(p.length).toBeLessThanOrEqual(1350);
  const assembler = new VerdictAssembler();
  let whole: string[] | undefined;
  for (const p of [...parts].reverse()) {
    const d = decodeVerdicts(p);
    if (!d.ok) throw new Error(d.reason);
    whole = assembler.add("ow-2", d.report);
  }
  expect(whole!.sort()).toEqual(keys(500).sort());
});

test("an empty set still reports (everything up), and an older round never overwrites a newer one", () => {
  const assembler = new VerdictAssembler();
  const decode = (p: Uint8Array) => {
    const d = decodeVerdicts(p);
    if (!d.ok) throw new Error(d.reason);
    return d.report;
  };
  expect(assembler.add("ow-2", decode(encodeVerdicts(10, ["a|1.2.3.4|80"], 1350)[0]!))).toEqual(["a|1.2.3.4|80"]);
  expect(assembler.add("ow-2", decode(encodeVerdicts(9, [], 1350)[0]!))).toBeUndefined();
  expect(assembler.add("ow-2", decode(encodeVerdicts(11, [], 1350)[0]!))).toEqual([]);
});

test("anything malformed is refused with a reason, never thrown", () => {
  const bad = ["", "{", "[]", '{"k":"verdicts","v":2}', '{"k":"verdicts","v":1,"round":1,"part":1,"parts":1,"down":[]}', '{"k":"verdicts","v":1,"round":-1,"part":0,"parts":1,"down":[]}', '{"k":"verdicts","v":1,"round":1,"part":0,"parts":1,"down":[1]}', '{"k":"claim"}'];
  for (const text of bad) expect(decodeVerdicts(new TextEncoder().encode(text)).ok).toBe(false);
  expect(decodeVerdicts(new Uint8Array([0xff, 0xfe])).ok).toBe(false);
});
