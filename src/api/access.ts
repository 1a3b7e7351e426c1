// Who may call the API: every request must come from api.allowed_networks; every write (any method
// but GET and HEAD) must carry the bearer token when one is configured. Without a token, writes are
// only possible on a loopback listener (startup refuses anything else), where the allow-list already
// keeps them to this machine.

import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { cidrContains, parseCidr, parseIp } from "../lib/cidr.ts";
import type { ApiEnv } from "./app.ts";
import { ApiError } from "./errors.ts";

export const isWrite = (method: string) => method !== "GET" && method !== "HEAD";

export function allowNetworks(networks: readonly string[]): MiddlewareHandler<ApiEnv> {
  const allowed = networks.map(parseCidr);
  return async (c, next) => {
    const address = parseIp(clientAddressOf(c.env));
    if (!address || !allowed.some((n) => cidrContains(n, address))) {
      throw new ApiError(403, "forbidden: client address not in api.allowed_networks");
    }
    await next();
  };
}

export interface WriteAccess {
  token: string | undefined;
  readOnly: boolean;
}

export function guardWrites(access: WriteAccess): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (isWrite(c.req.method)) {
      if (access.readOnly) throw new ApiError(403, "the API is read-only (api.read_only: true)");
      if (access.token !== undefined && !bearerMatches(c.req.header("authorization"), access.token)) {
        c.header("WWW-Authenticate", 'Bearer realm="vigil"');
        throw new ApiError(401, "unauthorized: send Authorization: Bearer <api.token>");
      }
    }
    await next();
  };
}

/** Compares digests, so neither the token's content nor its length shows in the timing. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(.+)$/i.exec(header ?? "")?.[1]?.trim() ?? "";
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(presented), digest(token));
}

/** The client's address as the server saw it; "::ffff:127.0.0.1" (v4 on a dual-stack socket) → "127.0.0.1". */
export function clientAddressOf(env: ApiEnv["Bindings"] | undefined): string {
  const address = env?.clientAddress ?? "";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}
