import { afterEach, describe, expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { tcpProbe } from "../../src/checks/probes/tcp.ts";
import type { Probe, ProbeResult } from "../../src/checks/types.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { createLogger } from "../../src/lib/log.ts";
import { PingCheck, type PingSettings } from "../../src/lb/ping-check.ts";
import { Pool } from "../../src/lb/pool.ts";
import { closedTcpPort } from "../checks/probes/loopback.ts";
import { waitFor } from "../helpers/wait.ts";

const SETTINGS: PingSettings = { kind: "ping", interval: 1_000, timeout: 500, fails: 2, passes: 2 };

/** A TCP listener on a fixed loopback port that can go away and come back, counting connections. */
function backend(port = 0) {
  const state = { accepted: 0, listener: undefined as TCPSocketListener | undefined, port };
  const up = () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: state.port, socket: { open: () => void state.accepted++, data() {} } });
    state.listener = listener;
    state.port = listener.port;
  };
  up();
  listeners.push(() => state.listener?.stop(true));
  return Object.assign(state, { up, down: () => (state.listener?.stop(true), (state.listener = undefined)) });
}
const listeners: (() => void)[] = [];
const checks: PingCheck[] = [];
afterEach(() => {
  for (const c of checks.splice(0)) c.stop();
  for (const stop of listeners.splice(0)) stop();
});

/** The real tcp probe, with every result it gives kept in order. */
function seenProbe() {
  const results: (ProbeResult & { key: string })[] = [];
  const probe: Probe = async (target, signal) => {
    const result = await tcpProbe(target, signal);
    results.push({ ...result, key: target.key });
    return result;
  };
  return { probe, results };
}

function setup(ports: number[], settings: PingSettings = SETTINGS) {
  const clock = new ManualClock();
  const lines: { level: string; msg: string; backend: string }[] = [];
  const log = createLogger({ level: "info", format: "json" }, { write: (line) => lines.push(JSON.parse(line)) });
  const pool = new Pool("roundrobin", clock);
  const { probe, results } = seenProbe();
  const check = new PingCheck(settings, pool, clock, log, probe);
  checks.push(check);
  pool.setTargets(ports.map((port) => ({ address: "127.0.0.1", port, weight: 1 })));
  check.membersChanged();
  const healthy = () => Object.fromEntries(pool.members().map((m) => [m.target.port, m.healthy]));
  /** Moves to the next round of pings and waits for all of them. */
  const round = async (count = pool.members().length) => {
    const before = results.length;
    clock.advance(clock.nextTimerDue()! - clock.now());
    await waitFor("the round's pings", () => results.length === before + count);
  };
  return { clock, pool, check, results, lines, healthy, round };
}

describe("ping check", () => {
  test("`fails` failures in a row hold a member out of elections; `passes` successes let it back", async () => {
    const live = backend();
    const flaky = backend();
    const { pool, healthy, round, lines, results } = setup([live.port, flaky.port]);
    await round();
    expect(results.map((r) => r.status)).toEqual(["up", "up"]);
    flaky.down();
    await round();
    expect(healthy()).toEqual({ [live.port]: true, [flaky.port]: true });
    await round();
    expect(healthy()).toEqual({ [live.port]: true, [flaky.port]: false });
    expect(new Set([1, 2, 3, 4].map(() => pool.elect("127.0.0.1")?.target.port))).toEqual(new Set([live.port]));
    expect(lines).toEqual([expect.objectContaining({ level: "warn", msg: "lb backend held out: ping check fails", backend: `127.0.0.1:${flaky.port}` })]);

    flaky.up();
    await round();
    expect(healthy()[flaky.port]).toBe(false);
    await round();
    expect(healthy()[flaky.port]).toBe(true);
    expect(lines.at(-1)).toMatchObject({ level: "info", msg: "lb backend back in: ping check passes" });
    // One connection per successful ping: rounds 1, 4 and 5.
    await waitFor("the backend to see three pings", () => flaky.accepted === 3);
  });

  test("one success between failures starts the count again", async () => {
    const flaky = backend();
    const { healthy, round } = setup([flaky.port]);
    for (const listening of [false, true, false]) {
      if (listening) flaky.up();
      else flaky.down();
      await round();
    }
    expect(healthy()[flaky.port]).toBe(true);
    await round();
    expect(healthy()[flaky.port]).toBe(false);
  });

  test("a connect not done by the timeout counts as a failure", async () => {
    const live = backend();
    const { clock, healthy, results } = setup([live.port], { ...SETTINGS, fails: 1 });
    // The connect cannot complete before this turn of the event loop ends; the manual clock gets there first.
    clock.advance(0);
    clock.advance(SETTINGS.timeout);
    expect(healthy()[live.port]).toBe(false);
    await waitFor("the aborted probe to settle", () => results.length === 1);
  });

  test("follows the pool's members: a new one is pinged at once, a removed one no more", async () => {
    const a = backend();
    const b = backend();
    const { pool, check, round, clock } = setup([a.port]);
    await round();
    pool.setTargets([{ address: "127.0.0.1", port: b.port, weight: 1 }]);
    check.membersChanged();
    expect(clock.nextTimerDue()).toBe(clock.now());
    await round(1);
    await round(1);
    await waitFor("the new member's two pings", () => b.accepted === 2);
    expect(a.accepted).toBe(1);
  });

  test("a member that is removed and comes back starts afresh, in", async () => {
    const gone = closedTcpPort();
    const { pool, check, healthy, round } = setup([gone], { ...SETTINGS, fails: 1 });
    await round();
    expect(healthy()[gone]).toBe(false);
    pool.setTargets([]);
    check.membersChanged();
    pool.setTargets([{ address: "127.0.0.1", port: gone, weight: 1 }]);
    check.membersChanged();
    expect(healthy()[gone]).toBe(true);
    await round();
    expect(healthy()[gone]).toBe(false);
  });

  test("stop cancels every timer and run", async () => {
    const live = backend();
    const { clock, check } = setup([live.port]);
    clock.advance(0);
    check.stop();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(10_000);
    expect(clock.pendingTimers()).toBe(0);
  });
});
