// The status dashboard as one self-contained page: markup, style and script inline, nothing fetched
// but the API on the same origin. The CSP allows exactly the inline style and script by their
// SHA-256, computed here once, at load, from the very strings the page embeds.

import { createHash } from "node:crypto";
import { SCRIPT } from "./script.ts";
import { STYLE } from "./style.ts";

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vigil status</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>vigil</h1>
  <span id="updated" class="muted">loading…</span>
  <span class="spacer"></span>
  <label>API token <input id="token" type="password" autocomplete="off" placeholder="for overrides" title="kept in this tab only (sessionStorage)"></label>
</header>
<div id="banner" class="banner error" role="alert" hidden></div>
<main>
  <noscript><p>This page needs JavaScript; <code>vigil status</code> shows the same in a terminal.</p></noscript>
  <h2>Services</h2>
  <div id="notice" class="notice" role="status" hidden></div>
  <div id="services"></div>

  <h2>Recent events</h2>
  <div class="card">
    <table>
      <thead><tr><th>at</th><th>service</th><th>backend</th><th>change</th><th>reason</th></tr></thead>
      <tbody id="events"></tbody>
    </table>
  </div>

  <section id="cluster-section" hidden>
    <h2>Cluster members</h2>
    <div class="card">
      <table>
        <thead><tr><th>name</th><th>address</th><th>state</th><th>incarnation</th></tr></thead>
        <tbody id="members"></tbody>
      </table>
    </div>
  </section>

  <h2>DNSSEC DS records</h2>
  <div id="dnssec"></div>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");
