import { describe, expect, test } from "bun:test";
import { compareCanonical } from "../../../../src/dns/dnssec/name-order.ts";

// RFC 4034 §6.1's example, in its order and with its mixed case.
const RFC_ORDER = [
  "example",
  "a.example",
  "yljkjljk.a.example",
  "Z.a.example",
  "zABC.a.EXAMPLE",
  "z.example",
  "\\001.z.example",
  "*.z.example",
  "\\200.z.example",
];

describe("compareCanonical", () => {
  test("sorts RFC 4034 §6.1's example into its order", () => {
    const shuffled = [...RFC_ORDER].reverse();
    shuffled.push(shuffled.shift()!);
    expect(shuffled.sort(compareCanonical)).toEqual(RFC_ORDER);
  });

  test("each name of the example sorts before every later one", () => {
    for (let i = 0; i < RFC_ORDER.length; i++) {
      for (let j = i + 1; j < RFC_ORDER.length; j++) {
        expect(compareCanonical(RFC_ORDER[i]!, RFC_ORDER[j]!)).toBeLessThan(0);
        expect(compareCanonical(RFC_ORDER[j]!, RFC_ORDER[i]!)).toBeGreaterThan(0);
      }
    }
  });

  test("ignores ASCII case, also inside escapes", () => {
    expect(compareCanonical("Z.a.example", "z.A.example")).toBe(0);
    expect(compareCanonical("\\065.example", "a.example")).toBe(0);
  });

  test("an escaped dot stays inside its label", () => {
    // "a\.b" is one label that starts with "a", so it sorts after "a" and everything below it.
    expect(compareCanonical("b.a.example", "a\\.b.example")).toBeLessThan(0);
    expect(compareCanonical("a.example", "a\\.b.example")).toBeLessThan(0);
  });

  test("the root sorts first; a parent before its children", () => {
    expect(compareCanonical("", "example")).toBeLessThan(0);
    expect(compareCanonical("example", "\\000.example")).toBeLessThan(0);
    expect(compareCanonical("\\000.example", "\\000.\\000.example")).toBeLessThan(0);
  });
});
