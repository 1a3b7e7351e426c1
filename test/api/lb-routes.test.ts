// /api/v1/lb/*: listing, creating and deleting balancer servers, their counters, and what survives a
// restart. The balancer behind the routes is a small LbControl that really binds each server's
// address on loopback (and counts the clients it accepts), so "cannot bind" and "stops listening"
// are real; the proxying itself is the balancer's own tests' business.

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LbApiServers } from "../../src/api/lb-api-servers.ts";
import type { LbControl } from "../../src/api/lb-routes.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { LbServerConfig } from "../../src/config/types.ts";
import type { LbServerStats } from "../../src/lb/types.ts";
import { createLogger } from "../../src/lib/log.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/store.ts";
import { waitFor } from "../helpers/wait.ts";
import { apiHarness, BASE_YAML, TOKEN, type Harness } from "./harness.ts";

/** Binds each server for real: tcp and tls with Bun.listen, udp with Bun.udpSocket; counts accepted clients. */
class ListeningControl implements LbControl {
  private readonly running = new Map<string, { config: LbServerConfig; origin: "config" | "api"; stop(): void; port: number; accepted: number }>();

  static async start(configServers: readonly LbServerConfig[]): Promise<ListeningControl> {
    const control = new ListeningControl();
    for (const config of configServers) await control.listen(config, "config");
    return control;
  }

  servers() {
    return [...this.running.values()].map(({ config, origin }) => ({ config, origin }));
  }

  stats(): LbServerStats[] {
    return [...this.running.values()].map((r) => ({
      name: r.config.name,
      protocol: r.config.protocol,
      bind: `${r.config.bind.host.includes(":") ? `[${r.config.bind.host}]` : r.config.bind.host}:${r.port}`,
      state: "running",
      active: 0,
      total: r.accepted,
      refused: 0,
      denied: 0,
      errors: 0,
      bytesIn: 0,
      bytesOut: 0,
      backends: [],
    }));
  }

  async add(config: LbServerConfig): Promise<void> {
    if (this.running.has(config.name)) throw new Error(`${config.name} is running already: the API must not ask twice`);
    await this.listen(config, "api");
  }

  async remove(name: string): Promise<boolean> {
    const server = this.running.get(name);
    if (server?.origin !== "api") return false;
    server.stop();
    this.running.delete(name);
    return true;
  }

  close(): void {
    for (const server of this.running.values()) server.stop();
    this.running.clear();
  }

  port(name: string): number {
    return this.running.get(name)!.port;
  }

  private async listen(config: LbServerConfig, origin: "config" | "api"): Promise<void> {
    const entry = { config, origin, accepted: 0, port: 0, stop: () => {} };
    if (config.protocol === "udp") {
      const socket = await Bun.udpSocket({ hostname: config.bind.host, port: config.bind.port });
      Object.assign(entry, { port: socket.port, stop: () => socket.close() });
    } else {
      const listener = Bun.listen({
        hostname: config.bind.host,
        port: config.bind.port,
        socket: { open: () => void entry.accepted++, data() {} },
      });
      Object.assign(entry, { port: listener.port, stop: () => listener.stop(true) });
    }
    this.running.set(config.name, entry);
  }
}

/** A loopback port nothing listens on right now. */
function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

