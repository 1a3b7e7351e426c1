// GET / — the status dashboard (page.ts), embedded in the binary. It reads the API from the browser,
// so it shows nothing the API would not, and it writes only overrides, with the token the operator
// types into it.

import { Hono } from "hono";
import type { ApiEnv } from "../app.ts";
import { DASHBOARD_CSP, DASHBOARD_HTML } from "./page.ts";

export function dashboardRoutes(): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get("/", (c) => {
    c.header("Content-Security-Policy", DASHBOARD_CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("X-Frame-Options", "DENY");
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cache-Control", "no-cache");
    return c.body(DASHBOARD_HTML, 200, { "Content-Type": "text/html; charset=utf-8" });
  });
  return app;
}
