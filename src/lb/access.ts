// Who may connect to a balancer server: ordered allow/deny CIDR rules, the first match wins, and
// `default` decides when none matches. Rules are parsed once, when the server (re)loads its config,
// so the accept path only compares bytes.

import { cidrContains, parseCidr, parseIp, type Cidr } from "../lib/cidr.ts";
import type { LbServerConfig } from "../config/types.ts";

type AccessConfig = LbServerConfig["access"];

export class AccessRules {
  private readonly rules: { allow: boolean; network: Cidr }[];
  private readonly allowByDefault: boolean;

  /** Throws naming the rule when a network is not a CIDR. */
  constructor(config: AccessConfig) {
    this.allowByDefault = config.default === "allow";
    this.rules = config.rules.map((rule, i) => {
      try {
        return { allow: rule.action === "allow", network: parseCidr(rule.network) };
      } catch (err) {
        throw new Error(`access.rules[${i}].network: ${(err as Error).message}`);
      }
    });
  }

  /** The answer for every client when there are no rules, so the accept path need not read the address. */
  decisionForAll(): boolean | undefined {
    return this.rules.length === 0 ? this.allowByDefault : undefined;
  }

  /**
   * True when a client at `address` (IPv4, IPv6 or IPv4-mapped IPv6, as sockets report it) may connect.
   * An address that does not parse is refused: the kernel never hands us one, so it can only be a bug,
   * and a deny rule must not be skipped because of it.
   */
  allows(address: string): boolean {
    const bytes = parseIp(address);
    if (!bytes) return false;
    for (const rule of this.rules) if (cidrContains(rule.network, bytes)) return rule.allow;
    return this.allowByDefault;
  }
}