async function connects(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

interface LbFixture {
  h: Harness;
  control: ListeningControl;
  lbStore: Store;
  servers: LbApiServers;
  logs: string[];
  /** Closes listeners and stores, as a shutdown does; the data dir stays. */
  stop(): void;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

const CONFIG_PORT = freePort();
const LB_YAML = `${BASE_YAML}
lb:
  servers:
    - { name: web, bind: "127.0.0.1:${CONFIG_PORT}", service: app }
    - { name: dns, bind: "127.0.0.1:0", protocol: udp, static: ["127.0.0.1:5353"] }
`;

/** The API with the balancer's routes over a real store; `dir` reopens that store, as a restart does. */
async function lbFixture(options: { yaml?: string; dir?: string; readOnly?: boolean } = {}): Promise<LbFixture> {
  const yaml = options.yaml ?? LB_YAML;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "vigil-lb-api-"));
  const configServers = parseConfig(`${yaml}\ndata_dir: /unused\n`, { env: {} }).lb.servers;
  const control = await ListeningControl.start(configServers);
  const lbStore = openStore(dir);
  const logs: string[] = [];
  const log = createLogger({ level: "info", format: "json" }, { write: (line) => logs.push(line) });
  let now = () => 0;
  const servers = new LbApiServers({ control, stored: lbStore.lbServers, now: () => now(), log });
  await servers.restore(configServers);
  const h = apiHarness(yaml, { lb: servers, ...(options.readOnly && { access: { token: TOKEN, readOnly: true } }) });
  now = () => h.clock.now();
  let running = true;
  // As a shutdown does: listeners and store closed (the data dir stays).
  const stop = () => {
    if (running) [h.close, control.close.bind(control), lbStore.close].forEach((close) => close());
    running = false;
  };
  cleanups.push(() => {
    stop();
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  });
  return { h, control, lbStore, servers, logs, stop };
}

const json = async (r: Response) => (await r.json()) as Record<string, any>;
const post = (h: Harness, body: unknown, auth = true) => h.call("/api/v1/lb/servers", { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), auth });
const del = (h: Harness, name: string, auth = true) => h.call(`/api/v1/lb/servers/${name}`, { method: "DELETE", auth });
const names = async (h: Harness) => ((await json(await h.call("/api/v1/lb/servers"))).servers as { name: string }[]).map((s) => s.name);

const API_SERVER = { name: "extra", bind: "127.0.0.1:0", static: ["127.0.0.1:9001 weight=2"], client_idle_timeout: "30s" };

describe("GET /api/v1/lb/servers and /api/v1/lb/stats", () => {
  test("the config's servers with origin, state, config as the YAML writes it, and live stats", async () => {
    const { h } = await lbFixture();
    expect(await connects(CONFIG_PORT)).toBe(true);
    const { servers } = await json(await h.call("/api/v1/lb/servers"));
    expect(servers).toHaveLength(2);
    expect(servers[0]).toMatchObject({
      name: "web",
      origin: "config",
      created_at: null,
      state: "running",
      config: { name: "web", bind: `127.0.0.1:${CONFIG_PORT}`, protocol: "tcp", service: "app", backend_connection_timeout: "5s" },
      stats: { name: "web", bind: `127.0.0.1:${CONFIG_PORT}`, total: 1 },
    });
    expect(servers[1]).toMatchObject({ name: "dns", origin: "config", config: { protocol: "udp", static: ["127.0.0.1:5353 weight=1"], udp: { session_timeout: "30s" } } });
    const stats = await json(await h.call("/api/v1/lb/stats"));
    expect(stats.servers.map((s: LbServerStats) => [s.name, s.protocol, s.total])).toEqual([["web", "tcp", 1], ["dns", "udp", 0]]);
  });

  test("every lb route is 404 on a node without a balancer", async () => {
    const h = apiHarness();
    cleanups.push(() => h.close());
    for (const [method, path] of [["GET", "/api/v1/lb/servers"], ["POST", "/api/v1/lb/servers"], ["DELETE", "/api/v1/lb/servers/web"], ["GET", "/api/v1/lb/stats"]] as const) {
      const r = await h.call(path, { method, auth: true, ...(method === "POST" && { body: JSON.stringify(API_SERVER) }) });
      expect(r.status).toBe(404);
      expect((await json(r)).error).toBe("this node runs no load balancer");
    }
  });
});

