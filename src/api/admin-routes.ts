// The node itself: its config (secrets redacted), a reload (the same as SIGHUP), and what it would
// answer a client now, with why.

import { Hono } from "hono";
import type { ApiDeps, ApiEnv } from "./app.ts";
import { badField } from "./errors.ts";
import { parseIp } from "../lib/cidr.ts";
import { presentBackend } from "./present.ts";

// A field whose name says it holds a secret: api.token, gossip.encryption_key, any *_password...
const SECRET_FIELD = /(^|_)(token|key|secret|password|passphrase)$/i;

export function adminRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get("/api/v1/config", (c) => c.json(redact(deps.config())));

  app.post("/api/v1/reload", async (c) => {
    c.set("audit", "reload");
    const outcome = await deps.reload();
    return outcome.ok ? c.json({ ok: true }) : c.json({ ok: false, error: outcome.error }, 422);
  });

  app.get("/api/v1/resolve", (c) => {
    const name = c.req.query("name");
    if (!name || name.length > 253 || !/^[A-Za-z0-9_.*-]+\.?$/.test(name)) throw badField("name", "expected a domain name");
    const type = (c.req.query("type") ?? "A").toUpperCase();
    if (!deps.isKnownType(type)) throw badField("type", `unknown record type ${JSON.stringify(type.slice(0, 20))}`);
    const client = c.req.query("client") ?? "127.0.0.1";
    if (!parseIp(client)) throw badField("client", "expected an IPv4 or IPv6 address");
    const answer = deps.resolve({ name, type, client });
    // Why: every service the answer passed through, its policy and each backend's state.
    const owners = new Set([name, ...answer.answers.map((r) => r.name)].map((n) => n.toLowerCase().replace(/\.$/, "")));
    const answered = new Set(answer.answers.filter((r) => r.type === "A" || r.type === "AAAA").map((r) => r.data));
    const backends = deps.health.view();
    const services = deps.services().filter((s) => owners.has(s.fqdn)).map((s) => ({
      fqdn: s.fqdn,
      policy: s.policy,
      when_all_down: s.when_all_down,
      max_answers: s.max_answers,
      backends: backends
        .filter((b) => b.service === s.fqdn)
        .map((b) => ({ ...presentBackend(b), in_answer: answered.has(b.address) })),
    }));
    return c.json({ query: { name, type, client }, ...answer, services });
  });

  return app;
}

/** A copy with every secret-named string replaced, however deep it sits. */
export function redact(value: unknown, key = ""): unknown {
  if (typeof value === "string") return SECRET_FIELD.test(key) && value !== "" ? "<redacted>" : value;
  if (Array.isArray(value)) return value.map((item) => redact(item, key));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}
