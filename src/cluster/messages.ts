// What gossip nodes say to each other, as values. codec.ts turns them into bytes and back.

export type MemberState = "alive" | "suspect" | "dead" | "left";
export type Role = "overwatch" | "agent";

/** The small, slow-changing facts about a member that travel with its alive message. */
export interface MemberMeta {
  role: Role;
  /** Empty when the node has no region. */
  region: string;
}

export interface Ping {
  type: "ping";
  seq: number;
  /** The name the sender expects to answer, so a reused address does not ack for someone else. */
  target: string;
}

export interface IndirectPing {
  type: "indirect-ping";
  seq: number;
  target: string;
  address: string;
  /** Whether the requester wants a nack when the target stays silent (Lifeguard). */
  nack: boolean;
}

export interface Ack {
  type: "ack";
  seq: number;
}

export interface Nack {
  type: "nack";
  seq: number;
}

export interface Alive {
  type: "alive";
  incarnation: number;
  node: string;
  address: string;
  meta: MemberMeta;
}

export interface Suspect {
  type: "suspect";
  incarnation: number;
  node: string;
  from: string;
}

/** A dead message from the node itself means it left. */
export interface Dead {
  type: "dead";
  incarnation: number;
  node: string;
  from: string;
}

/** An application message, spread epidemically: every node that sees it new gossips it on. */
export interface UserMessage {
  type: "user";
  /** 16 hex digits, random: how nodes recognise a message they have already seen. */
  id: string;
  origin: string;
  payload: Uint8Array;
}

export type Message = Ping | IndirectPing | Ack | Nack | Alive | Suspect | Dead | UserMessage;
export type MembershipMessage = Alive | Suspect | Dead;

export interface PushPullMember {
  name: string;
  address: string;
  incarnation: number;
  state: MemberState;
  meta: MemberMeta;
}

/** The full-state exchange of a push-pull stream, one frame each way. */
export interface PushPull {
  join: boolean;
  members: PushPullMember[];
  /** The application's own state (StateDelegate.localState). */
  state: Uint8Array;
}
