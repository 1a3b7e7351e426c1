// The status dashboard in a real browser: Debian's chromium driven by playwright-core (never a
// downloaded browser). First against a small fake API (the views the binary can't show here: several
// DNSSEC zones, cluster members, an API that goes away and comes back), then on the compiled binary:
// a killed backend shows down, an override set through the page takes the address out of DNS.
// Every wait is on a condition, with a bound. The browser may only talk to loopback.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Hono } from "hono";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { dashboardRoutes } from "../../src/api/dashboard/routes.ts";
import { BackendProcess } from "../helpers/backend-process.ts";
import { dig } from "../helpers/dig.ts";
import { VigilProcess } from "../helpers/vigil-process.ts";
import { waitFor } from "../helpers/wait.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = resolve(import.meta.dir, "../../test-artifacts");
const TOKEN = "dashboard-e2e-token";
/** The page polls every 2 s: a change shows within one poll and a bit. */
const SHOWS_WITHIN_MS = 5000;

let profile: string;
let browser: BrowserContext;
/** Anything the page tried that a self-contained page on loopback must not: off-host requests, CSP refusals, script errors. */
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the dashboard test drives Debian's chromium. Install it with \`apt-get install chromium\` (CI does).`);
  }
  profile = mkdtempSync(join(tmpdir(), "vigil-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  await browser.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.protocol === "data:") return route.continue();
    problems.push(`request off loopback: ${url.href}`);
    return route.abort();
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function open(url: string): Promise<Page> {
  const page = await browser.newPage();
  page.on("pageerror", (err) => problems.push(`script error: ${err.message}`));
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  const response = await page.goto(url);
  if (response?.status() !== 200 || !response.headers()["content-type"]?.startsWith("text/html")) {
    throw new Error(`${url} answered ${response?.status()} ${response?.headers()["content-type"]}, not the dashboard: is dashboardRoutes() mounted in buildApi, and dist/vigil rebuilt (npm run build)?`);
  }
  return page;
}

const row = (page: Page, address: string) => page.locator(`tr.backend[data-address="${address}"]`);
/** Waits until a backend's row shows this state (the badge's text and its data-state agree). */
async function showsState(page: Page, address: string, state: string, timeout = SHOWS_WITHIN_MS): Promise<void> {
  await page.locator(`tr.backend[data-address="${address}"][data-state="${state}"] .badge`).filter({ hasText: state }).waitFor({ timeout });
}
const shows = (page: Page, selector: string, text: string | RegExp, timeout = SHOWS_WITHIN_MS) =>
  page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout });

describe("dashboard against a fake API", () => {
  const now = Date.now();
  const state = { dnssec: true, lastAuthorization: "" };
  const backend = (address: string, up: boolean) => ({
    service: "app.one.test",
    address,
    port: 80,
    state: up ? "up" : "down",
    reason: up ? "probe: HTTP 200 from /health" : "probe: connection refused",
    since: new Date(now - 90_000).toISOString(),
    verdict: up ? "up" : "down",
    last_probe: "HTTP 200",
    watched: true,
    held_out_until: null,
    recent_changes: 0,
    override: up ? null : { healthy: false, reason: "<b>maintenance</b>", created_at: new Date(now).toISOString(), expires_at: null },
  });
  const zone = (name: string) => ({
    zone: name,
    ds_records: [{ key_tag: 4242, algorithm: 13, digest_type: 2, digest: "AB12", ds_record: `${name}. 3600 IN DS 4242 13 2 AB12` }],
  });
  const fake = new Hono();
  fake.route("/", dashboardRoutes());
  fake.get("/api/v1/services", (c) =>
    c.json({ services: [{ name: "app", fqdn: "app.one.test", zone: "one.test", policy: "roundrobin", ttl: 30, backends: [backend("192.0.2.1", true), backend("192.0.2.2", false)] }] }),
  );
  fake.get("/api/v1/events", (c) =>
    c.json({ events: [{ id: 1, at: new Date(now).toISOString(), service: "app.one.test", address: "192.0.2.2", port: 80, from: "up", to: "down", reason: "override: maintenance", detail: "" }], next: null }),
  );
  fake.get("/api/v1/dnssec/ds", (c) => (state.dnssec ? c.json([zone("one.test"), zone("two.test")]) : c.json({ error: "DNSSEC is off" }, 404)));
  fake.get("/api/v1/cluster/members", (c) => c.json({ members: [{ name: "node-b", address: "127.0.0.9:7946", state: "suspect", incarnation: 3 }] }));
  fake.put("/api/v1/overrides/:service/:address", (c) => {
    state.lastAuthorization = c.req.header("authorization") ?? "";
    return c.json({ error: "the API is read-only (api.read_only: true)" }, 403);
  });
  let server: Bun.Server<undefined>;
  let port: number;
  let page: Page;

  beforeAll(async () => {
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: fake.fetch });
    port = server.port!;
    page = await open(`http://127.0.0.1:${port}/`);
  });
  afterAll(async () => {
    await page?.close();
    server.stop(true);
  });

  test("shows backends, overrides as text, events, several DNSSEC zones and cluster members", async () => {
    await showsState(page, "192.0.2.1", "up");
    await showsState(page, "192.0.2.2", "down");
    expect(await row(page, "192.0.2.2").locator("td.override").textContent()).toBe("forced down: <b>maintenance</b>");
    expect(await row(page, "192.0.2.2").locator("b").count()).toBe(0);
    expect(await row(page, "192.0.2.1").getByRole("button", { name: "clear override" }).isVisible()).toBe(false);
    await shows(page, "#events tr", /192\.0\.2\.2:80.*down/);
    await shows(page, "#dnssec .ds", "one.test. 3600 IN DS 4242 13 2 AB12");
    await shows(page, "#dnssec .ds", "two.test. 3600 IN DS 4242 13 2 AB12");
    await shows(page, "#members tr", /node-b.*suspect.*3/);
    expect(await page.locator("#cluster-section").isVisible()).toBe(true);
    await shows(page, "#updated", /^last updated /);
  });

  test("a refused write shows the API's error, and the token goes along as a bearer token", async () => {
    await page.fill("#token", "fake-token");
    await row(page, "192.0.2.1").getByRole("textbox").fill("drain for patching");
    await row(page, "192.0.2.1").getByRole("button", { name: "mark down" }).click();
    await shows(page, "#notice.error", "mark down 192.0.2.1 in app.one.test: HTTP 403: the API is read-only (api.read_only: true)");
    expect(state.lastAuthorization).toBe("Bearer fake-token");
    expect(await page.evaluate(() => sessionStorage.getItem("vigil.token"))).toBe("fake-token");
  });

  test("an unreachable API raises the banner, which goes when it answers again; DNSSEC off is said so", async () => {
    server.stop(true);
    await shows(page, "#banner", "can't be reached");
    state.dnssec = false;
    server = Bun.serve({ hostname: "127.0.0.1", port, fetch: fake.fetch });
    await page.locator("#banner").waitFor({ state: "hidden", timeout: SHOWS_WITHIN_MS });
    await shows(page, "#dnssec", "DNSSEC off");
    expect(problems).toEqual([]);
  });
});

