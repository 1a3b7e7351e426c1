import { expect, test } from "bun:test";
import { AccessRules } from "../../src/lb/access.ts";

type Rule = { action: "allow" | "deny"; network: string };
const rules = (defaultAction: "allow" | "deny", list: Rule[]) => new AccessRules({ default: defaultAction, rules: list });

test("the first matching rule wins", () => {
  const access = rules("deny", [
    { action: "deny", network: "10.1.2.0/24" },
    { action: "allow", network: "10.0.0.0/8" },
    { action: "deny", network: "0.0.0.0/0" },
  ]);
  expect(access.allows("10.1.2.3")).toBe(false);
  expect(access.allows("10.9.9.9")).toBe(true);
  expect(access.allows("192.0.2.1")).toBe(false);
});

test("no match falls to the default", () => {
  expect(rules("allow", [{ action: "deny", network: "10.0.0.0/8" }]).allows("192.0.2.1")).toBe(true);
  expect(rules("deny", [{ action: "allow", network: "10.0.0.0/8" }]).allows("192.0.2.1")).toBe(false);
  expect(rules("allow", []).allows("192.0.2.1")).toBe(true);
  expect(rules("deny", []).allows("192.0.2.1")).toBe(false);
});

test("without rules the answer is known before reading the client's address", () => {
  expect(rules("allow", []).decisionForAll()).toBe(true);
  expect(rules("deny", []).decisionForAll()).toBe(false);
  expect(rules("allow", [{ action: "deny", network: "10.0.0.0/8" }]).decisionForAll()).toBeUndefined();
});

test("IPv6 clients match IPv6 rules only", () => {
  const access = rules("deny", [{ action: "allow", network: "2001:db8::/32" }, { action: "allow", network: "0.0.0.0/0" }]);
  expect(access.allows("2001:db8:1::5")).toBe(true);
  expect(access.allows("2001:db9::5")).toBe(false);
  expect(access.allows("::1")).toBe(false);
});

test("an IPv4-mapped IPv6 client (a dual-stack socket) matches IPv4 rules", () => {
  const access = rules("allow", [{ action: "deny", network: "127.0.0.0/8" }]);
  expect(access.allows("::ffff:127.0.0.5")).toBe(false);
  expect(access.allows("::ffff:192.0.2.1")).toBe(true);
});

test("an address that does not parse is refused even when the default allows", () => {
  const access = rules("allow", [{ action: "deny", network: "10.0.0.0/8" }]);
  expect(access.allows("not-an-ip")).toBe(false);
  expect(access.allows("")).toBe(false);
});

test.each([
  ["10.0.0.0", 'missing "/prefix"'],
  ["10.0.0.1/8", "host bits are set"],
  ["300.0.0.0/8", "is not an IP address"],
  ["2001:db8::/129", "prefix must be 0 to 128"],
])("a bad network %p names the rule: %s", (network, problem) => {
  expect(() => rules("allow", [{ action: "allow", network: "10.0.0.0/8" }, { action: "deny", network }])).toThrow(
    new RegExp(`^access\\.rules\\[1\\]\\.network: .*${problem.replace(/[/"]/g, ".")}`),
  );
});
