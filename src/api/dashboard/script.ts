// The dashboard's script, inlined into the page (its hash goes into the CSP). Plain DOM code: it polls
// the API every 2 s and writes what it gets with textContent only, never as HTML. Written without
// template literals, so it sits in this one as it is.

export const SCRIPT = `
"use strict";
const POLL_MS = 2000;
const TIMEOUT_MS = 5000;
const TOKEN_KEY = "vigil.token";

const $ = (id) => document.getElementById(id);
let timer = 0;
let polling = false;
let pollAgain = false;
/** The services' shape (names and backends) last drawn: rows are kept while it stays the same. */
let shape = "";
const rows = new Map();
/** Reason texts being typed, by backend, so a redraw never loses them. */
const drafts = new Map();

/** An element with a class and children (strings become text nodes). */
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function ago(iso) {
  if (!iso) return "";
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 90) return seconds + "s ago";
  if (seconds < 90 * 60) return Math.round(seconds / 60) + "m ago";
  if (seconds < 36 * 3600) return Math.round(seconds / 3600) + "h ago";
  return Math.round(seconds / 86400) + "d ago";
}

/** The time of day for today, date and time before that. */
function clock(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  return at.toDateString() === new Date().toDateString() ? at.toLocaleTimeString() : at.toLocaleString();
}

/** GET or write to the API; resolves to {status, body}, rejects only when the API can't be reached. */
async function api(method, path, body) {
  const headers = { accept: "application/json" };
  const token = $("token").value.trim();
  if (method !== "GET" && token) headers.authorization = "Bearer " + token;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw new Error("the vigil API can't be reached (" + err.message + ")");
  }
  let parsed = null;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  return { status: response.status, body: parsed };
}

function errorText(result) {
  const error = result.body && typeof result.body.error === "string" ? result.body.error : "";
  return "HTTP " + result.status + (error ? ": " + error : "");
}

/** The data a view needs, or an Error for the banner when the API answered with a failure. */
async function read(path) {
  const result = await api("GET", path);
  if (result.status !== 200) throw new Error(path + " answered " + errorText(result));
  return result.body;
}

// ---- services and backends ------------------------------------------------------------------

function backendKey(b) {
  return b.service + " " + b.address + " " + b.port;
}

function renderServices(services) {
  const newShape = JSON.stringify(services.map((s) => [s.fqdn, s.backends.map(backendKey)]));
  if (newShape !== shape) {
    shape = newShape;
    rows.clear();
    const box = $("services");
    box.replaceChildren();
    if (services.length === 0) box.append(el("p", "muted", "No services configured."));
    for (const s of services) box.append(serviceCard(s));
  }
  for (const s of services) for (const b of s.backends) updateRow(rows.get(backendKey(b)), b);
}

function serviceCard(s) {
  const head = el("h3", "", s.name + " ", el("small", "", s.fqdn + " · " + s.policy + " · ttl " + s.ttl + "s"));
  const headings = el("tr", "");
  for (const h of ["backend", "state", "reason", "since", "override", "actions"]) headings.append(el("th", "", h));
  const body = el("tbody", "");
  for (const b of s.backends) {
    const row = backendRow(s, b);
    rows.set(backendKey(b), row);
    body.append(row.tr);
  }
  if (s.backends.length === 0) body.append(el("tr", "", el("td", "muted", "no backends")));
  const card = el("section", "card service", head, el("table", "", el("thead", "", headings), body));
  card.dataset.service = s.fqdn;
  return card;
}

function backendRow(s, b) {
  const key = backendKey(b);
  const reason = el("input", "");
  reason.placeholder = "reason";
  reason.maxLength = 500;
  reason.setAttribute("aria-label", "reason for " + b.address);
  reason.value = drafts.get(key) || "";
  reason.addEventListener("input", () => drafts.set(key, reason.value));
  const target = "/api/v1/overrides/" + encodeURIComponent(s.fqdn) + "/" + encodeURIComponent(b.address);
  const send = (what, method, body) => overrideWrite(what + " " + b.address + " in " + s.fqdn, method, target, body, key, reason);
  const markDown = el("button", "", "mark down");
  markDown.addEventListener("click", () => send("mark down", "PUT", { healthy: false, reason: reason.value.trim() }));
  const markUp = el("button", "", "mark up");
  markUp.addEventListener("click", () => send("mark up", "PUT", { healthy: true, reason: reason.value.trim() }));
  const clear = el("button", "", "clear override");
  clear.addEventListener("click", () => send("clear override on", "DELETE", undefined));

  const row = {
    tr: el("tr", "backend"),
    state: el("span", "badge"),
    reason: el("td", ""),
    since: el("td", "since"),
    override: el("td", "override"),
    clear,
  };
  row.tr.dataset.address = b.address;
  row.tr.dataset.port = String(b.port);
  row.tr.append(
    el("td", "mono", b.address + ":" + b.port),
    el("td", "", row.state),
    row.reason,
    row.since,
    row.override,
    el("td", "", el("div", "actions", reason, markDown, markUp, clear)),
  );
  return row;
}

function updateRow(row, b) {
  row.state.textContent = b.state;
  row.state.className = "badge " + (b.state === "up" || b.state === "down" ? b.state : "other");
  row.tr.dataset.state = b.state;
  row.reason.textContent = b.reason || "";
  row.since.textContent = ago(b.since);
  row.since.title = b.since || "";
  const o = b.override;
  row.override.textContent = o
    ? "forced " + (o.healthy ? "up" : "down") + ": " + o.reason + (o.expires_at ? " (until " + clock(o.expires_at) + ")" : "")
    : "";
  row.clear.hidden = !o;
}

async function overrideWrite(what, method, path, body, key, reasonInput) {
  if (body && !body.reason) {
    notice("error", what + ": give a reason");
    reasonInput.focus();
    return;
  }
  let result;
  try {
    result = await api(method, path, body);
  } catch (err) {
    notice("error", what + ": " + err.message);
    return;
  }
  if (result.status === 200) {
    notice("ok", what + ": done");
    if (body) {
      drafts.delete(key);
      reasonInput.value = "";
    }
  } else {
    notice("error", what + ": " + errorText(result));
  }
  refreshNow();
}

function notice(kind, text) {
  const box = $("notice");
  box.className = "notice " + kind;
  box.textContent = text;
  box.hidden = false;
}

// ---- events, DNSSEC, cluster ----------------------------------------------------------------

function renderEvents(events) {
  const body = $("events");
  body.replaceChildren();
  if (events.length === 0) body.append(el("tr", "", el("td", "muted", "no events yet")));
  for (const e of events) {
    const at = el("td", "", clock(e.at));
    at.title = e.at;
    const change = el("td", "", el("span", "badge " + (e.to === "up" || e.to === "down" ? e.to : "other"), e.to), " ", el("small", "", "from " + e.from));
    const reason = el("td", "", e.reason || "");
    if (e.detail) reason.append(el("div", "muted", e.detail));
    body.append(el("tr", "", at, el("td", "", e.service), el("td", "mono", e.address + ":" + e.port), change, reason));
  }
}

function renderDnssec(result) {
  const box = $("dnssec");
  box.replaceChildren();
  if (result.status === 404) {
    box.append(el("p", "muted", "DNSSEC off"));
    return;
  }
  if (result.status !== 200) throw new Error("/api/v1/dnssec/ds answered " + errorText(result));
  const zones = Array.isArray(result.body) ? result.body : [result.body];
  for (const z of zones) {
    const card = el("div", "card", el("h3", "", z.zone));
    if (z.ds_records.length === 0) card.append(el("p", "muted", "no DS yet (keys not loaded)"));
    for (const ds of z.ds_records) {
      card.append(el("div", "mono ds", ds.ds_record));
      card.append(el("div", "muted", "key tag " + ds.key_tag + ", algorithm " + ds.algorithm + ", digest type " + ds.digest_type));
    }
    box.append(card);
  }
}

function renderMembers(result) {
  // The cluster view answers only where gossip runs: otherwise the section stays hidden.
  $("cluster-section").hidden = result.status !== 200;
  if (result.status !== 200) return;
  const body = $("members");
  body.replaceChildren();
  for (const m of result.body.members) {
    const state = el("span", "badge " + (m.state === "alive" ? "up" : m.state === "dead" ? "down" : "other"), m.state);
    body.append(el("tr", "", el("td", "", m.name), el("td", "mono", m.address), el("td", "", state), el("td", "", String(m.incarnation))));
  }
}

// ---- polling ----------------------------------------------------------------------------------

async function refresh() {
  try {
    const [services, events, ds, members] = await Promise.all([
      read("/api/v1/services"),
      read("/api/v1/events?order=desc&limit=20"),
      api("GET", "/api/v1/dnssec/ds"),
      api("GET", "/api/v1/cluster/members"),
    ]);
    renderServices(services.services);
    renderEvents(events.events);
    renderDnssec(ds);
    renderMembers(members);
    $("banner").hidden = true;
    $("updated").textContent = "last updated " + new Date().toLocaleTimeString();
  } catch (err) {
    $("banner").textContent = "Not up to date: " + err.message + ". Retrying every " + POLL_MS / 1000 + " s.";
    $("banner").hidden = false;
  }
}

/** One refresh at a time; a request for another while one runs makes it run again right after. */
async function refreshNow() {
  clearTimeout(timer);
  if (polling) {
    pollAgain = true;
    return;
  }
  polling = true;
  do {
    pollAgain = false;
    await refresh();
  } while (pollAgain);
  polling = false;
  timer = setTimeout(refreshNow, POLL_MS);
}

const tokenInput = $("token");
tokenInput.value = sessionStorage.getItem(TOKEN_KEY) || "";
tokenInput.addEventListener("input", () => sessionStorage.setItem(TOKEN_KEY, tokenInput.value));
refreshNow();
`;
