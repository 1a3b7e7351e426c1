import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/lib/clock.ts";
import { MemoryNetwork } from "../../src/cluster/memory-transport.ts";
import { seededRandom } from "../../src/cluster/random.ts";

function network(seed = 1, defaults = {}) {
  const clock = new ManualClock();
  return { clock, net: new MemoryNetwork(clock, seededRandom(seed), defaults) };
}

/** Lets promise callbacks run between timers. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("MemoryNetwork packets", () => {
  test("arrive after the link delay, on the clock, with the sender's address", () => {
    const { clock, net } = network(1, { delayMs: 5 });
    const a = net.attach("a:1");
    const b = net.attach("b:1");
    const got: string[] = [];
    b.onPacket((data, from) => got.push(`${from}:${data[0]}`));
    a.sendPacket("b:1", Uint8Array.of(7));
    clock.advance(4);
    expect(got).toEqual([]);
    clock.advance(1);
    expect(got).toEqual(["a:1:7"]);
  });

  test("loss is per link and the same on every run with the same seed", () => {
    const run = (seed: number) => {
      const { clock, net } = network(seed);
      const a = net.attach("a:1");
      const b = net.attach("b:1");
      net.setLink("a:1", "b:1", { loss: 0.3 });
      let got = 0;
      b.onPacket(() => got++);
      for (let i = 0; i < 1_000; i++) a.sendPacket("b:1", Uint8Array.of(i & 0xff));
      clock.advance(10);
      return got;
    };
    expect(run(7)).toBe(run(7));
    expect(run(7)).toBeGreaterThan(650);
    expect(run(7)).toBeLessThan(750);
  });

  test("a partition blocks both ways, also packets already in flight; heal restores it", () => {
    const { clock, net } = network();
    const [a, b, c] = ["a:1", "b:1", "c:1"].map((addr) => net.attach(addr));
    const got: string[] = [];
    for (const t of [a, b, c]) t!.onPacket((_d, from) => got.push(`${from}>${t!.localAddress}`));
    a!.sendPacket("b:1", Uint8Array.of(1));
    net.partition(["a:1"], ["b:1", "c:1"]);
    clock.advance(5);
    b!.sendPacket("c:1", Uint8Array.of(1));
    c!.sendPacket("a:1", Uint8Array.of(1));
    clock.advance(5);
    net.heal();
    c!.sendPacket("a:1", Uint8Array.of(1));
    clock.advance(5);
    expect(got).toEqual(["b:1>c:1", "c:1>a:1"]);
    expect(net.stats.packetsBlocked).toBe(2);
  });

  test("packets to nobody, or from a closed transport, go nowhere", async () => {
    const { clock, net } = network();
    const a = net.attach("a:1");
    a.sendPacket("nobody:1", Uint8Array.of(1));
    await a.close();
    a.sendPacket("nobody:1", Uint8Array.of(1));
    clock.advance(5);
    expect(net.stats).toMatchObject({ packetsSent: 1, packetsBlocked: 1 });
    expect(() => net.attach("b:1")).not.toThrow();
    expect(() => net.attach("b:1")).toThrow("already attached");
  });
});

describe("MemoryNetwork streams", () => {
  test("carry frames both ways in order, then close", async () => {
    const { clock, net } = network();
    const a = net.attach("a:1");
    const b = net.attach("b:1");
    b.onStream(async (stream) => {
      const request = await stream.read(1_000);
      stream.write(Uint8Array.of(request[0]! + 1));
      stream.write(Uint8Array.of(request[0]! + 2));
      stream.close();
    });
    const opening = a.openStream("b:1", 1_000);
    clock.advance(1);
    const stream = await opening;
    expect(stream.remoteAddress).toBe("b:1");
    stream.write(Uint8Array.of(10));
    for (let i = 0; i < 5; i++) {
      clock.advance(1);
      await settle();
    }
    expect(await stream.read(1_000)).toEqual(Uint8Array.of(11));
    expect(await stream.read(1_000)).toEqual(Uint8Array.of(12));
    await expect(stream.read(1_000)).rejects.toThrow("closed");
  });

  test("a read times out on the clock", async () => {
    const { clock, net } = network();
    net.attach("b:1").onStream(() => {});
    const opening = net.attach("a:1").openStream("b:1", 1_000);
    clock.advance(1);
    const reading = (await opening).read(300);
    clock.advance(300);
    await expect(reading).rejects.toThrow("timed out after 300ms");
  });

  test("connecting to nobody is refused; into a partition it times out", async () => {
    const { clock, net } = network();
    const a = net.attach("a:1");
    net.attach("b:1").onStream(() => {});
    const refused = a.openStream("nobody:1", 1_000);
    clock.advance(1);
    await expect(refused).rejects.toThrow("connection refused");
    net.partition(["a:1"], ["b:1"]);
    const blocked = a.openStream("b:1", 1_000);
    clock.advance(999);
    let settled = false;
    blocked.catch(() => (settled = true));
    await settle();
    expect(settled).toBe(false);
    clock.advance(1);
    await expect(blocked).rejects.toThrow("timed out after 1000ms");
  });

  test("loss costs streams TCP's retransmission timeouts, and a link that drops everything never connects", () => {
    const { net } = network(3);
    net.attach("a:1");
    net.attach("b:1");
    expect(net.retransmitDelay("a:1", "b:1", "connect")).toBe(0);
    net.setLink("a:1", "b:1", { loss: 0.5 });
    const delays = Array.from({ length: 200 }, () => net.retransmitDelay("a:1", "b:1", "data"));
    expect(new Set(delays)).toContain(200);
    expect(new Set(delays)).toContain(600);
    net.setLink("a:1", "b:1", { loss: 1 });
    expect(net.retransmitDelay("a:1", "b:1", "connect")).toBeUndefined();
  });
});
