// The L4 balancer's servers and counters:
//   GET    /api/v1/lb/servers          config and API-made servers, each with its origin and live stats
//   POST   /api/v1/lb/servers          one server, as a YAML lb.servers item in JSON; 201
//   DELETE /api/v1/lb/servers/{name}   an API-made server (a config one: 409, edit the file)
//   GET    /api/v1/lb/stats            every server's counters, draining ones included
// A POST body is read by the same schema node as the YAML item, so it is held to the same rules.

import { Hono } from "hono";
import { parseLbServer } from "../config/lb-plain.ts";
import type { SchemaNode } from "../config/nodes.ts";
import { lbServer } from "../config/schema-lb.ts";
import type { LbServerConfig } from "../config/types.ts";
import type { LbServerStats } from "../lb/types.ts";
import { ConfigErrors } from "../lib/errors.ts";
import { formatHostPort } from "../lib/hostport.ts";
import type { ApiEnv } from "./app.ts";
import { readJsonObject } from "./body.ts";
import { ApiError, badField, notFound } from "./errors.ts";
import type { LbApiServers } from "./lb-api-servers.ts";
import type { RouteDoc } from "./openapi.ts";

/** The running balancer, as the API needs it; the node's wiring implements it. */
export interface LbControl {
  /** The servers running now (not those draining), from the config file and from the API. */
  servers(): readonly { config: LbServerConfig; origin: "config" | "api" }[];
  /** Every server's live counters, draining ones included. */
  stats(): readonly LbServerStats[];
  /**
   * Starts an API-made server and resolves once it accepts clients. When it cannot start (bind in
   * use, certificate unreadable) it rejects with an Error saying why, and leaves nothing running.
   * Never called with a name servers() has.
   */
  add(config: LbServerConfig): Promise<void>;
  /** Stops an API-made server: it accepts no more clients at once; open ones drain. False when no API-made server has the name. */
  remove(name: string): Promise<boolean>;
}

/** POST's body for /openapi.json, read off the schema so the two cannot drift apart. */
export const LB_SERVER_BODY: NonNullable<RouteDoc["body"]> = Object.fromEntries(
  Object.entries(lbServer.fields).map(([key, node]) => [key, { type: jsonType(node), description: node.doc ?? "", ...(node.required && { required: true }) }]),
);

function jsonType(node: SchemaNode): string {
  if (node.kind === "list") return "array";
  if (node.kind !== "scalar") return "object";
  return /^(integer|number|boolean)/.exec(node.type)?.[1] ?? "string";
}

/** Deeper than any server config nests; deeper bodies are refused before the walk recurses into them. */
const MAX_DEPTH = 16;

export function lbRoutes(lb: LbApiServers | undefined): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const need = () => lb ?? (() => { throw notFound("this node runs no load balancer"); })();

  app.get("/api/v1/lb/servers", (c) => c.json({ servers: need().list() }));

  app.post("/api/v1/lb/servers", async (c) => {
    const servers = need();
    await readJsonObject(c); // content type, JSON, an object: refused as every other body is
    const config = readServer(await c.req.json());
    const view = await servers.create(config);
    c.set("audit", `created lb server ${config.name} on ${formatHostPort(config.bind)} (${config.protocol})`);
    return c.json({ server: view }, 201);
  });

  app.delete("/api/v1/lb/servers/:name", async (c) => {
    const name = c.req.param("name");
    await need().remove(name);
    c.set("audit", `deleted lb server ${name}`);
    return c.json({ deleted: name });
  });

  app.get("/api/v1/lb/stats", (c) => c.json({ servers: need().stats() }));

  return app;
}

/** The body as a server config, or a 400 naming the first field at fault and listing every problem. */
function readServer(body: unknown): LbServerConfig {
  if (depthOf(body) > MAX_DEPTH) throw badField("body", `nested deeper than ${MAX_DEPTH} levels`);
  try {
    return parseLbServer(body);
  } catch (err) {
    if (!(err instanceof ConfigErrors)) throw err;
    throw new ApiError(400, err.errors.map((e) => e.message).join("; "), err.errors[0]?.path || "body");
  }
}

/** How deeply value nests, counted no further than one past MAX_DEPTH. */
function depthOf(value: unknown, depth = 0): number {
  if (depth > MAX_DEPTH || value === null || typeof value !== "object") return depth;
  let deepest = depth + 1;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child, depth + 1));
  return deepest;
}
