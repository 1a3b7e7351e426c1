// Where an agent listens for gossip. An agent shares its host with an application, often with other
// agents, sometimes with an overwatch, so the overwatch's default (every interface, port 7946) would
// clash and would expose gossip on interfaces nobody needs. Unless gossip.bind_address says
// otherwise, the agent binds the one local address the kernel would send from to reach its first
// overwatch (so the overwatches can dial it back: SWIM probes and push-pull go both ways), on a
// port the OS picks. Nobody needs to know that port in advance: the agent announces its address
// when it joins. Finding the route sends nothing (connect() on a UDP socket only picks the route).

import { createSocket } from "node:dgram";
import { lookup } from "node:dns/promises";
import type { GossipConfig, HostPort } from "../config/types.ts";
import { parseIp } from "../lib/cidr.ts";
import { errorMessage, StartupError } from "../lib/errors.ts";
import { formatHostPort } from "../lib/hostport.ts";

export interface GossipAddresses {
  bind: string;
  /** What the others dial, when not the bound address itself. */
  advertise?: string;
  /** Where the bind address came from, for the start-up log. */
  why: string;
}

export async function agentGossipAddresses(gossip: GossipConfig): Promise<GossipAddresses> {
  const advertise = gossip.advertise_address && formatHostPort(gossip.advertise_address);
  const bind = gossip.bind_address;
  if (bind && !isUnspecified(bind.host)) return { bind: formatHostPort(bind), advertise, why: "gossip.bind_address" };
  const route = await routeToOverwatches(gossip.overwatch_nodes);
  if (!bind) return { bind: formatHostPort({ host: route.host, port: 0 }), advertise, why: `the local address that reaches overwatch ${route.via}` };
  if (!advertise && bind.port === 0) {
    throw new StartupError(`gossip.bind_address ${formatHostPort(bind)}: binding every address on a port the OS picks needs gossip.advertise_address, or a fixed port`);
  }
  return { bind: formatHostPort(bind), advertise: advertise ?? formatHostPort({ host: route.host, port: bind.port }), why: "gossip.bind_address" };
}

/** The source address of the route to the first overwatch that has one. */
async function routeToOverwatches(overwatches: readonly HostPort[]): Promise<{ host: string; via: string }> {
  const problems: string[] = [];
  for (const overwatch of overwatches) {
    try {
      return { host: await localAddressTowards(overwatch), via: formatHostPort(overwatch) };
    } catch (err) {
      problems.push(`${formatHostPort(overwatch)}: ${errorMessage(err)}`);
    }
  }
  throw new StartupError(`cannot find a local address that reaches any of gossip.overwatch_nodes (${problems.join("; ")}); set gossip.bind_address`);
}

/** The local address the kernel picks for packets to target. */
async function localAddressTowards(target: HostPort): Promise<string> {
  const ip = parseIp(target.host) ? target.host : (await lookup(target.host)).address;
  const socket = createSocket(ip.includes(":") ? "udp6" : "udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.connect(target.port, ip, () => resolve());
    });
    return socket.address().address;
  } finally {
    socket.close();
  }
}

function isUnspecified(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}
