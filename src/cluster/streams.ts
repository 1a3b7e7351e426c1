// Conversations over a stream, one encrypted frame each way:
//   - push-pull: the dialer sends its full state and reads the peer's; both merge;
//   - fallback ping: a ping answered by an ack, for a member that UDP cannot reach (memberlist's TCP ping).

import { decodeStreamFrame, encodePushPull, encodeStreamMessage, type StreamFrame } from "./codec.ts";
import { open, seal } from "./crypto.ts";
import type { DropReason } from "./counters.ts";
import type { Keyring } from "./keyring.ts";
import type { Message, Ping, PushPull } from "./messages.ts";
import { MAX_STREAM_FRAME_BYTES, type Stream } from "./transport.ts";

export interface StreamParty {
  readonly name: string;
  readonly keyring: Keyring;
  readonly timeoutMs: number;
  localState(join: boolean): PushPull;
  /** Called with the reason when a peer's frame is dropped unread. */
  dropped(reason: DropReason): void;
}

/** Dialer side of push-pull: resolves with the peer's state, rejects if it cannot be had. */
export async function exchangeState(stream: Stream, party: StreamParty, join: boolean): Promise<PushPull> {
  stream.write(seal(party.keyring, encodePushPull(party.localState(join)), "stream"));
  const reply = await readFrame(stream, party, party.timeoutMs);
  if (reply?.kind !== "push-pull") throw new Error(`push-pull with ${stream.remoteAddress}: no usable reply`);
  return reply.pushPull;
}

/** Dialer side of the fallback ping: true when the peer acked within timeoutMs. */
export async function pingOverStream(stream: Stream, party: StreamParty, ping: Ping, timeoutMs: number): Promise<boolean> {
  writeMessage(stream, party, ping);
  const reply = await readFrame(stream, party, timeoutMs);
  return reply?.kind === "message" && reply.message.type === "ack" && reply.message.seq === ping.seq;
}

/** Listener side: answers a push-pull (resolving with the peer's state to merge) or a ping (resolving undefined). */
export async function answerStream(stream: Stream, party: StreamParty): Promise<PushPull | undefined> {
  const request = await readFrame(stream, party, party.timeoutMs);
  if (request?.kind === "push-pull") {
    stream.write(seal(party.keyring, encodePushPull(party.localState(request.pushPull.join)), "stream"));
    return request.pushPull;
  }
  if (request?.kind === "message" && request.message.type === "ping") {
    if (request.message.target !== party.name) party.dropped("misdirected");
    else writeMessage(stream, party, { type: "ack", seq: request.message.seq });
  }
  return undefined;
}

function writeMessage(stream: Stream, party: StreamParty, message: Message): void {
  stream.write(seal(party.keyring, encodeStreamMessage(message), "stream"));
}

async function readFrame(stream: Stream, party: StreamParty, timeoutMs: number): Promise<StreamFrame | undefined> {
  const frame = await stream.read(timeoutMs);
  if (frame.length > MAX_STREAM_FRAME_BYTES) return drop(party, "oversized");
  const opened = open(party.keyring, frame, "stream");
  if (!opened.ok) return drop(party, opened.reason);
  const decoded = decodeStreamFrame(opened.plaintext);
  return decoded.ok ? decoded.value : drop(party, decoded.reason);
}

function drop(party: StreamParty, reason: DropReason): undefined {
  party.dropped(reason);
  return undefined;
}
