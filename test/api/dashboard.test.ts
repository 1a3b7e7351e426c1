// The dashboard page without a browser: served as HTML with a strict CSP whose hashes are those of the
// very script and style the page inlines; self-contained (nothing but the API on the same origin).
// The page in a real browser: test/e2e/dashboard.test.ts.

import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { dashboardRoutes } from "../../src/api/dashboard/routes.ts";
import { apiHarness } from "./harness.ts";

const page = async () => {
  const response = await dashboardRoutes().request("/");
  return { response, html: await response.text(), csp: response.headers.get("content-security-policy") ?? "" };
};
const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
const directive = (csp: string, name: string) =>
  csp.split(";").map((d) => d.trim().split(/\s+/)).find(([n]) => n === name)?.slice(1) ?? [];
const inline = (html: string, tag: string) => [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map((m) => m[1]!);

describe("GET /", () => {
  test("serves the page as HTML, with a CSP that allows nothing by default", async () => {
    const { response, html, csp } = await page();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(html).toStartWith("<!doctype html>");
    expect(directive(csp, "default-src")).toEqual(["'none'"]);
    expect(directive(csp, "connect-src")).toEqual(["'self'"]);
    expect(directive(csp, "frame-ancestors")).toEqual(["'none'"]);
    expect(csp).not.toContain("unsafe-");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  test("the CSP's hashes are those of the one inline script and the one inline style", async () => {
    const { html, csp } = await page();
    const scripts = inline(html, "script");
    const styles = inline(html, "style");
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    expect(directive(csp, "script-src")).toEqual([sha256(scripts[0]!)]);
    expect(directive(csp, "style-src")).toEqual([sha256(styles[0]!)]);
    // Inline style attributes and event handler attributes would be refused by that CSP.
    expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/i);
  });

  test("is self-contained: no external script, style, font or image, and the script parses", async () => {
    const { html } = await page();
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    expect(html).not.toMatch(/https?:\/\/|@import|url\(/);
    const script = inline(html, "script")[0]!;
    expect(() => new Function(script)).not.toThrow();
    // API data goes into the page as text only.
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  test("served by the API at /, behind api.allowed_networks", async () => {
    const h = apiHarness();
    try {
      expect((await h.call("/")).status).toBe(200);
      expect((await h.call("/", { from: "203.0.113.9" })).status).toBe(403);
    } finally {
      h.close();
    }
  });
});
