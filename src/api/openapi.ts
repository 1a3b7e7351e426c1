// The API's description, served as /api/v1/openapi.json (OpenAPI 3.1). A test holds it and the
// routes the app really has to the same list.

import { LB_SERVER_BODY } from "./lb-routes.ts";

interface Param {
  name: string;
  description: string;
}

export interface RouteDoc {
  method: "get" | "put" | "post" | "delete";
  /** OpenAPI style: /api/v1/overrides/{service}/{address}. */
  path: string;
  summary: string;
  query?: Param[];
  body?: Record<string, { type: string; description: string; required?: boolean }>;
  /** Status codes beside 200 that a client should expect. */
  errors?: number[];
}

const SERVICE_ADDRESS = "/{service}/{address}";

export const ROUTES: readonly RouteDoc[] = [
  { method: "get", path: "/", summary: "The status page (HTML)." },
  { method: "get", path: "/api/v1/health", summary: "Alive: the process answers." },
  { method: "get", path: "/api/v1/ready", summary: "Ready: zones loaded and the first probe round done (503 until then).", errors: [503] },
  { method: "get", path: "/api/v1/services", summary: "Every service with its backends' effective state and reason." },
  { method: "get", path: "/api/v1/backends", summary: "Every backend with its effective state and reason." },
  { method: "get", path: "/api/v1/backends/healthy", summary: "The backends that are up." },
  {
    method: "get",
    path: `/api/v1/backends${SERVICE_ADDRESS}`,
    summary: "One backend address: each input (override, agent claim, own verdict, peers' verdicts) and its recent events.",
    errors: [400, 404],
  },
  { method: "get", path: "/api/v1/overrides", summary: "Every override in force." },
  { method: "get", path: `/api/v1/overrides${SERVICE_ADDRESS}`, summary: "One override.", errors: [404] },
  {
    method: "put",
    path: `/api/v1/overrides${SERVICE_ADDRESS}`,
    summary: "Set an override: the backend counts as healthy or not whatever probes say, until cleared or expired.",
    body: {
      healthy: { type: "boolean", description: "false takes the address out of answers, true keeps it in.", required: true },
      reason: { type: "string", description: "Why, for the events and the audit trail (up to 500 characters).", required: true },
      ttl: { type: "string", description: 'Expire after this long ("30m", "2h"); or give expires_at.' },
      expires_at: { type: "string", description: "Expire at this ISO 8601 time." },
    },
    errors: [400, 401, 403, 404, 413, 415, 507],
  },
  { method: "delete", path: `/api/v1/overrides${SERVICE_ADDRESS}`, summary: "Clear an override.", errors: [401, 403, 404] },
  {
    method: "get",
    path: "/api/v1/events",
    summary: "Health state changes, oldest first (or newest first with order=desc), paged.",
    query: [
      { name: "since", description: "Only events at or after this ISO 8601 time (or ms since the epoch)." },
      { name: "service", description: "Only this service (fqdn or name)." },
      { name: "limit", description: "Page size, 1-1000 (100)." },
      { name: "order", description: "asc (default) or desc." },
      { name: "after", description: "Next page of an asc listing (from next)." },
      { name: "before", description: "Next page of a desc listing (from next)." },
    ],
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/v1/resolve",
    summary: "What vigil would answer a client now, and why, without sending DNS.",
    query: [
      { name: "name", description: "The name to ask for." },
      { name: "type", description: "Record type (A)." },
      { name: "client", description: "The client's address, used as ECS and as the source (127.0.0.1)." },
    ],
    errors: [400],
  },
  { method: "get", path: "/api/v1/config", summary: "The running config, every secret redacted." },
  { method: "post", path: "/api/v1/reload", summary: "Reload the config file (as SIGHUP does); 422 with the error when it is invalid.", errors: [401, 403, 422] },
  {
    method: "get",
    path: "/api/v1/audit",
    summary: "Every write made through the API, newest first, paged.",
    query: [
      { name: "limit", description: "Page size, 1-1000 (100)." },
      { name: "before", description: "Next page (from next)." },
    ],
    errors: [400],
  },
  { method: "get", path: "/api/v1/dnssec/ds", summary: "DS records for the parent zone.", query: [{ name: "zone", description: "One zone of several." }], errors: [404] },
  { method: "get", path: "/api/v1/dnssec/sync/status", summary: "This node's DNSSEC key tags and each peer's last key sync.", errors: [404] },
  { method: "get", path: "/api/v1/dnssec/sync/keyset", summary: "The zones' key sets sealed under api.token, for peer nodes (needs the token).", errors: [401, 404] },
  { method: "get", path: "/api/v1/cluster/members", summary: "Gossip members as this node sees them, and each peer's last verdict report (404 in standalone mode).", errors: [404] },
  { method: "get", path: "/api/v1/agents", summary: "Registered agents: pinned key, services, last heartbeat, stale or not (404 unless overwatch mode).", errors: [404] },
  {
    method: "post",
    path: "/api/v1/agents/{agent_id}/rekey",
    summary: "Let the next new key this agent presents replace its pinned key, once (a reinstalled agent).",
    body: { ttl: { type: "string", description: 'How long the permission lasts ("1h" by default).' } },
    errors: [400, 401, 403, 404],
  },
  { method: "get", path: "/api/v1/lb/servers", summary: "The L4 balancer's servers, from the config file and from the API: origin, state, config and live counters (404 when this node runs no balancer).", errors: [404] },
  {
    method: "post",
    path: "/api/v1/lb/servers",
    summary: "Create a balancer server (201), kept in the database across restarts. The body is one lb.servers item of the config in JSON, durations as strings such as 5s (docs/config.md); 409 for a name or bind already taken, 422 when it cannot start.",
    body: LB_SERVER_BODY,
    errors: [400, 401, 403, 404, 409, 413, 415, 422, 507],
  },
  {
    method: "delete",
    path: "/api/v1/lb/servers/{name}",
    summary: "Delete a server made through the API: it stops accepting at once and its connections drain. A config one: 409 (edit the file).",
    errors: [401, 403, 404, 409],
  },
  { method: "get", path: "/api/v1/lb/stats", summary: "Every balancer server's counters and its backends', draining servers included.", errors: [404] },
  { method: "get", path: "/api/v1/openapi.json", summary: "This description." },
];

export function openApiDocument(version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    const query = (route.query ?? []).map((q) => ({ name: q.name, in: "query", required: false, description: q.description, schema: { type: "string" } }));
    const responses: Record<string, unknown> = { "200": { description: "OK" } };
    for (const code of route.errors ?? []) responses[String(code)] = { description: "An error: {\"error\": \"...\"}" };
    const operation: Record<string, unknown> = { summary: route.summary, parameters: [...params, ...query], responses };
    if (route.method !== "get") operation.security = [{ bearer: [] }];
    if (route.body) {
      const required = Object.entries(route.body).filter(([, f]) => f.required).map(([name]) => name);
      const properties = Object.fromEntries(Object.entries(route.body).map(([name, f]) => [name, { type: f.type, description: f.description }]));
      operation.requestBody = {
        required: true,
        content: { "application/json": { schema: { type: "object", additionalProperties: false, required, properties } } },
      };
    }
    (paths[route.path] ??= {})[route.method] = operation;
  }
  return {
    openapi: "3.1.0",
    info: { title: "vigil API", version },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "api.token; needed for writes when set." } } },
    paths,
  };
}
