// The UDP/TCP transport on loopback (port 0), in real time: kept short with fast gossip timing.

import { afterEach, describe, expect, test } from "bun:test";
import { Keyring } from "../../src/cluster/keyring.ts";
import { Membership } from "../../src/cluster/membership.ts";
import { NetTransport } from "../../src/cluster/net-transport.ts";
import type { Transport } from "../../src/cluster/transport.ts";
import { systemClock } from "../../src/lib/clock.ts";
import { waitFor } from "../helpers/wait.ts";
import { META, newKey } from "./sim.ts";

const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function transport(): Promise<NetTransport> {
  const t = await NetTransport.listen({ bindAddress: "127.0.0.1:0" });
  open.push(t);
  return t;
}

describe("NetTransport", () => {
  test("sends datagrams with the sender's address", async () => {
    const [a, b] = [await transport(), await transport()];
    expect(a.localAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const got: string[] = [];
    b.onPacket((data, from) => got.push(`${from} ${data.join(",")}`));
    a.sendPacket(b.localAddress, Uint8Array.of(1, 2, 3));
    await waitFor("the datagram", () => got.length > 0, 2_000, 5);
    expect(got).toEqual([`${a.localAddress} 1,2,3`]);
  });

  test("carries framed streams both ways, large frames included", async () => {
    const [a, b] = [await transport(), await transport()];
    b.onStream(async (stream) => {
      const frame = await stream.read(2_000);
      stream.write(frame.subarray(0, 10));
      stream.write(frame);
      stream.close();
    });
    const stream = await a.openStream(b.localAddress, 2_000);
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i & 0xff);
    stream.write(big);
    expect(await stream.read(5_000)).toEqual(big.subarray(0, 10));
    expect(await stream.read(5_000)).toEqual(big);
    await expect(stream.read(2_000)).rejects.toThrow("closed");
  });

  test("a read times out; a closed port refuses; binding everywhere needs an advertise address", async () => {
    const [a, b] = [await transport(), await transport()];
    b.onStream(() => {});
    const stream = await a.openStream(b.localAddress, 2_000);
    await expect(stream.read(50)).rejects.toThrow("timed out after 50ms");
    const gone = await transport();
    const address = gone.localAddress;
    await gone.close();
    await expect(a.openStream(address, 2_000)).rejects.toThrow(`connect to ${address}`);
    await expect(NetTransport.listen({ bindAddress: "0.0.0.0:0" })).rejects.toThrow("advertise address");
  });

  test("a cluster of three gossips over loopback: join, message, failure detection", async () => {
    const key = newKey();
    const fast = { probe_interval: 100, probe_timeout: 50, gossip_interval: 20, push_pull_interval: 1_000, gossip_to_the_dead_time: 5_000 };
    const nodes: Membership[] = [];
    for (const name of ["a", "b", "c"]) {
      const t: Transport = await transport();
      const node = new Membership({ name, meta: META, transport: t, keyring: new Keyring(key), clock: systemClock, tuning: fast });
      node.start();
      open.push({ close: () => node.shutdown() });
      nodes.push(node);
    }
    const [a, b, c] = nodes as [Membership, Membership, Membership];
    const address = a.member("a")!.address;
    expect((await b.join([address])).joined).toEqual([address]);
    await c.join([address]);
    const allAlive = () => nodes.every((n) => n.members().filter((m) => m.state === "alive").length === 3);
    await waitFor("three alive members everywhere", allAlive, 5_000);

    const heard: string[] = [];
    c.onMessage((m) => heard.push(`${m.origin}: ${new TextDecoder().decode(m.payload)}`));
    a.publish(new TextEncoder().encode("hello"));
    await waitFor("the message", () => heard.length > 0, 5_000);
    expect(heard).toEqual(["a: hello"]);

    await b.shutdown();
    await waitFor("b dead at a and c", () => a.member("b")?.state === "dead" && c.member("b")?.state === "dead", 5_000);
    expect(a.stats().dropped).toEqual({});
  });
});
