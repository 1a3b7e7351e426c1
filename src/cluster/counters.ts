// What the gossip layer counts, for metrics and for tests that check a drop happened for the right reason.

import type { OpenFailure } from "./crypto.ts";
import type { DecodeFailure } from "./codec.ts";

export type DropReason =
  | "oversized"
  | OpenFailure
  | DecodeFailure
  /** A ping meant for another node name (an address reused by a different node). */
  | "misdirected";

export interface GossipCounters {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  streamsIn: number;
  streamsOut: number;
  /** Packets and stream frames dropped before any message in them was acted on, by reason. */
  dropped: Partial<Record<DropReason, number>>;
  /** Direct probes started by this node. */
  probes: number;
  /** Indirect probe requests this node sent after a direct probe went unanswered. */
  indirectProbes: number;
  /** Indirect probes this node ran on behalf of others. */
  indirectProbesServed: number;
  /** Pings sent over a stream because the direct ping went unanswered. */
  fallbackPings: number;
  /** Probes that only the stream ping answered: UDP to that member is lossy or filtered. */
  fallbackAcks: number;
  /** Probes that ended without any ack, direct, indirect or over a stream. */
  probeFailures: number;
  /** Members that went from alive to suspect in this node's view. */
  suspicions: number;
  /** Times this node refuted being suspected or declared dead. */
  refutations: number;
  pushPulls: number;
  pushPullFailures: number;
  /** Application messages seen for the first time / seen again. */
  userMessages: number;
  userDuplicates: number;
  /** Broadcasts dropped because the queue was full. */
  broadcastsPruned: number;
  /** Alive messages ignored because another member holds the name at another address. */
  nameConflicts: number;
}

export function emptyCounters(): GossipCounters {
  return {
    packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, streamsIn: 0, streamsOut: 0, dropped: {},
    probes: 0, indirectProbes: 0, indirectProbesServed: 0, fallbackPings: 0, fallbackAcks: 0, probeFailures: 0, suspicions: 0, refutations: 0,
    pushPulls: 0, pushPullFailures: 0, userMessages: 0, userDuplicates: 0, broadcastsPruned: 0, nameConflicts: 0,
  };
}