describe("POST /api/v1/lb/servers", () => {
  test("creates and starts a server (201), stores it, lists it with origin api, and audits the write", async () => {
    const { h, control, lbStore } = await lbFixture();
    const r = await post(h, API_SERVER);
    expect(r.status).toBe(201);
    const { server } = await json(r);
    expect(server).toMatchObject({
      name: "extra",
      origin: "api",
      created_at: new Date(h.clock.now()).toISOString(),
      state: "running",
      config: { bind: "127.0.0.1:0", static: ["127.0.0.1:9001 weight=2"], client_idle_timeout: "30s", balance: "weight" },
    });
    expect(await connects(control.port("extra"))).toBe(true);
    expect(await names(h)).toEqual(["web", "dns", "extra"]);
    expect(lbStore.lbServers.list()).toEqual([{ name: "extra", config: server.config, createdAt: h.clock.now() }]);
    expect(h.store.audit.entries({ limit: 1 })[0]).toMatchObject({ method: "POST", route: "/api/v1/lb/servers", status: 201, summary: "created lb server extra on 127.0.0.1:0 (tcp)" });
  });

  test("refuses a body the YAML would refuse: 400 naming the field, nothing stored or started", async () => {
    const { h, lbStore, control } = await lbFixture();
    const cases: [unknown, string, string][] = [
      [{ ...API_SERVER, bind: "8080" }, "bind", 'bind: expected host:port, got "8080"'],
      [{ ...API_SERVER, client_idle_timeout: 30 }, "client_idle_timeout", 'client_idle_timeout: expected a duration with a unit (ms, s, m, h or d) such as "5s", got "30"'],
      [{ name: "x", bind: "127.0.0.1:0" }, "service", "service: no backends: give exactly one of service, static or srv"],
      [{ ...API_SERVER, service: "app" }, "static", "static: give only one of service, static or srv (service is set too)"],
      [{ ...API_SERVER, protocol: "tls" }, "tls", "tls: required with protocol tls: the certificates to terminate TLS with"],
      [{ ...API_SERVER, access: { rules: ["deny 10.0.0.0/33"] } }, "access.rules[0]", 'access.rules[0]: expected a CIDR such as "10.0.0.0/8", got "10.0.0.0/33": prefix must be 0 to 32'],
      [{ ...API_SERVER, name: "../x" }, "name", 'name: expected a name of up to 63 letters, digits, "-", "_" and "." (starting with a letter or digit), got "../x"'],
      [{ ...API_SERVER, healty: true }, "healty", "healty: unknown key; known keys here: " + "name, bind, protocol, balance, max_connections, client_idle_timeout, backend_idle_timeout, backend_connection_timeout, connect_retries, proxy_protocol, tls, sni, backends_tls, access, udp, service, static, srv, healthcheck"],
      [{ bind: 5, static: [] }, "name", 'name: required, but not set; bind: expected host:port, got "5"; static: expected at least 1 item, got 0'],
      [[API_SERVER], "body", "body: expected a JSON object"],
      ["{not json", "body", "body: not JSON"],
      [{ ...API_SERVER, access: JSON.parse("[".repeat(40) + "]".repeat(40)) }, "body", "body: nested deeper than 16 levels"],
    ];
    for (const [body, field, error] of cases) {
      const r = await post(h, body);
      expect(r.status).toBe(400);
      const answer = await json(r);
      expect(answer.field).toBe(field);
      expect(answer.error).toStartWith(error);
    }
    expect(lbStore.lbServers.list()).toEqual([]);
    expect(control.servers().map((s) => s.config.name)).toEqual(["web", "dns"]);
  });

  test("content type, size and auth are checked as for every write", async () => {
    const { h, lbStore } = await lbFixture();
    expect((await h.call("/api/v1/lb/servers", { method: "POST", body: JSON.stringify(API_SERVER), auth: true, headers: { "content-type": "text/plain" } })).status).toBe(415);
    expect((await post(h, { ...API_SERVER, name: "x".repeat(70_000) })).status).toBe(413);
    const noToken = await post(h, API_SERVER, false);
    expect(noToken.status).toBe(401);
    expect(lbStore.lbServers.list()).toEqual([]);
    expect(h.store.audit.entries({ limit: 1 })[0]).toMatchObject({ status: 401, route: "/api/v1/lb/servers" });
  });

  test("read_only refuses it with 403", async () => {
    const { h, lbStore } = await lbFixture({ readOnly: true });
    expect((await post(h, API_SERVER)).status).toBe(403);
    expect(lbStore.lbServers.list()).toEqual([]);
  });

  test("a name the config has, a name already made, or a bind another server holds: 409 naming the field", async () => {
    const { h, lbStore } = await lbFixture();
    const configName = await post(h, { ...API_SERVER, name: "web" });
    expect(configName.status).toBe(409);
    expect(await json(configName)).toEqual({ error: "lb server web is in the config file; choose another name", field: "name" });
    expect((await post(h, API_SERVER)).status).toBe(201);
    const again = await post(h, { ...API_SERVER, static: ["127.0.0.1:9009"] });
    expect(again.status).toBe(409);
    expect(await json(again)).toEqual({ error: "lb server extra exists; DELETE it first to replace it", field: "name" });
    const bind = await post(h, { ...API_SERVER, name: "other", bind: `0.0.0.0:${CONFIG_PORT}` });
    expect(bind.status).toBe(409);
    expect(await json(bind)).toEqual({ error: `bind 0.0.0.0:${CONFIG_PORT} (tcp) overlaps lb server web on 127.0.0.1:${CONFIG_PORT}`, field: "bind" });
    // The same port over udp is another socket.
    expect((await post(h, { ...API_SERVER, name: "other", bind: `127.0.0.1:${CONFIG_PORT}`, protocol: "udp" })).status).toBe(201);
    expect(lbStore.lbServers.list().map((s) => s.name)).toEqual(["extra", "other"]);
  });

  test("a server that cannot bind is 422 with the reason, and is neither stored nor listed", async () => {
    const { h, lbStore } = await lbFixture();
    const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    cleanups.push(() => taken.stop(true));
    const r = await post(h, { ...API_SERVER, bind: `127.0.0.1:${taken.port}` });
    expect(r.status).toBe(422);
    expect((await json(r)).error).toStartWith("lb server extra cannot start: ");
    expect(lbStore.lbServers.list()).toEqual([]);
    expect(await names(h)).toEqual(["web", "dns"]);
    // The name is free again.
    expect((await post(h, API_SERVER)).status).toBe(201);
  });

  test("two requests for one name at once: one creates it, the other gets 409", async () => {
    const { h, lbStore } = await lbFixture();
    const statuses = (await Promise.all([post(h, API_SERVER), post(h, { ...API_SERVER, static: ["127.0.0.1:9002"] })])).map((r) => r.status);
    expect(statuses.sort()).toEqual([201, 409]);
    expect(lbStore.lbServers.list()).toHaveLength(1);
  });
});

