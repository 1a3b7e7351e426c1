// The API over real parts: a store in a temp dir, the health engine, and the DNS pipeline on a
// manual clock, as node.ts wires them, minus the sockets. Tests call app.request().

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApi, type ApiDeps } from "../../src/api/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { ManualClock } from "../../src/lib/clock.ts";
import { createLogger } from "../../src/lib/log.ts";
import { openStore } from "../../src/store/open.ts";
import { HealthBoard } from "../../src/health/board.ts";
import { HealthEngine } from "../../src/health/engine.ts";
import { buildEngine } from "../../src/dns/server/engine.ts";
import { DnsPipeline } from "../../src/dns/server/pipeline.ts";
import { explain, isKnownType } from "../../src/dns/server/explain.ts";

export const TOKEN = "s3cret-token-for-tests";

export const BASE_YAML = `
mode: standalone
dns:
  listen_address: "127.0.0.1:0"
  zones: [gslb.test]
  nameservers: [{ name: ns1.gslb.test, addresses: [192.0.2.53] }]
  dnssec: { enabled: false, security_acknowledgment: "I understand that disabling DNSSEC allows DNS spoofing attacks" }
api: { address: "127.0.0.1:0", token: "${TOKEN}" }
services:
  - name: app
    ttl: 30
    health_check: { type: tcp, interval: 1s, timeout: 500ms }
    backends:
      - { address: 192.0.2.1, port: 80 }
      - { address: 192.0.2.2, port: 80 }
      - { address: "2001:db8::1", port: 80 }
  - name: web
    backends:
      - { address: 198.51.100.1 }
`;

export interface Harness {
  app: ReturnType<typeof buildApi>;
  health: HealthEngine;
  pipeline: DnsPipeline;
  clock: ManualClock;
  config: Config;
  store: ReturnType<typeof openStore>;
  logs: string[];
  reloads: number;
  /** A request from a client address (loopback unless told), with the token when `auth`. */
  call(path: string, init?: RequestInit & { auth?: boolean; from?: string }): Promise<Response>;
  close(): void;
}

export function apiHarness(yaml = BASE_YAML, deps: Partial<ApiDeps> = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), "vigil-api-"));
  const config = parseConfig(`${yaml}\ndata_dir: "${dir}"\n`, { env: {}, source: "test.yaml" });
  const clock = new ManualClock(Date.UTC(2026, 10, 22, 8));
  const store = openStore(dir);
  const logs: string[] = [];
  const log = createLogger({ level: "info", format: "json" }, { write: (line) => logs.push(line) });
  const board = new HealthBoard(clock);
  const health = new HealthEngine({ clock, board, history: store.history, overrides: store.overrides, log });
  health.configure(config.services, (fqdn) => config.services.find((s) => s.fqdn === fqdn)?.health_check !== undefined);
  const pipeline = new DnsPipeline(buildEngine(config, () => 1), board, { clock });
  const harness: Harness = {
    health,
    pipeline,
    clock,
    config,
    store,
    logs,
    reloads: 0,
    app: buildApi({
      allowedNetworks: config.api.allowed_networks,
      access: { token: config.api.token, readOnly: config.api.read_only },
      version: "test",
      now: () => clock.now(),
      log,
      health,
      history: store.history,
      audit: store.audit,
      services: () => config.services,
      probeStats: () => ({ targets: 3 }),
      config: () => config,
      reload: async () => {
        harness.reloads++;
        return { ok: true };
      },
      resolve: (question) => explain(pipeline, question),
      isKnownType,
      ...deps,
    }),
    call(path, { auth, from = "127.0.0.1", headers, ...init } = {}) {
      const all = new Headers(headers);
      if (auth) all.set("authorization", `Bearer ${TOKEN}`);
      if (init.body !== undefined && !all.has("content-type")) all.set("content-type", "application/json");
      return Promise.resolve(harness.app.request(path, { ...init, headers: all }, { clientAddress: from }));
    },
    close() {
      pipeline.close();
      health.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
