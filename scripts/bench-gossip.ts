// Gossip figures in simulated time, next to what memberlist and Serf lead one to expect:
//   scripts/bench-gossip.sh (or bun scripts/bench-gossip.ts) [runs per size, default 20] [packet loss, default 0]
// For 3, 10 and 30 nodes: how long until a crashed node is suspected and declared dead by every
// other, and how long an application message takes to reach every node. Then the codec's cost.

import { decodePacket, encodeMessage, packetOf } from "../src/cluster/codec.ts";
import { open, seal } from "../src/cluster/crypto.ts";
import { Keyring } from "../src/cluster/keyring.ts";
import type { Message } from "../src/cluster/messages.ts";
import { seededRandom } from "../src/cluster/random.ts";
import { LAN_DEFAULTS, suspicionMinMs } from "../src/cluster/tuning.ts";
import { newKey, Sim } from "../test/cluster/sim.ts";

const runs = Number(process.argv[2] ?? 20);
const loss = Number(process.argv[3] ?? 0);
const t = LAN_DEFAULTS;

interface Sample {
  suspected: number;
  firstDead: number;
  allDead: number;
  /** Until the last node had the message; undefined when some node never got it. */
  spread: number | undefined;
  /** Nodes that never got the message (gossip is best effort). */
  missed: number;
}

async function sample(size: number, seed: number): Promise<Sample> {
  const sim = new Sim({ seed });
  const nodes = await sim.cluster(size, 120_000);
  sim.network.setDefaults({ loss });
  const random = seededRandom(seed);
  await sim.run(5_000 + Math.floor(random() * 1_000));

  // Dissemination: one message from a random node, until every other node has it.
  const from = nodes[Math.floor(random() * size)]!;
  const sentAt = sim.clock.now();
  from.node.publish(new TextEncoder().encode("bench"));
  const others = nodes.filter((n) => n !== from);
  await sim.runUntil(() => others.every((n) => n.messages.length > 0), 10_000, 5).catch(() => {});
  const missed = others.filter((n) => n.messages.length === 0).length;
  const spread = missed > 0 ? undefined : Math.max(...others.map((n) => n.messages[0]!.at)) - sentAt;

  // Detection: crash one node, until every survivor holds it dead.
  await sim.run(2_000 + Math.floor(random() * 1_000));
  const victim = nodes[1 + Math.floor(random() * (size - 1))]!;
  const crashedAt = sim.clock.now();
  await victim.node.shutdown();
  const survivors = nodes.filter((n) => n !== victim);
  await sim.runUntil(() => survivors.every((n) => n.node.member(victim.name)?.state === "dead"), 120_000, 5);
  const times = (type: string) =>
    survivors.map((n) => n.events.find((e) => e.type === type && e.member.name === victim.name && e.at >= crashedAt)!.at - crashedAt);
  await sim.shutdown();
  return { suspected: Math.min(...times("suspect")), firstDead: Math.min(...times("dead")), allDead: Math.max(...times("dead")), spread, missed };
}

/** Serf's convergence simulator (website/source/javascripts/simulator.js): the infected share after x rounds. */
function serfRoundsTo(share: number, size: number): number {
  for (let x = 0; ; x++) if (1 / (1 + (size + 1) * Math.exp(-t.gossip_nodes * x)) >= share) return x;
}

const seconds = (ms: number) => (ms / 1_000).toFixed(2);
const firstDetection = (t.probe_interval * Math.E) / (Math.E - 1);
function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `${seconds(at(0.5))} / ${seconds(at(0.9))} / ${seconds(sorted.at(-1)!)}`;
}

console.log(`gossip benchmark: ${runs} runs per size, packet loss ${loss * 100}%, LAN defaults (probe 1 s, suspicion mult 4, gossip 200 ms × 3)`);
console.log("simulated seconds, median / p90 / max\n");
const rows: string[][] = [["nodes", "first suspect", "first dead", "dead everywhere", "expected (SWIM + memberlist)", "message to all", "missed", "expected (Serf model)"]];
for (const size of [3, 10, 30]) {
  const samples: Sample[] = [];
  for (let seed = 1; seed <= runs; seed++) samples.push(await sample(size, seed));
  const min = suspicionMinMs(t, size);
  rows.push([
    String(size),
    summary(samples.map((s) => s.suspected)),
    summary(samples.map((s) => s.firstDead)),
    summary(samples.map((s) => s.allDead)),
    // SWIM (Das et al. 2002, §3.1): some member first detects the failure after T·e/(e−1) on average;
    // memberlist then holds the suspicion for at least its minimum once two others confirm it.
    `${seconds(firstDetection + min)} (${seconds(firstDetection)} + suspicion ${seconds(min)})`,
    summary(samples.flatMap((s) => (s.spread === undefined ? [] : [s.spread]))),
    `${samples.reduce((sum, s) => sum + s.missed, 0)} of ${runs * (size - 1)}`,
    `${seconds(serfRoundsTo(0.9999, size) * t.gossip_interval)} (99.99%)`,
  ]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  "));

// The codec: encode + seal + open + decode of a full compound packet, against JSON of the same messages.
const ring = new Keyring(newKey());
const messages: Message[] = Array.from({ length: 20 }, (_, i) => ({
  type: "alive", incarnation: i, node: `overwatch-${i}.example.internal`, address: `10.0.0.${i}:7946`, meta: { role: "overwatch", region: "eu-west-1" },
}));
const binary = packetOf(messages.map(encodeMessage));
const json = new TextEncoder().encode(JSON.stringify(messages));
const rounds = 20_000;
let start = performance.now();
for (let i = 0; i < rounds; i++) {
  const opened = open(ring, seal(ring, packetOf(messages.map(encodeMessage)), "packet"), "packet");
  if (!opened.ok || !decodePacket(opened.plaintext).ok) throw new Error("codec round trip failed");
}
const binaryUs = ((performance.now() - start) * 1_000) / rounds;
start = performance.now();
for (let i = 0; i < rounds; i++) {
  const opened = open(ring, seal(ring, new TextEncoder().encode(JSON.stringify(messages)), "packet"), "packet");
  if (!opened.ok) throw new Error("json round trip failed");
  JSON.parse(new TextDecoder().decode(opened.plaintext));
}
const jsonUs = ((performance.now() - start) * 1_000) / rounds;
console.log(`\ncodec, ${messages.length} alive messages: binary ${binary.length} bytes, ${binaryUs.toFixed(1)} µs per packet sealed, opened and decoded;`);
console.log(`                        JSON   ${json.length} bytes, ${jsonUs.toFixed(1)} µs (would need ${Math.ceil(json.length / (t.packet_bytes - 32))} packets)`);