describe("/openapi.json", () => {
  test("POST's body is the YAML item's keys, name and bind required, each with its meaning", async () => {
    const { h } = await lbFixture();
    const doc = await json(await h.call("/api/v1/openapi.json"));
    const schema = doc.paths["/api/v1/lb/servers"].post.requestBody.content["application/json"].schema;
    expect(Object.keys(schema.properties)).toEqual([
      "name", "bind", "protocol", "balance", "max_connections", "client_idle_timeout", "backend_idle_timeout", "backend_connection_timeout",
      "connect_retries", "proxy_protocol", "tls", "sni", "backends_tls", "access", "udp", "service", "static", "srv", "healthcheck",
    ]);
    expect(schema.required).toEqual(["name", "bind"]);
    expect(schema.properties.max_connections).toEqual({ type: "integer", description: expect.stringContaining("0 = no limit") });
    expect(schema.properties.static.type).toBe("array");
    expect(schema.properties.healthcheck.type).toBe("object");
    expect(doc.paths["/api/v1/lb/servers/{name}"].delete.security).toEqual([{ bearer: [] }]);
  });
});

describe("DELETE /api/v1/lb/servers/{name}", () => {
  test("stops an API-made server and forgets it; a second DELETE is 404", async () => {
    const { h, control, lbStore } = await lbFixture();
    await post(h, API_SERVER);
    const port = control.port("extra");
    const r = await del(h, "extra");
    expect(r.status).toBe(200);
    expect(await json(r)).toEqual({ deleted: "extra" });
    expect(await connects(port)).toBe(false);
    expect(lbStore.lbServers.list()).toEqual([]);
    expect(await names(h)).toEqual(["web", "dns"]);
    expect(h.store.audit.entries({ limit: 1 })[0]).toMatchObject({ method: "DELETE", status: 200, summary: "deleted lb server extra" });
    const again = await del(h, "extra");
    expect(again.status).toBe(404);
    expect((await json(again)).error).toBe("no lb server extra");
  });

  test("a config server is 409 and keeps running; without the token 401", async () => {
    const { h } = await lbFixture();
    const r = await del(h, "web");
    expect(r.status).toBe(409);
    expect((await json(r)).error).toBe("lb server web comes from the config file: remove it from lb.servers there and reload");
    expect(await connects(CONFIG_PORT)).toBe(true);
    await post(h, API_SERVER);
    expect((await del(h, "extra", false)).status).toBe(401);
    expect(await names(h)).toContain("extra");
  });
});

