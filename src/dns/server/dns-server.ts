// Owns the DNS listeners: UDP and TCP on every listen address. A reload reconciles them: unchanged
// addresses keep their sockets (no query is lost), new ones open, removed ones close.

import type { HostPort } from "../../config/types.ts";
import { StartupError, errorMessage } from "../../lib/errors.ts";
import type { DnsPipeline } from "./pipeline.ts";
import { listenTcp, type TcpLimits } from "./tcp.ts";
import { listenUdp, type Listener } from "./udp.ts";

export interface BoundAddress {
  host: string;
  udpPort: number;
  tcpPort: number;
}

interface Pair {
  udp: Listener;
  tcp: Listener & { connections(): number };
}

const keyOf = (a: HostPort) => `${a.host}|${a.port}`;

export class DnsServer {
  private readonly pairs = new Map<string, Pair>();
  private limits: TcpLimits;

  constructor(
    private readonly pipeline: DnsPipeline,
    limits: TcpLimits,
  ) {
    this.limits = limits;
  }

  /** Opens what is new, closes what is gone; fails without closing anything still wanted. */
  async reconcile(addresses: readonly HostPort[], limits: TcpLimits): Promise<void> {
    this.limits = limits;
    const wanted = new Map(addresses.map((a) => [keyOf(a), a]));
    for (const [key, address] of wanted) {
      if (!this.pairs.has(key)) this.pairs.set(key, await this.open(address));
    }
    for (const [key, pair] of this.pairs) {
      if (wanted.has(key)) continue;
      pair.udp.close();
      pair.tcp.close();
      this.pairs.delete(key);
    }
  }

  bound(): BoundAddress[] {
    return [...this.pairs.values()].map((p) => ({ host: p.udp.address.host, udpPort: p.udp.port, tcpPort: p.tcp.port }));
  }

  tcpConnections(): number {
    return [...this.pairs.values()].reduce((n, p) => n + p.tcp.connections(), 0);
  }

  close(): void {
    for (const pair of this.pairs.values()) {
      pair.udp.close();
      pair.tcp.close();
    }
    this.pairs.clear();
  }

  private async open(address: HostPort): Promise<Pair> {
    // Port 0 asks for any port: TCP then takes the one UDP got, so one number serves both. That
    // port may be taken for TCP; then try another pair.
    const attempts = address.port === 0 ? 5 : 1;
    for (let attempt = 1; ; attempt++) {
      const udp = await this.openUdp(address);
      try {
        const tcp = await listenTcp({ host: address.host, port: udp.port }, () => this.pipeline, () => this.limits);
        return { udp, tcp };
      } catch (err) {
        udp.close();
        if (attempt >= attempts) throw new StartupError(`cannot listen for DNS on tcp ${where(address)}: ${errorMessage(err)}`);
      }
    }
  }

  private async openUdp(address: HostPort): Promise<Listener> {
    try {
      return await listenUdp(address, () => this.pipeline);
    } catch (err) {
      throw new StartupError(`cannot listen for DNS on udp ${where(address)}: ${errorMessage(err)}`);
    }
  }
}

function where(address: HostPort): string {
  return `${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`;
}
