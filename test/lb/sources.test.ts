import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import type { ServiceConfig } from "../../src/config/types.ts";
import { HealthBoard } from "../../src/health/board.ts";
import { HealthEngine } from "../../src/health/engine.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { createLogger } from "../../src/lib/log.ts";
import { makeSource } from "../../src/lb/sources/index.ts";
import { HealthServiceView, serviceNamed } from "../../src/lb/sources/service-view.ts";
import type { LbTarget } from "../../src/lb/types.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/store.ts";

const config = parseConfig(`
dns: { zones: [a.test, b.test] }
services:
  - name: app
    zone: a.test
    backends: [{ address: 192.0.2.1, port: 8080, weight: 300 }, { address: 192.0.2.2, port: 8080 }, { address: "2001:db8::3", port: 8443 }]
  - name: app
    zone: b.test
    backends: [{ address: 198.51.100.1 }]
  - name: app.b.test
    zone: a.test
    backends: [{ address: 198.51.100.9 }]
`, { env: {} });

const APP = "app.a.test";
const stores: Store[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function recordingLog() {
  const lines: { level: string; msg: string; service?: string }[] = [];
  const log = createLogger({ level: "debug", format: "json" }, { write: (line) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

/** A real health engine and board, and the view the node builds over them. */
function healthWorld(services: ServiceConfig[] = config.services) {
  const dir = mkdtempSync(join(tmpdir(), "vigil-lb-sources-"));
  dirs.push(dir);
  const store = openStore(dir);
  stores.push(store);
  const clock = new ManualClock();
  const board = new HealthBoard(clock);
  const { log, lines } = recordingLog();
  const engine = new HealthEngine({ clock, board, history: store.history, overrides: store.overrides, log: createLogger({ level: "error", format: "json" }, { write() {} }) });
  engine.configure(services, () => true);
  const view = new HealthServiceView(board);
  view.setServices(services);
  return { clock, engine, view, log, lines };
}

/** Starts a source and keeps every list it offers, as "addr:port/weight" sorted. */
function follow(source: { start(onChange: (t: readonly LbTarget[]) => void): void }) {
  const offers: string[][] = [];
  source.start((targets) => offers.push(targets.map((t) => `${t.address}:${t.port}/${t.weight}`).sort()));
  return offers;
}

describe("static source", () => {
  test("offers the configured list once, weights included", () => {
    const { log } = recordingLog();
    const source = makeSource(
      { kind: "static", backends: [{ address: "127.0.0.1", port: 9000, weight: 2 }, { address: "::1", port: 9001, weight: 1 }] },
      { clock: new ManualClock(), log, services: healthWorld().view },
    );
    const offers = follow(source);
    expect(offers).toEqual([["127.0.0.1:9000/2", "::1:9001/1"]]);
    source.stop();
    expect(offers).toHaveLength(1);
  });
});

describe("service source", () => {
  test("offers the service's backends that are up, and follows each change of effective state at once", () => {
    const { engine, view, log, clock } = healthWorld();
    const source = makeSource({ kind: "service", service: APP }, { clock, log, services: view });
    const offers = follow(source);
    expect(offers).toEqual([["192.0.2.1:8080/300", "192.0.2.2:8080/100", "2001:db8::3:8443/100"]]);

    engine.setVerdict(APP, "192.0.2.2", 8080, "down", "connect refused");
    expect(offers.at(-1)).toEqual(["192.0.2.1:8080/300", "2001:db8::3:8443/100"]);

    // An operator's override and an agent that drains take a backend out just as DNS does.
    engine.setOverride({ service: APP, address: "2001:db8::3", healthy: false, reason: "maintenance", createdAt: clock.now() });
    expect(offers.at(-1)).toEqual(["192.0.2.1:8080/300"]);
    engine.setAgentClaims(new Map([[`${APP}|192.0.2.1|8080`, { claim: "draining", detail: "deploy" }]]), "agents");
    expect(offers.at(-1)).toEqual([]);

    engine.clearOverride(APP, "2001:db8::3");
    engine.setVerdict(APP, "192.0.2.2", 8080, "up", "connected");
    expect(offers.at(-1)).toEqual(["192.0.2.2:8080/100", "2001:db8::3:8443/100"]);
  });

  test("a health change elsewhere, or the same verdict again, offers nothing new", () => {
    const { engine, view, log, clock } = healthWorld();
    const offers = follow(makeSource({ kind: "service", service: APP }, { clock, log, services: view }));
    engine.setVerdict("app.b.test", "198.51.100.1", 80, "down", "refused");
    engine.setVerdict(APP, "192.0.2.1", 8080, "up", "connected");
    view.setServices(config.services);
    expect(offers).toHaveLength(1);
  });

  test("stops following once stopped", () => {
    const { engine, view, log, clock } = healthWorld();
    const source = makeSource({ kind: "service", service: APP }, { clock, log, services: view });
    const offers = follow(source);
    source.stop();
    engine.setVerdict(APP, "192.0.2.1", 8080, "down", "refused");
    expect(offers).toHaveLength(1);
  });

  test("a service that does not exist has no backends, is logged once, and is picked up when it appears", () => {
    const { view, log, lines, clock } = healthWorld();
    const offers = follow(makeSource({ kind: "service", service: "payments" }, { clock, log, services: view }));
    view.setServices(config.services);
    expect(offers).toEqual([[]]);
    expect(lines.filter((l) => l.level === "warn")).toEqual([
      expect.objectContaining({ msg: "lb backends: no service of that name; no backends until one appears", service: "payments" }),
    ]);
    // An agent announces it: the node sets its services again.
    const [announced] = parseConfig(`
dns: { zones: [a.test] }
services: [{ name: payments, backends: [{ address: 192.0.2.50, port: 7000 }] }]
`, { env: {} }).services;
    view.setServices([...config.services, announced!]);
    expect(offers.at(-1)).toEqual(["192.0.2.50:7000/100"]);
    expect(lines.at(-1)).toMatchObject({ level: "info", msg: "lb backends: service found", service: "payments" });
  });
});

describe("service names", () => {
  test("an fqdn, or a name under its zone; case and a trailing dot do not matter", () => {
    expect(serviceNamed(config.services, "APP.a.test.")?.fqdn).toBe("app.a.test");
    expect(serviceNamed(config.services, "app.b.test")?.backends[0]!.address).toBe("198.51.100.1");
  });

  test("a bare name used in several zones picks the first service in order", () => {
    expect(serviceNamed(config.services, "app")?.fqdn).toBe("app.a.test");
  });

  test("an fqdn match wins over a service whose name reads the same", () => {
    // "app.b.test" is both service app in zone b.test and a service named "app.b.test" in zone a.test.
    expect(serviceNamed(config.services, "app.b.test")?.zone).toBe("b.test");
    expect(serviceNamed(config.services, "nothing")).toBeUndefined();
  });
});