describe("while a server is starting", () => {
  test("its name is taken, it lists as starting, and DELETE is 409 until the start settles", async () => {
    const { h, control, servers } = await lbFixture();
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const add = control.add.bind(control);
    control.add = async (config) => {
      await gate;
      await add(config);
    };
    const creating = post(h, API_SERVER);
    await waitFor("the start to begin", () => servers.list().find((s) => s.name === "extra"));
    expect(servers.list().find((s) => s.name === "extra")!.state).toBe("starting");
    const early = await del(h, "extra");
    expect(early.status).toBe(409);
    expect((await json(early)).error).toBe("lb server extra is still starting; try again in a moment");
    expect((await post(h, API_SERVER)).status).toBe(409);
    release();
    expect((await creating).status).toBe(201);
    expect((await del(h, "extra")).status).toBe(200);
  });
});

describe("after a restart", () => {
  /** A data dir that outlives one fixture, removed after the test. */
  const keptDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-lb-api-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  test("API-made servers start again as they were made; a bind now taken shows stopped with its error and can be deleted", async () => {
    const dir = keptDir();
    const first = await lbFixture({ dir });
    const fixedPort = freePort();
    expect((await post(first.h, API_SERVER)).status).toBe(201);
    expect((await post(first.h, { ...API_SERVER, name: "fixed", bind: `127.0.0.1:${fixedPort}` })).status).toBe(201);
    const before = (await json(await first.h.call("/api/v1/lb/servers"))).servers;
    first.stop();

    // Something else took fixed's port while vigil was down.
    const squatter = Bun.listen({ hostname: "127.0.0.1", port: fixedPort, socket: { data() {} } });
    cleanups.push(() => squatter.stop(true));
    const second = await lbFixture({ dir });
    const after = (await json(await second.h.call("/api/v1/lb/servers"))).servers;
    expect(after.map((s: { name: string; state: string }) => [s.name, s.state])).toEqual([["web", "running"], ["dns", "running"], ["extra", "running"], ["fixed", "stopped"]]);
    expect(after[2].config).toEqual(before[2].config);
    expect(after[2].created_at).toBe(before[2].created_at);
    expect(after[3].error).toBeString();
    expect(second.logs.some((line) => line.includes("lb server made through the API cannot start") && line.includes("fixed"))).toBe(true);
    expect((await del(second.h, "fixed")).status).toBe(200);
    expect(second.lbStore.lbServers.list().map((s) => s.name)).toEqual(["extra"]);
  });

  test("a name (or bind) the config now has is the config's: the API-made server is deleted, with a warning", async () => {
    const dir = keptDir();
    const first = await lbFixture({ dir });
    const port = freePort();
    await post(first.h, { ...API_SERVER, name: "later" });
    await post(first.h, { ...API_SERVER, name: "busy", bind: `127.0.0.1:${port}` });
    await post(first.h, { ...API_SERVER, name: "kept" });
    first.stop();

    const yaml = `${LB_YAML}    - { name: later, bind: "127.0.0.1:0", service: app }\n    - { name: takes-port, bind: "0.0.0.0:${port}", service: app }\n`;
    const second = await lbFixture({ yaml, dir });
    const listed = (await json(await second.h.call("/api/v1/lb/servers"))).servers.map((s: { name: string; origin: string }) => `${s.name} ${s.origin}`);
    expect(listed).toEqual(["web config", "dns config", "later config", "takes-port config", "kept api"]);
    expect(second.lbStore.lbServers.list().map((s) => s.name)).toEqual(["kept"]);
    const warnings = second.logs.filter((line) => line.includes("the config file now has its name or bind"));
    expect(warnings.map((line) => JSON.parse(line).lb_server)).toEqual(["busy", "later"]); // oldest first; made in the same millisecond, by name
  });
});

