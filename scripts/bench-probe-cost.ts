// CPU per health check, for one probe kind alone: runs RATE checks a second for SECONDS against the
// backends of scripts/bench/http-backend.ts and prints user and system CPU per check (this process,
// all its threads). Pin it and the backend to different cores:
//
//   taskset -c 1 bun scripts/bench/http-backend.ts 127.0.0.1 21000 1000 &
//   taskset -c 0 bun scripts/bench-probe-cost.ts tcp 1000 10 127.0.0.1 21000 1000
//   taskset -c 0 bun scripts/bench-probe-cost.ts http 1000 10 127.0.0.1 21000 1000
//
// Kind "connect" is a bare Bun.connect closed with a reset at once: the floor under any tcp check.

import type { HealthCheckConfig } from "../src/config/types.ts";
import { httpProbe } from "../src/checks/probes/http.ts";
import { tcpProbe } from "../src/checks/probes/tcp.ts";

const [kind = "", rateText = "", secondsText = "", address = "127.0.0.1", portText = "", countText = "1"] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const firstPort = Number(portText);
const ports = Number(countText);
if (!["tcp", "http", "connect"].includes(kind) || !(rate > 0) || !(seconds > 0) || !(firstPort > 0) || !(ports > 0)) {
  console.error("usage: bench-probe-cost.ts tcp|http|connect RATE SECONDS ADDRESS FIRST_PORT [PORTS]");
  process.exit(2);
}

const timing = { interval: 1000, timeout: 500, failure_threshold: 1, success_threshold: 1 };
const checks: Record<string, HealthCheckConfig> = {
  tcp: { type: "tcp", ...timing },
  http: { type: "http", method: "GET", path: "/health", expect_status: [{ from: 200, to: 399 }], tls_verify: true, ...timing },
};

function check(port: number): Promise<boolean> {
  if (kind === "connect") {
    return new Promise((resolve) => {
      Bun.connect({
        hostname: address,
        port,
        socket: { open: (socket) => (socket.terminate(), resolve(true)), data() {}, connectError: () => resolve(false) },
      }).catch(() => resolve(false));
    });
  }
  const probe = kind === "tcp" ? tcpProbe : httpProbe;
  const target = { key: `${kind}:${port}`, address, port, check: checks[kind]! };
  return probe(target, AbortSignal.timeout(timing.timeout)).then((result) => result.status === "up");
}

const total = Math.round(rate * seconds);
const perTick = rate / 100;
let started = 0;
let finished = 0;
let failed = 0;
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
const ticker = setInterval(() => {
  for (const due = Math.min(total, Math.round(started + perTick)); started < due; started++) {
    void check(firstPort + (started % ports)).then((ok) => {
      finished++;
      if (!ok) failed++;
      if (finished === total) report();
    });
  }
}, 10);

function report(): void {
  clearInterval(ticker);
  const cpu = process.cpuUsage(cpuBefore);
  const wall = (performance.now() - wallBefore) / 1000;
  console.log(
    `${kind}: ${total} checks (${failed} failed) in ${wall.toFixed(1)} s; per check user ${(cpu.user / total).toFixed(1)} us, ` +
      `system ${(cpu.system / total).toFixed(1)} us; ${(((cpu.user + cpu.system) / 1e6 / wall) * 100).toFixed(1)} % of a core`,
  );
  process.exit(failed === 0 ? 0 : 1);
}
