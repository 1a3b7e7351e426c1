// Connected UDP sockets to backends, reused across sessions. A DNS-style session (one query, one
// reply, max_replies 1) would otherwise cost a socket, a bind and a close per query; here it takes an
// idle socket to its backend when one is there and hands it back when it ends.
//
// A socket is handed back only when its session got as many replies as it sent datagrams: the backend
// owes it nothing more, so nothing late can reach the next client that takes the socket. Anything
// arriving on an idle socket is dropped. Idle sockets are capped per balancer; the ones of members
// that left the pool are closed at the next sweep.

import type { udp } from "bun";
import { ipFamily } from "../lib/cidr.ts";
import type { PoolMember } from "./pool.ts";

/** Idle sockets a balancer keeps in all; beyond this, a session's socket is closed when it ends. */
export const MAX_IDLE_LINKS = 256;

/** Who a link's datagrams and errors are for while a session holds it. */
export interface LinkOwner {
  fromBackend(data: Buffer): void;
  backendFailed(err: Error | undefined): void;
}

/** A connected socket to one backend; `owner` is the session it serves, none while idle. */
export class BackendLink {
  owner: LinkOwner | undefined;
  socket!: udp.ConnectedSocket<"buffer">;

  constructor(readonly member: PoolMember) {}

  send(data: Uint8Array): void {
    this.socket.send(data);
  }
}

export class BackendLinks {
  private readonly idle = new Map<PoolMember, BackendLink[]>();
  private idleCount = 0;
  /** After closeAll, a link handed back (a socket made as the balancer closed) is closed too. */
  private closed = false;

  /** An idle link to `member`, if one is kept. */
  take(member: PoolMember): BackendLink | undefined {
    const links = this.idle.get(member);
    const link = links?.pop();
    if (!link) return undefined;
    this.idleCount--;
    if (links!.length === 0) this.idle.delete(member);
    return link;
  }

  /** A new connected socket to `member`; rejects when the system cannot make one. */
  async open(member: PoolMember): Promise<BackendLink> {
    const link = new BackendLink(member);
    const { address, port } = member.target;
    link.socket = await Bun.udpSocket({
      hostname: ipFamily(address) === 6 ? "::" : "0.0.0.0",
      connect: { hostname: address, port },
      socket: {
        data: (_socket, data) => link.owner?.fromBackend(data),
        // Bun passes the error alone (the socket is `this`), unlike its typings: ICMP port unreachable
        // and the like, reported on a later receive.
        error: (...args: unknown[]) => {
          const err = args.find((arg) => arg instanceof Error) as Error | undefined;
          if (link.owner) link.owner.backendFailed(err);
          else this.discard(link);
        },
      },
    });
    return link;
  }

  /** A session is done with `link`; `clean` when the backend owes it nothing (see above). */
  release(link: BackendLink, clean: boolean): void {
    link.owner = undefined;
    if (!clean || this.closed || this.idleCount >= MAX_IDLE_LINKS) {
      link.socket.close();
      return;
    }
    const links = this.idle.get(link.member);
    if (links) links.push(link);
    else this.idle.set(link.member, [link]);
    this.idleCount++;
  }

  /** Closes the idle links of members no longer in the pool. */
  sweep(members: readonly PoolMember[]): void {
    if (this.idle.size === 0) return;
    const current = new Set(members);
    for (const [member, links] of this.idle) {
      if (current.has(member)) continue;
      for (const link of links) link.socket.close();
      this.idleCount -= links.length;
      this.idle.delete(member);
    }
  }

  closeAll(): void {
    this.closed = true;
    for (const links of this.idle.values()) for (const link of links) link.socket.close();
    this.idle.clear();
    this.idleCount = 0;
  }

  /** An idle link whose socket reported an error is not worth keeping. */
  private discard(link: BackendLink): void {
    const links = this.idle.get(link.member);
    const at = links?.indexOf(link) ?? -1;
    if (at >= 0) {
      links!.splice(at, 1);
      this.idleCount--;
      if (links!.length === 0) this.idle.delete(link.member);
    }
    link.socket.close();
  }
}