describe("fuzz", () => {
  let seed = 20261207;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const KEYS = ["name", "bind", "protocol", "balance", "static", "service", "srv", "tls", "udp", "access", "healthcheck", "sni", "__proto__", "constructor", "", "max_connections"];
  const VALUES = [true, null, 0, -1, 1e308, "", "x".repeat(300), "5s", "tcp", "udp", "tls", "127.0.0.1:0", "[::1]:0", "0.0.0.0:0", "app", [], {}, ["127.0.0.1:1"], [1, "a"], { routes: [] }, { certificates: [{}] }, { rules: ["deny x"] }];
  const NAMES = ["a", "b", "web", "dns", "a.b", "%00", "..", "x".repeat(80)];

  function body(): string {
    switch (Math.floor(random() * 4)) {
      case 0: {
        const fields: Record<string, unknown> = { name: pick(NAMES), bind: pick(["127.0.0.1:0", "[::1]:0", "127.0.0.2:0"]), static: ["127.0.0.1:9000"] };
        for (let i = Math.floor(random() * 3); i > 0; i--) fields[pick(KEYS)] = pick(VALUES);
        return JSON.stringify(fields);
      }
      case 1:
        return JSON.stringify(pick(VALUES));
      case 2:
        return `{"name": "${pick(NAMES)}", "bind": ${pick(['"127.0.0.1:0"', "[", "1"])}`;
      default:
        return String.fromCharCode(...Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
    }
  }

  test("1,500 random requests: no 500, JSON errors, and the store holds exactly the API-made servers that run", async () => {
    const { h, control, lbStore } = await lbFixture();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1500; i++) {
      const method = pick(["GET", "POST", "DELETE", "PUT"]);
      const path = pick(["/api/v1/lb/servers", `/api/v1/lb/servers/${encodeURIComponent(pick(NAMES))}`, "/api/v1/lb/stats", "/api/v1/lb/servers/%ff"]);
      const headers: Record<string, string> = { "content-type": pick(["application/json", "application/json; charset=utf-8", "text/plain"]) };
      if (random() < 0.85) headers.authorization = pick([`Bearer ${TOKEN}`, "Bearer nope"]);
      const init: RequestInit = { method, headers, ...(method !== "GET" && { body: body() }) };
      const r = await h.app.request(path, init, { clientAddress: pick(["127.0.0.1", "::1", "10.0.0.1"]) });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      expect(r.status).toBeLessThan(500);
      if (r.status >= 400) expect(typeof (await json(r)).error).toBe("string");
    }
    const apiRunning = control.servers().filter((s) => s.origin === "api").map((s) => s.config.name).sort();
    expect(lbStore.lbServers.list().map((s) => s.name).sort()).toEqual(apiRunning);
    expect(control.servers().filter((s) => s.origin === "config").map((s) => s.config.name)).toEqual(["web", "dns"]);
    expect(lbStore.db.prepare<{ integrity_check: string }>("PRAGMA integrity_check").get()!.integrity_check).toBe("ok");
    for (const status of [200, 201, 400, 401, 403, 404, 405, 409, 415]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
  });
});
