import { expect, test } from "bun:test";
import { closest, editDistance } from "../../src/config/suggest.ts";

test("editDistance counts insertions, deletions, substitutions and swaps", () => {
  expect(editDistance("default_ttl", "default_ttl")).toBe(0);
  expect(editDistance("default_tl", "default_ttl")).toBe(1);
  expect(editDistance("adress", "address")).toBe(1);
  expect(editDistance("ttl", "tlt")).toBe(1);
  expect(editDistance("kitten", "sitting")).toBe(3);
  expect(editDistance("", "abc")).toBe(3);
});

test("closest suggests near misses only", () => {
  const keys = ["listen_address", "zones", "default_ttl", "dnssec"];
  expect(closest("default_tl", keys)).toBe("default_ttl");
  expect(closest("Zones", keys)).toBe("zones");
  expect(closest("dnsec", keys)).toBe("dnssec");
  expect(closest("upstream_servers", keys)).toBeUndefined();
});
