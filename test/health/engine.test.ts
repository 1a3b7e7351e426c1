import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.ts";
import { HealthBoard } from "../../src/health/board.ts";
import { HealthEngine } from "../../src/health/engine.ts";
import { PeerVerdicts } from "../../src/health/peer-verdicts.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { createLogger } from "../../src/lib/log.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/store.ts";

const SERVICES = (extra = "") => parseConfig(`
dns: { zones: [h.test] }
data_dir: /tmp/unused
services:
  - name: app
${extra}    flap_damping: { max_changes: 4, window: 60s, hold_down: 120s }
    backends: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }, { address: 192.0.2.3 }]
`).services;

const quiet = createLogger({ level: "error", format: "json" }, { write() {} });
const dirs: string[] = [];
const stores: Store[] = [];

function setup(extra = "", dir = mkdtempSync(join(tmpdir(), "vigil-health-")), peers?: PeerVerdicts) {
  dirs.push(dir);
  const store = openStore(dir);
  stores.push(store);
  const clock = new ManualClock();
  const board = new HealthBoard(clock);
  const engine = new HealthEngine({ clock, board, history: store.history, overrides: store.overrides, log: quiet, peers });
  engine.configure(SERVICES(extra), () => true);
  const state = (address: string) => board.snapshot().get("app.h.test", address, 80)?.state;
  return { dir, store, clock, board, engine, state };
}

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("health engine", () => {
  test("state-change listeners hear every change of effective state, and only changes", () => {
    const { engine } = setup();
    const changes: string[] = [];
    const unsubscribe = engine.onStateChange((c) => changes.push(`${c.address}:${c.port} ${c.from}→${c.to}`));
    engine.setVerdict("app.h.test", "192.0.2.1", 80, "up", "HTTP 200");
    engine.setVerdict("app.h.test", "192.0.2.1", 80, "down", "refused");
    engine.setVerdict("app.h.test", "192.0.2.1", 80, "down", "refused again");
    engine.setVerdict("app.h.test", "192.0.2.1", 80, "up", "HTTP 200");
    unsubscribe();
    engine.setVerdict("app.h.test", "192.0.2.1", 80, "down", "refused");
    expect(changes).toEqual(["192.0.2.1:80 up→down", "192.0.2.1:80 down→up"]);
  });

  test("a down verdict takes the backend out, records an event, and saves the state", () => {
    const { engine, state, store } = setup();
    engine.setVerdict("app.h.test", "192.0.2.1", 80, "down", "connect refused");
    expect(state("192.0.2.1")).toBe("down");
    const [event] = store.history.events({ limit: 10 });
    expect(event).toMatchObject({ service: "app.h.test", address: "192.0.2.1", oldState: "up", newState: "down", reason: "probe: connect refused" });
    expect(store.history.savedStates().find((s) => s.address === "192.0.2.1")?.state).toBe("down");
  });

  test("a restart answers from the saved state at once and is ready without a probe round", () => {
    const first = setup();
    for (const a of ["192.0.2.1", "192.0.2.3"]) first.engine.setVerdict("app.h.test", a, 80, "up", "HTTP 200");
    first.engine.setVerdict("app.h.test", "192.0.2.2", 80, "down", "timeout");
    first.store.close();
    const second = setup("", first.dir);
    expect(second.state("192.0.2.2")).toBe("down");
    expect(second.engine.view().find((b) => b.address === "192.0.2.2")!.reason).toBe("saved before restart: probe: timeout");
    expect(second.state("192.0.2.1")).toBe("up");
    expect(second.engine.isReady()).toBe(true);
  });

  test("a backend never checked before the restart still waits for its first probe", () => {
    const first = setup();
    first.engine.setVerdict("app.h.test", "192.0.2.2", 80, "down", "timeout");
    first.store.close();
    expect(setup("", first.dir).engine.isReady()).toBe(false);
  });

  test("with nothing saved it is ready only when every checked backend has a verdict", async () => {
    const { engine } = setup();
    expect(engine.isReady()).toBe(false);
    let ready = false;
    void engine.whenReady().then(() => (ready = true));
    for (const a of ["192.0.2.1", "192.0.2.2"]) engine.setVerdict("app.h.test", a, 80, "up", "HTTP 200");
    await Promise.resolve();
    expect(ready).toBe(false);
    engine.setVerdict("app.h.test", "192.0.2.3", 80, "up", "HTTP 200");
    await Promise.resolve();
    expect(ready).toBe(true);
  });

  test("overrides are stored, win over probes, survive a restart, and expire", () => {
    const { engine, state, clock, dir } = setup();
    engine.setVerdict("app.h.test", "192.0.2.1", 80, "up", "HTTP 200");
    engine.setOverride({ service: "app.h.test", address: "192.0.2.1", healthy: false, reason: "High latency from CloudWatch", createdAt: clock.now(), expiresAt: clock.now() + 60_000 });
    expect(state("192.0.2.1")).toBe("down");
    const restarted = setup("", dir);
    expect(restarted.engine.overrides().map((o) => o.reason)).toEqual(["High latency from CloudWatch"]);
    clock.advance(60_001);
    expect(state("192.0.2.1")).toBe("up");
  });

  test("clearing an override hands the decision back to the probes", () => {
    const { engine, state, clock } = setup();
    engine.setVerdict("app.h.test", "192.0.2.1", 80, "down", "refused");
    engine.setOverride({ service: "app.h.test", address: "192.0.2.1", healthy: true, reason: "known good", createdAt: clock.now() });
    expect(state("192.0.2.1")).toBe("up");
    expect(engine.clearOverride("app.h.test", "192.0.2.1")).toBe(true);
    expect(state("192.0.2.1")).toBe("down");
  });

  test("a flapping backend is held out, then returns when the hold-down ends", () => {
    const { engine, state, clock } = setup();
    const flip = (v: "up" | "down") => {
      engine.setVerdict("app.h.test", "192.0.2.1", 80, v, v === "up" ? "HTTP 200" : "HTTP 503");
      clock.advance(5_000);
    };
    flip("up");
    for (const v of ["down", "up", "down", "up"] as const) flip(v);
    expect(state("192.0.2.1")).toBe("down");
    expect(engine.view().find((b) => b.address === "192.0.2.1")!.reason).toMatch(/^flapping/);
    clock.advance(120_000);
    expect(state("192.0.2.1")).toBe("up");
  });

  test("min_healthy keeps probe-downed backends in and says so in the event", () => {
    const { engine, state, store } = setup("    min_healthy: 2\n");
    for (const a of ["192.0.2.1", "192.0.2.2", "192.0.2.3"]) engine.setVerdict("app.h.test", a, 80, "down", "refused");
    // .1 went first while two others were up; then the floor held the two still in the answer.
    expect(["192.0.2.1", "192.0.2.2", "192.0.2.3"].map(state)).toEqual(["down", "up", "up"]);
    expect(engine.view().find((b) => b.address === "192.0.2.2")!.reason).toBe("kept in by min_healthy (2); probe: refused");
    const events = store.history.events({ limit: 10 });
    expect(events.map((e) => `${e.address} ${e.oldState}->${e.newState}`)).toEqual(["192.0.2.1 up->down", "192.0.2.2 up->up", "192.0.2.3 up->up"]);
    expect(events[1]!.reason).toStartWith("kept in by min_healthy (2)");
  });

  test("a reload keeps the verdicts of backends that stay", () => {
    const { engine, state } = setup();
    engine.setVerdict("app.h.test", "192.0.2.1", 80, "down", "refused");
    engine.configure(SERVICES(), () => true);
    expect(state("192.0.2.1")).toBe("down");
  });

  test("a full disk while recording events does not stop the decision", () => {
    const { engine, state, store } = setup();
    store.db.exec("PRAGMA max_page_count = 1");
    engine.setVerdict("app.h.test", "192.0.2.1", 80, "down", "refused");
    expect(state("192.0.2.1")).toBe("down");
  });
});

