// The REST API as a hono app built by a function: no port inside, so tests call app.request().
// Every request must come from api.allowed_networks; writes need the token (access.ts) and are
// written to the audit trail, whatever their outcome. Errors are JSON {"error", "field"?}.

import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Config, ServiceConfig } from "../config/types.ts";
import type { Logger } from "../lib/log.ts";
import { errorMessage } from "../lib/errors.ts";
import type { HealthEngine } from "../health/engine.ts";
import type { HealthHistory } from "../store/health-history.ts";
import type { Audit } from "../store/audit.ts";
import { DiskFullError } from "../store/disk-full.ts";
import type { Explained, Question } from "../dns/server/explain.ts";
import { allowNetworks, clientAddressOf, guardWrites, isWrite, type WriteAccess } from "./access.ts";
import { ApiError } from "./errors.ts";
import { healthRoutes } from "./health-routes.ts";
import { overrideRoutes } from "./override-routes.ts";
import { historyRoutes } from "./history-routes.ts";
import { adminRoutes } from "./admin-routes.ts";
import { lbRoutes } from "./lb-routes.ts";
import type { LbApiServers } from "./lb-api-servers.ts";
import { openApiDocument } from "./openapi.ts";
import { dashboardRoutes } from "./dashboard/routes.ts";

export interface ApiEnv {
  Bindings: { clientAddress?: string };
  /** audit: what a write did, in a line, for the audit trail. */
  Variables: { audit: string };
}

export const BODY_LIMIT_BYTES = 64 * 1024;

export interface ApiDeps {
  allowedNetworks: readonly string[];
  access: WriteAccess;
  version: string;
  now(): number;
  log: Logger;
  health: Pick<HealthEngine, "view" | "overrides" | "setOverride" | "clearOverride" | "isReady">;
  history: HealthHistory;
  audit: Audit;
  services(): readonly ServiceConfig[];
  /** The probe scheduler's figures: targets, running, queued, skipped overlaps, start lateness. */
  probeStats(): unknown;
  config(): Config;
  reload(): Promise<{ ok: boolean; error?: string }>;
  resolve(question: Question): Explained;
  isKnownType(type: string): boolean;
  /** The L4 balancer's servers; absent when this node runs no balancer (the lb routes answer 404). */
  lb?: LbApiServers;
  /** More routes (DNSSEC), behind the same access checks. */
  mount?: Hono<ApiEnv>[];
}

export function buildApi(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json({ error: err.message, ...(err.field ? { field: err.field } : {}) }, err.status);
    if (err instanceof DiskFullError) {
      deps.log.error("API write failed: disk full", { error: err.message, route: c.req.path });
      return c.json({ error: `not stored: ${err.message}` }, 507);
    }
    deps.log.error("API route failed", { route: c.req.path, error: errorMessage(err) });
    return c.json({ error: "internal error (logged)" }, 500);
  });

  app.use("*", allowNetworks(deps.allowedNetworks));
  app.use("*", auditWrites(deps));
  app.use("*", bodyLimit({ maxSize: BODY_LIMIT_BYTES, onError: () => { throw new ApiError(413, `body over ${BODY_LIMIT_BYTES} bytes`, "body"); } }));
  app.use("*", guardWrites(deps.access));

  app.route("/", healthRoutes(deps));
  app.route("/", overrideRoutes(deps));
  app.route("/", historyRoutes(deps));
  app.route("/", adminRoutes(deps));
  app.route("/", lbRoutes(deps.lb));
  app.route("/", dashboardRoutes());
  for (const routes of deps.mount ?? []) app.route("/", routes);
  app.get("/api/v1/openapi.json", (c) => c.json(openApiDocument(deps.version)));

  app.notFound((c) => {
    const allowed = methodsFor(app, c.req.path);
    if (allowed.length === 0) return c.json({ error: `no route ${c.req.path}` }, 404);
    c.header("Allow", allowed.join(", "));
    return c.json({ error: `${c.req.method} not allowed on ${c.req.path}; use ${allowed.join(" or ")}` }, 405);
  });
  return app;
}

/** Records each write once it has been answered: who, what, and the status it got. */
function auditWrites(deps: ApiDeps) {
  return async (c: Context<ApiEnv>, next: () => Promise<void>) => {
    await next();
    if (!isWrite(c.req.method)) return;
    const outcome = c.res.status < 400 ? c.get("audit") ?? "" : `refused: ${await errorOf(c.res)}`;
    try {
      deps.audit.record({ at: deps.now(), client: clientAddressOf(c.env), method: c.req.method, route: c.req.path, status: c.res.status, summary: outcome.slice(0, 300) });
    } catch (err) {
      // The write itself stands (or was refused); only its record is missing, which the log says.
      deps.log.error("could not record an API write in the audit trail", { route: c.req.path, error: errorMessage(err) });
    }
  };
}

async function errorOf(response: Response): Promise<string> {
  try {
    return String(((await response.clone().json()) as { error?: unknown }).error ?? response.status);
  } catch {
    return String(response.status);
  }
}

/** The methods some route answers on this path: the difference between 404 and 405. */
function methodsFor(app: Hono<ApiEnv>, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL" || route.path.includes("*")) continue;
    const pattern = new RegExp(`^${route.path.replace(/:[^/]+/g, "[^/]+")}/?$`);
    if (pattern.test(path)) methods.add(route.method);
  }
  return [...methods].sort();
}
