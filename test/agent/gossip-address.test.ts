import { expect, test } from "bun:test";
import type { GossipConfig } from "../../src/config/types.ts";
import { agentGossipAddresses } from "../../src/agent/gossip-address.ts";

const gossip = (extra: Partial<GossipConfig>): GossipConfig => ({
  keyring: [],
  peers: [],
  overwatch_nodes: [{ host: "127.0.0.5", port: 7946 }],
  min_peers_agree: 0,
  ...extra,
});

test("unset: the local address that reaches the first overwatch, on a port the OS picks", async () => {
  expect(await agentGossipAddresses(gossip({}))).toEqual({ bind: "127.0.0.1:0", advertise: undefined, why: "the local address that reaches overwatch 127.0.0.5:7946" });
});

test("a configured address is used as it is; binding every address needs a port the others can know", async () => {
  expect((await agentGossipAddresses(gossip({ bind_address: { host: "127.0.0.9", port: 7000 } }))).bind).toBe("127.0.0.9:7000");
  expect(await agentGossipAddresses(gossip({ bind_address: { host: "0.0.0.0", port: 7947 } }))).toEqual({ bind: "0.0.0.0:7947", advertise: "127.0.0.1:7947", why: "gossip.bind_address" });
  await expect(agentGossipAddresses(gossip({ bind_address: { host: "0.0.0.0", port: 0 } }))).rejects.toThrow("needs gossip.advertise_address");
});
