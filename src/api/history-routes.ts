// What happened: health events (paged, oldest first or newest first) and the audit trail of writes.

import { Hono, type Context } from "hono";
import type { ApiDeps, ApiEnv } from "./app.ts";
import { badField } from "./errors.ts";
import { presentAudit, presentEvent } from "./present.ts";
import { findService } from "./services.ts";

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

export function historyRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  // ?since=ISO&service=NAME&limit=N, then &after=ID from "next"; ?order=desc for newest first (&before=ID).
  app.get("/api/v1/events", (c) => {
    const limit = intQuery(c, "limit", 1, MAX_LIMIT) ?? DEFAULT_LIMIT;
    const order = c.req.query("order") ?? "asc";
    if (order !== "asc" && order !== "desc") throw badField("order", 'expected "asc" or "desc"');
    const serviceName = c.req.query("service");
    const service = serviceName === undefined ? undefined : findService(deps.services(), serviceName).fqdn;
    const since = sinceQuery(c);
    const events =
      order === "desc"
        ? deps.history.events({ service, sinceMs: since, newestFirst: { beforeId: intQuery(c, "before", 1) }, limit })
        : deps.history.events({ service, sinceMs: since, afterId: intQuery(c, "after", 0), limit });
    const last = events.at(-1)?.id;
    const next = events.length === limit && last !== undefined ? nextPage(c, order === "desc" ? "before" : "after", last) : null;
    return c.json({ events: events.map(presentEvent), next });
  });

  app.get("/api/v1/audit", (c) => {
    const limit = intQuery(c, "limit", 1, MAX_LIMIT) ?? DEFAULT_LIMIT;
    const entries = deps.audit.entries({ beforeId: intQuery(c, "before", 1), limit });
    const last = entries.at(-1)?.id;
    return c.json({
      entries: entries.map(presentAudit),
      next: entries.length === limit && last !== undefined ? nextPage(c, "before", last) : null,
    });
  });

  return app;
}

function intQuery(c: Context, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const text = c.req.query(name);
  if (text === undefined) return undefined;
  const value = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw badField(name, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(text.slice(0, 40))}`);
  return value;
}

/** ?since= takes an ISO 8601 time or ms since the epoch. */
function sinceQuery(c: Context): number | undefined {
  const text = c.req.query("since");
  if (text === undefined) return undefined;
  const ms = /^\d{1,15}$/.test(text) ? Number(text) : /^\d{4}-\d\d-\d\d/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) throw badField("since", `expected an ISO 8601 time or ms since the epoch, got ${JSON.stringify(text.slice(0, 40))}`);
  return ms;
}

function nextPage(c: Context, key: string, id: number): string {
  const url = new URL(c.req.url);
  url.searchParams.set(key, String(id));
  return `${url.pathname}${url.search}`;
}