describe("dashboard on the compiled binary", () => {
  const INTERVAL_MS = 1000;
  const killed = new BackendProcess("http", "127.0.0.12");
  const forced = new BackendProcess("http", "127.0.0.13");
  let vigil: VigilProcess;
  let dnsPort: number;
  let page: Page;

  const config = (dir: string) => `
mode: standalone
identity: { node_id: e2e-dashboard }
dns:
  listen_address: "127.0.0.1:0"
  zones: [dash.test]
  nameservers: [{ name: ns1.dash.test, addresses: [127.0.0.1] }]
data_dir: ${dir}/data
api: { address: "127.0.0.1:0", token: "${TOKEN}" }
metrics: { address: "127.0.0.1:0" }
logging: { level: info, format: json }
services:
  - name: app
    ttl: 1
    when_all_down: fail_closed
    flap_damping: { max_changes: 0 }
    health_check: { type: http, path: /health, interval: ${INTERVAL_MS}ms, timeout: 400ms, failure_threshold: 1, success_threshold: 1 }
    backends:
      - { address: ${killed.address}, port: ${killed.port} }
      - { address: ${forced.address}, port: ${forced.port} }
`;
  const answer = async () => (await dig("127.0.0.1", dnsPort, ["+short", "A", "app.dash.test"])).text.trim().split("\n").filter(Boolean).sort();

  beforeAll(async () => {
    await killed.start();
    await forced.start();
    vigil = await VigilProcess.start(config);
    dnsPort = await vigil.dnsPort();
    const api = String((await vigil.waitForLog((l) => l.msg === "vigil started")).api);
    await vigil.waitForLog((l) => l.msg === "ready: first probe round done");
    page = await open(`http://${api}/`);
  }, 20_000);

  afterAll(async () => {
    await page?.close();
    await vigil?.stop();
    await killed.kill();
    await forced.kill();
  });

  test("shows both backends up, then the killed one down with the probe's reason", async () => {
    await showsState(page, killed.address, "up");
    await showsState(page, forced.address, "up");
    await killed.kill();
    await showsState(page, killed.address, "down", INTERVAL_MS * 2 + SHOWS_WITHIN_MS);
    expect(await row(page, killed.address).locator("td").nth(2).textContent()).toStartWith("probe: ");
    await shows(page, "#events tr", new RegExp(`${killed.address.replaceAll(".", "\\.")}:\\d+.*down`));
    // No gossip here: /api/v1/cluster/members answers 404, and the section stays hidden.
    expect(await page.locator("#cluster-section").isVisible()).toBe(false);
  }, 20_000);

  test("an override set through the page takes the address out of DNS, and clearing it brings it back", async () => {
    const forcedRow = row(page, forced.address);
    await forcedRow.getByRole("textbox").fill("e2e: maintenance window");
    // Without the token the API refuses, and the page says why.
    await forcedRow.getByRole("button", { name: "mark down" }).click();
    await shows(page, "#notice.error", "unauthorized");

    await page.fill("#token", TOKEN);
    await forcedRow.getByRole("textbox").fill("e2e: maintenance window");
    await forcedRow.getByRole("button", { name: "mark down" }).click();
    await shows(page, "#notice.ok", `mark down ${forced.address} in app.dash.test: done`);
    await shows(page, `tr.backend[data-address="${forced.address}"] td.override`, "forced down: e2e: maintenance window");
    await showsState(page, forced.address, "down");
    await waitFor(`${forced.address} to leave the answer`, async () => !(await answer()).includes(forced.address), 5000, 50);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });

    await forcedRow.getByRole("button", { name: "clear override" }).click();
    await shows(page, "#notice.ok", `clear override on ${forced.address} in app.dash.test: done`);
    await forcedRow.getByRole("button", { name: "clear override" }).waitFor({ state: "hidden", timeout: SHOWS_WITHIN_MS });
    expect(await forcedRow.locator("td.override").textContent()).toBe("");
    await waitFor(`${forced.address} to return to the answer`, async () => (await answer()).includes(forced.address), 5000, 50);
    await showsState(page, forced.address, "up");
    expect(problems).toEqual([]);
  }, 30_000);
});
