// Gossip timing and sizing, with memberlist's LAN defaults written out. Durations are milliseconds.
// Source: hashicorp/memberlist config.go, DefaultLANConfig() (the same values appear in Consul's
// gossip_lan documentation). reconnect_* come from Serf (serf/config.go DefaultConfig), which adds
// them on top of memberlist because memberlist alone never retries a member it has reaped.

export interface GossipTuning {
  /** Time between probes of one member (memberlist ProbeInterval). */
  probe_interval: number;
  /** How long to wait for a direct ack before asking others (memberlist ProbeTimeout). */
  probe_timeout: number;
  /** Members asked to probe on our behalf when the direct probe fails (IndirectChecks). */
  indirect_checks: number;
  /** Suspicion lasts suspicion_mult × max(1, log10(n)) × probe_interval at least (SuspicionMult). */
  suspicion_mult: number;
  /** Upper bound of the suspicion timeout, as a multiple of the lower one (SuspicionMaxTimeoutMult). */
  suspicion_max_timeout_mult: number;
  /** Each broadcast is sent retransmit_mult × ceil(log10(n + 1)) times (RetransmitMult). */
  retransmit_mult: number;
  /** Time between gossip rounds that carry queued broadcasts (GossipInterval). */
  gossip_interval: number;
  /** Members each gossip round sends to (GossipNodes). */
  gossip_nodes: number;
  /** How long a dead member still receives gossip, and is kept before it is reaped (GossipToTheDeadTime). */
  gossip_to_the_dead_time: number;
  /** Time between full state exchanges with one random member; 0 turns them off (PushPullInterval). */
  push_pull_interval: number;
  /** Connect, read and write timeout of a push-pull stream (memberlist TCPTimeout). */
  stream_timeout: number;
  /** Lifeguard: a node that misses acks stretches its probe timing up to this factor (AwarenessMaxMultiplier). */
  awareness_max_multiplier: number;
  /** Largest datagram sent or accepted, encryption included (memberlist UDPBufferSize). */
  packet_bytes: number;
  /** Time between attempts to reach a failed member again (Serf ReconnectInterval); 0 turns them off. */
  reconnect_interval: number;
  /** How long a failed member is retried before it is forgotten (Serf ReconnectTimeout). */
  reconnect_timeout: number;
  /** Pending broadcasts kept at most; the most transmitted go first (Serf MaxQueueDepth). */
  max_queue_depth: number;
}

export const LAN_DEFAULTS: Readonly<GossipTuning> = Object.freeze({
  probe_interval: 1_000, // 1 s
  probe_timeout: 500, // 500 ms
  indirect_checks: 3,
  suspicion_mult: 4,
  suspicion_max_timeout_mult: 6,
  retransmit_mult: 4,
  gossip_interval: 200, // 200 ms
  gossip_nodes: 3,
  gossip_to_the_dead_time: 30_000, // 30 s
  push_pull_interval: 30_000, // 30 s
  stream_timeout: 10_000, // 10 s
  awareness_max_multiplier: 8,
  packet_bytes: 1_400, // bytes
  reconnect_interval: 30_000, // 30 s
  reconnect_timeout: 86_400_000, // 24 h
  max_queue_depth: 4_096,
});

/** Checks a tuning once, at construction, so a bad value fails loudly instead of stalling the loop. */
export function validateTuning(t: GossipTuning): void {
  const positive: (keyof GossipTuning)[] = [
    "probe_interval", "probe_timeout", "suspicion_mult", "suspicion_max_timeout_mult", "retransmit_mult",
    "gossip_interval", "gossip_nodes", "gossip_to_the_dead_time", "stream_timeout", "awareness_max_multiplier",
    "max_queue_depth",
  ];
  for (const key of positive) {
    if (!(t[key] > 0)) throw new Error(`gossip tuning ${key}: must be positive, got ${t[key]}`);
  }
  for (const key of ["indirect_checks", "push_pull_interval", "reconnect_interval", "reconnect_timeout"] as const) {
    if (!(t[key] >= 0)) throw new Error(`gossip tuning ${key}: must not be negative, got ${t[key]}`);
  }
  if (t.probe_timeout >= t.probe_interval) {
    throw new Error(`gossip tuning probe_timeout (${t.probe_timeout}) must be shorter than probe_interval (${t.probe_interval})`);
  }
  if (t.packet_bytes < 512 || t.packet_bytes > 65_000) {
    throw new Error(`gossip tuning packet_bytes: expected 512 to 65000, got ${t.packet_bytes}`);
  }
}

/** The shortest suspicion: as memberlist's suspicionTimeout, which floors the log at 1 so small clusters get mult × interval. */
export function suspicionMinMs(t: Pick<GossipTuning, "suspicion_mult" | "probe_interval">, members: number): number {
  const scale = Math.max(1, Math.log10(Math.max(1, members)));
  return Math.floor(t.suspicion_mult * scale * t.probe_interval);
}

/** How many times one broadcast is sent (memberlist retransmitLimit). */
export function retransmitLimit(t: GossipTuning, members: number): number {
  return t.retransmit_mult * Math.ceil(Math.log10(members + 1));
}

/** Confirmations that bring a suspicion down to its minimum: mult − 2, or none when too few members could confirm. */
export function expectedConfirmations(t: Pick<GossipTuning, "suspicion_mult">, members: number): number {
  const k = t.suspicion_mult - 2;
  // Take out ourselves and the suspect: the rest are the only possible confirmers.
  return members - 2 < k ? 0 : k;
}

/** memberlist pushPullScale: past 32 members the interval grows with log2(n) so full syncs do not swamp the network. */
export function pushPullIntervalMs(t: GossipTuning, members: number): number {
  if (members <= 32) return t.push_pull_interval;
  return (Math.ceil(Math.log2(members) - Math.log2(32)) + 1) * t.push_pull_interval;
}