describe("min_peers_agree", () => {
  const KEY = "app.h.test|192.0.2.1|80";

  test("own down waits for a peer's agreement; the peer's report takes it out; its going stale keeps the agreed state", () => {
    const peers = new PeerVerdicts(15_000);
    const { engine, clock, state, store } = setup("", undefined, peers);
    engine.setMinPeersAgree(1);
    peers.update("ow-2", [], clock.now());
    engine.peersChanged("ow-2 reported");
    engine.setVerdict("app.h.test", "192.0.2.1", 80, "down", "timeout after 500 ms");
    expect(state("192.0.2.1")).toBe("up");
    expect(engine.view().find((b) => b.address === "192.0.2.1")).toMatchObject({ suspect: true, reason: "suspect: own probe timeout after 500 ms, but 0 of 1 peers agree" });
    expect(engine.ownDownKeys()).toEqual([KEY]);

    peers.update("ow-2", [KEY], clock.now());
    engine.peersChanged("ow-2 reported");
    expect(state("192.0.2.1")).toBe("down");
    expect(engine.view().find((b) => b.address === "192.0.2.1")!.reason).toBe("probe: timeout after 500 ms; confirmed by ow-2");
    // A fresher detail of the same verdict keeps who confirmed it.
    engine.setVerdict("app.h.test", "192.0.2.1", 80, "down", "connect refused");
    expect(engine.view().find((b) => b.address === "192.0.2.1")!.reason).toBe("probe: connect refused; confirmed by ow-2");

    // ow-2 goes quiet: no quorum can form, and the agreed "down" stands (the engine wakes by itself).
    clock.advance(15_001);
    expect(state("192.0.2.1")).toBe("down");
    expect(engine.view().find((b) => b.address === "192.0.2.1")!.reason).toStartWith("no quorum: 0 of 1 peers in reach");
    const events = store.history.events({ limit: 10 }).map((e) => `${e.oldState}->${e.newState} ${e.reason}`);
    expect(events).toContain("up->up suspect: own probe timeout after 500 ms, but 0 of 1 peers agree");
    expect(events).toContain("up->down probe: timeout after 500 ms; confirmed by ow-2");
    expect(events.at(-1)).toStartWith("down->down no quorum: 0 of 1 peers in reach, last agreed state kept");
  });

  test("an isolated node removes nothing on its own: every own verdict down, no peer in reach", () => {
    const peers = new PeerVerdicts(15_000);
    const { engine, state } = setup("", undefined, peers);
    engine.setMinPeersAgree(1);
    for (const address of ["192.0.2.1", "192.0.2.2", "192.0.2.3"]) engine.setVerdict("app.h.test", address, 80, "down", "connect timed out");
    for (const address of ["192.0.2.1", "192.0.2.2", "192.0.2.3"]) expect(state(address)).toBe("up");
    expect(engine.view().every((b) => b.suspect)).toBe(true);
  });

  test("min_peers_agree 0 (standalone) decides alone, whatever peers say", () => {
    const peers = new PeerVerdicts(15_000);
    const { engine, state } = setup("", undefined, peers);
    engine.setVerdict("app.h.test", "192.0.2.1", 80, "down", "refused");
    expect(state("192.0.2.1")).toBe("down");
  });
});

