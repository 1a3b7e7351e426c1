// Finding a service and one of its backend addresses from what a client typed in a path.

import type { ServiceConfig } from "../config/types.ts";
import { formatIp, parseIp } from "../lib/cidr.ts";
import { ApiError, badField, notFound } from "./errors.ts";

/** A service by its fqdn ("app.gslb.example.com", trailing dot allowed) or its name under a zone ("app"). */
export function findService(services: readonly ServiceConfig[], wanted: string): ServiceConfig {
  const key = wanted.toLowerCase().replace(/\.$/, "");
  const exact = services.find((s) => s.fqdn === key);
  if (exact) return exact;
  const byName = services.filter((s) => s.name.toLowerCase() === key);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) {
    throw new ApiError(400, `service ${wanted} is in several zones; use one of ${byName.map((s) => s.fqdn).join(", ")}`, "service");
  }
  throw notFound(`no service ${wanted}`);
}

/** The address in canonical form, which must be one of the service's backends. */
export function findBackendAddress(service: ServiceConfig, wanted: string): string {
  const bytes = parseIp(wanted);
  if (!bytes) throw badField("address", `expected an IPv4 or IPv6 address, got ${JSON.stringify(wanted.slice(0, 60))}`);
  const address = formatIp(bytes);
  if (!service.backends.some((b) => b.address === address)) throw notFound(`no backend ${address} in service ${service.fqdn}`);
  return address;
}
