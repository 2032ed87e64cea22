// The ddns web page's logic: talks to the REST API (/api/, docs/api.md) and
// renders with DOM calls only (no innerHTML with data), so the strict CSP holds.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const state = { user: null, zones: [], hosts: [] };

  // ------------------------------------------------------------ messages --
  let statusTimer = 0;
  function say(text) {
    $("alert").textContent = "";
    const s = $("status");
    s.textContent = text;
    clearTimeout(statusTimer);
    statusTimer = setTimeout(() => { s.textContent = ""; }, 6000);
  }
  function fail(err) {
    $("alert").textContent = err && err.message ? err.message : String(err);
  }
  function clearAlert() {
    $("alert").textContent = "";
  }

  // ----------------------------------------------------------------- API --
  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }
  async function api(method, path, body) {
    const opts = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      // The API's CSRF rule: cookie-authenticated changes must be JSON.
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body || {});
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      throw new ApiError(0, "The server cannot be reached.");
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const msg = data && data.error ? data.error : `HTTP ${res.status}`;
      if (res.status === 401 && path !== "/api/login") showLogin();
      throw new ApiError(res.status, msg);
    }
    return data || {};
  }

  // -------------------------------------------------------------- helpers --
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k.startsWith("data-")) e.setAttribute(k, v);
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }
  function when(unix) {
    if (!unix) return el("span", { class: "muted", text: "never" });
    const d = new Date(unix * 1000);
    return el("time", { datetime: d.toISOString(), title: d.toISOString(), text: d.toLocaleString() });
  }
  function addrList(list) {
    if (!list || list.length === 0) return el("span", { class: "muted", text: "—" });
    return el("span", { class: "addr", text: list.join(", ") });
  }
  function focusHeading(id) {
    const h = $(id);
    if (h) { h.focus({ preventScroll: false }); h.scrollIntoView({ block: "nearest" }); }
  }
  function busy(form, on) {
    for (const b of form.querySelectorAll("button")) b.disabled = on;
  }

  // ---------------------------------------------------------- sign in/out --
  function showLogin() {
    state.user = null;
    stopDashboard();
    $("app-view").hidden = true;
    $("nav").hidden = true;
    $("login-view").hidden = false;
    $("login-user").focus();
  }
  async function showApp(user) {
    state.user = user;
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    $("nav").hidden = false;
    $("whoami").textContent = user.admin ? `${user.name} (admin)` : user.name;
    $("admin-view").hidden = !user.admin;
    $("owner-col").hidden = !user.admin;
    $("hosts-title").textContent = user.admin ? "All hostnames" : "My hostnames";
    $("password-user").value = user.name;
    await Promise.all([loadZones(), loadHosts(), loadApiTokens()]);
    if (user.admin) await loadUsers();
    $("ops-view").hidden = !user.admin;
    if (user.admin) startDashboard(); else stopDashboard();
  }

  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearAlert();
    const user = $("login-user").value.trim();
    const password = $("login-password").value;
    if (!user || !password) return fail(new Error("Enter your user name and password."));
    busy(ev.target, true);
    try {
      const r = await api("POST", "/api/login", { user, password });
      $("login-password").value = "";
      await showApp(r.user);
      say(`Signed in as ${r.user.name}.`);
      focusHeading("hosts-title");
    } catch (e) {
      fail(e);
      $("login-password").select();
    } finally {
      busy(ev.target, false);
    }
  });

  $("logout").addEventListener("click", async () => {
    try { await api("POST", "/api/logout"); } catch (e) { /* signed out either way */ }
    hidePanels();
    showLogin();
    say("Signed out.");
  });

  // -------------------------------------------------------------- hosts --
  async function loadZones() {
    const r = await api("GET", "/api/zones");
    state.zones = r.zones || [];
    const sel = $("add-host-zone");
    sel.replaceChildren(...state.zones.map((z) => el("option", { value: z.name, text: z.name })));
    sel.disabled = state.zones.length === 0;
    if (state.user && state.user.admin) renderZones();
  }

  async function loadHosts() {
    const all = state.user && state.user.admin ? "?all=1" : "";
    const r = await api("GET", "/api/hosts" + all);
    state.hosts = r.hosts || [];
    renderHosts();
  }

  function renderHosts() {
    const body = $("hosts-body");
    const admin = state.user && state.user.admin;
    body.replaceChildren(...state.hosts.map((h) => {
      const actions = el("div", { class: "actions" },
        el("button", { type: "button", class: "btn btn-small", "data-act": "history", "data-host": h.name,
                       "aria-label": `History of ${h.name}`, text: "History" }),
        el("button", { type: "button", class: "btn btn-small", "data-act": "set", "data-host": h.name,
                       "aria-label": `Set address for ${h.name}`, text: "Set address" }),
        el("button", { type: "button", class: "btn btn-small", "data-act": "token", "data-host": h.name,
                       "aria-label": `New token for ${h.name}`, text: "New token" }),
        el("button", { type: "button", class: "btn btn-small btn-danger", "data-act": "delete", "data-host": h.name,
                       "aria-label": `Delete ${h.name}`, text: "Delete" }));
      return el("tr", { "data-host": h.name },
        el("th", { scope: "row", "data-label": "Hostname" }, el("span", { class: "hostname", text: h.name })),
        el("td", { "data-label": "IPv4", class: "ipv4" }, addrList(h.ipv4)),
        el("td", { "data-label": "IPv6", class: "ipv6" }, addrList(h.ipv6)),
        el("td", { "data-label": "Last update", class: "updated" }, when(h.updated)),
        admin ? el("td", { "data-label": "Owner", text: h.owner }) : null,
        el("td", { class: "actions-cell" }, actions));
    }));
    $("hosts-table").hidden = state.hosts.length === 0;
    $("hosts-empty").hidden = state.hosts.length !== 0;
  }

  $("refresh").addEventListener("click", async () => {
    clearAlert();
    try { await loadHosts(); say("Hostnames refreshed."); } catch (e) { fail(e); }
  });

  $("add-host-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearAlert();
    const zone = $("add-host-zone").value;
    let name = $("add-host-name").value.trim().toLowerCase().replace(/\.$/, "");
    if (!name) return fail(new Error("Enter a name for the new hostname."));
    if (!zone) return fail(new Error("No zone is open for hostnames yet."));
    if (name === zone) return fail(new Error("Give a name inside the zone."));
    if (name.endsWith("." + zone)) name = name.slice(0, -(zone.length + 1));
    busy(ev.target, true);
    try {
      const r = await api("POST", "/api/hosts", { name, zone });
      $("add-host-name").value = "";
      await loadHosts();
      showToken(r.host.name, r.token);
      say(`Added ${r.host.name}.`);
    } catch (e) {
      fail(e);
    } finally {
      busy(ev.target, false);
    }
  });

  $("hosts-body").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-act]");
    if (!b) return;
    const host = b.getAttribute("data-host");
    clearAlert();
    try {
      switch (b.getAttribute("data-act")) {
        case "history": await showHistory(host); break;
        case "set": showSet(host); break;
        case "token":
          if (!window.confirm(`Make a new token for ${host}? The current one stops working at once.`)) return;
          showToken(host, (await api("POST", `/api/hosts/${encodeURIComponent(host)}/token`)).token);
          say(`New token for ${host}.`);
          break;
        case "delete":
          if (!window.confirm(`Delete ${host} and its DNS records?`)) return;
          await api("DELETE", `/api/hosts/${encodeURIComponent(host)}`);
          hidePanels(host);
          await loadHosts();
          if (state.user.admin) await loadUsers();
          say(`Deleted ${host}.`);
          focusHeading("hosts-title");
          break;
      }
    } catch (e) {
      fail(e);
    }
  });

  // ------------------------------------------------------ token / copy --
  function updateUrl(host, token) {
    const q = new URLSearchParams({ hostname: host, token });
    return `${location.origin}/nic/update?${q}`;
  }
  function ddclientConfig(host, token) {
    const https = location.protocol === "https:";
    return [
      `# /etc/ddclient.conf for ${host}`,
      "protocol=dyndns2",
      `use=web, web=${location.origin}/checkip`,
      `server=${location.host}`,
      `ssl=${https ? "yes" : "no"}`,
      `login=${host}`,
      `password='${token}'`,
      host,
    ].join("\n");
  }
  function showToken(host, token) {
    $("token-host").textContent = host;
    $("token-value").value = token;
    $("token-url").value = updateUrl(host, token);
    $("token-ddclient").value = ddclientConfig(host, token);
    $("token-panel").hidden = false;
    $("token-panel").setAttribute("data-host", host);
    focusHeading("token-title");
  }
  $("token-close").addEventListener("click", () => {
    $("token-panel").hidden = true;
    $("token-value").value = "";
    focusHeading("hosts-title");
  });

  async function copyField(id) {
    const f = $(id);
    const text = f.value;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
      } else {
        // Plain-HTTP pages have no async clipboard; the selection route works.
        f.focus();
        f.select();
        if (!document.execCommand("copy")) throw new Error("copy refused");
      }
      say("Copied to the clipboard.");
    } catch (e) {
      f.focus();
      f.select();
      say("Selected: press Ctrl+C (or ⌘C) to copy.");
    }
  }
  for (const b of document.querySelectorAll("button[data-copy]")) {
    b.addEventListener("click", () => copyField(b.getAttribute("data-copy")));
  }

  // ------------------------------------------------------------ history --
  async function showHistory(host) {
    const r = await api("GET", `/api/hosts/${encodeURIComponent(host)}/history`);
    const rows = r.history || [];
    $("history-host").textContent = host;
    $("history-panel").setAttribute("data-host", host);
    $("history-body").replaceChildren(...rows.map((e) => el("tr", null,
      el("td", { "data-label": "Time" }, when(e.time)),
      el("td", { "data-label": "Type", text: e.type }),
      el("td", { "data-label": "Old", class: "addr", text: e.old || "—" }),
      el("td", { "data-label": "New", class: "addr", text: e.new || "—" }),
      el("td", { "data-label": "From", class: "addr", text: e.source || "—" }),
      el("td", { "data-label": "Via", text: e.via }))));
    $("history-table").hidden = rows.length === 0;
    $("history-empty").hidden = rows.length !== 0;
    $("history-panel").hidden = false;
    focusHeading("history-title");
  }
  $("history-close").addEventListener("click", () => {
    $("history-panel").hidden = true;
    focusHeading("hosts-title");
  });

  // -------------------------------------------------------- set address --
  function showSet(host) {
    const h = state.hosts.find((x) => x.name === host) || {};
    $("set-host").textContent = host;
    $("set-panel").setAttribute("data-host", host);
    $("set-ipv4").value = (h.ipv4 || [])[0] || "";
    $("set-ipv6").value = (h.ipv6 || [])[0] || "";
    $("set-panel").hidden = false;
    focusHeading("set-title");
  }
  $("set-close").addEventListener("click", () => {
    $("set-panel").hidden = true;
    focusHeading("hosts-title");
  });
  $("set-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearAlert();
    const host = $("set-panel").getAttribute("data-host");
    busy(ev.target, true);
    try {
      const r = await api("PUT", `/api/hosts/${encodeURIComponent(host)}`,
                          { ipv4: $("set-ipv4").value.trim(), ipv6: $("set-ipv6").value.trim() });
      await loadHosts();
      $("set-panel").hidden = true;
      say(r.outcome === "nochg" ? `${host}: no change.` : `${host} updated.`);
      focusHeading("hosts-title");
    } catch (e) {
      fail(e);
    } finally {
      busy(ev.target, false);
    }
  });

  function hidePanels(host) {
    for (const id of ["token-panel", "history-panel", "set-panel"]) {
      const p = $(id);
      if (!host || p.getAttribute("data-host") === host) p.hidden = true;
    }
    $("token-value").value = "";
    if (!host) {
      // Signing out: no secret stays in the page for the next person.
      hideApiToken();
      $("password-form").reset();
    }
  }

  // ------------------------------------------------------------ account --
  function invalid(field, message) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
    return fail(new Error(message));
  }
  $("password-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearAlert();
    const form = ev.target;
    const cur = $("password-current"), next = $("password-new"), again = $("password-repeat");
    for (const f of [cur, next, again]) f.removeAttribute("aria-invalid");
    if (!cur.value) return invalid(cur, "Enter your current password.");
    // The server enforces the same minimum; saying it here saves a round trip.
    if (next.value.length < 8) return invalid(next, "The new password needs 8 or more characters.");
    if (next.value !== again.value) return invalid(again, "The two new passwords differ.");
    busy(form, true);
    try {
      const r = await api("PUT", `/api/users/${encodeURIComponent(state.user.name)}`,
                          { current: cur.value, password: next.value });
      form.reset();
      const n = r.sessions_ended || 0;
      say(n === 0 ? "Password changed." :
          `Password changed. ${n} other session${n === 1 ? " was" : "s were"} signed out.`);
    } catch (e) {
      if (e.status === 403) {
        cur.value = "";
        invalid(cur, "The current password is wrong.");
      } else {
        fail(e);
      }
    } finally {
      busy(form, false);
    }
  });

  async function loadApiTokens() {
    const r = await api("GET", "/api/tokens");
    const rows = r.tokens || [];
    $("api-tokens-body").replaceChildren(...rows.map((t) => {
      const label = t.label || "(no label)";
      return el("tr", { "data-token": String(t.id) },
        el("th", { scope: "row", "data-label": "Label", class: t.label ? "" : "muted", text: label }),
        el("td", { "data-label": "Created" }, when(t.created)),
        el("td", { class: "actions-cell" },
          el("button", { type: "button", class: "btn btn-small btn-danger", "data-token": String(t.id),
                         "data-token-label": label, "aria-label": `Revoke token ${label}`, text: "Revoke" })));
    }));
    $("api-tokens-table").hidden = rows.length === 0;
    $("api-tokens-empty").hidden = rows.length !== 0;
  }
  function hideApiToken() {
    $("api-token-new").hidden = true;
    $("api-token-value").value = "";
  }
  $("api-token-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearAlert();
    const label = $("api-token-label").value.trim();
    busy(ev.target, true);
    try {
      const r = await api("POST", "/api/tokens", { label });
      ev.target.reset();
      await loadApiTokens();
      $("api-token-new-label").textContent = label ? `“${label}”` : "";
      $("api-token-value").value = r.token;
      $("api-token-new").hidden = false;
      focusHeading("api-token-new-title");
      say(label ? `Created API token “${label}”.` : "Created an API token.");
    } catch (e) {
      fail(e);
    } finally {
      busy(ev.target, false);
    }
  });
  $("api-token-done").addEventListener("click", () => {
    hideApiToken();
    $("api-token-label").focus();
  });
  $("api-tokens-body").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-token]");
    if (!b) return;
    const id = b.getAttribute("data-token");
    const label = b.getAttribute("data-token-label");
    if (!window.confirm(`Revoke the API token ${label}? Scripts using it stop working at once.`)) return;
    clearAlert();
    try {
      await api("DELETE", `/api/tokens/${encodeURIComponent(id)}`);
      await loadApiTokens();
      say(`Revoked API token ${label}.`);
      focusHeading("account-title");
    } catch (e) { fail(e); }
  });

  // -------------------------------------------------------------- admin --
  async function loadUsers() {
    const r = await api("GET", "/api/users");
    $("users-body").replaceChildren(...(r.users || []).map((u) => el("tr", null,
      el("th", { scope: "row", "data-label": "Name", text: u.name }),
      el("td", { "data-label": "Role", text: u.admin ? "admin" : "user" }),
      el("td", { "data-label": "Hosts", text: String(u.hosts ?? "") }),
      el("td", { class: "actions-cell" }, u.name === state.user.name ? el("span", { class: "muted", text: "you" })
        : el("button", { type: "button", class: "btn btn-small btn-danger", "data-user": u.name,
                         "aria-label": `Delete user ${u.name}`, text: "Delete" })))));
  }
  function renderZones() {
    $("zones-body").replaceChildren(...state.zones.map((z) => el("tr", null,
      el("th", { scope: "row", "data-label": "Zone", text: z.name }),
      el("td", { "data-label": "Served here", text: z.writable ? "yes" : "no" }),
      el("td", { class: "actions-cell" },
        el("button", { type: "button", class: "btn btn-small btn-danger", "data-zone": z.name,
                       "aria-label": `Close zone ${z.name}`, text: "Close" })))));
  }

  $("users-body").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-user]");
    if (!b) return;
    const name = b.getAttribute("data-user");
    if (!window.confirm(`Delete user ${name}, their hostnames and DNS records?`)) return;
    clearAlert();
    try {
      await api("DELETE", `/api/users/${encodeURIComponent(name)}`);
      await Promise.all([loadUsers(), loadHosts()]);
      say(`Deleted user ${name}.`);
    } catch (e) { fail(e); }
  });
  $("zones-body").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-zone]");
    if (!b) return;
    const name = b.getAttribute("data-zone");
    if (!window.confirm(`Close ${name} for DDNS hostnames?`)) return;
    clearAlert();
    try {
      await api("DELETE", `/api/zones/${encodeURIComponent(name)}`);
      await loadZones();
      say(`Closed ${name}.`);
    } catch (e) { fail(e); }
  });
  $("add-user-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearAlert();
    const name = $("add-user-name").value.trim();
    const password = $("add-user-password").value;
    if (!name || password.length < 8) return fail(new Error("Give a user name and a password of 8 or more characters."));
    busy(ev.target, true);
    try {
      await api("POST", "/api/users", { name, password, admin: $("add-user-admin").checked });
      ev.target.reset();
      await loadUsers();
      say(`Added user ${name}.`);
    } catch (e) { fail(e); } finally { busy(ev.target, false); }
  });
  $("add-zone-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearAlert();
    const name = $("add-zone-name").value.trim().toLowerCase().replace(/\.$/, "");
    if (!name) return fail(new Error("Give a zone name."));
    busy(ev.target, true);
    try {
      await api("POST", "/api/zones", { name });
      ev.target.reset();
      await loadZones();
      say(`Opened ${name} for hostnames.`);
    } catch (e) { fail(e); } finally { busy(ev.target, false); }
  });

  // ----------------------------------------------------------- dashboard --
  // Rates come from the very counters Prometheus scrapes: /metrics is read
  // every 2 s (an admin's session cookie makes the browser a reader) and
  // differenced here. Drawn as SVG by hand: no library, no CDN, CSP-clean.
  const SVG_NS = "http://www.w3.org/2000/svg";
  const POLL_MS = 2000;
  const KEEP = 60;  // samples shown: 2 minutes
  const dash = { timer: 0, last: null, qps: [], ups: [], lat: [] };

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // The few totals the charts need, from Prometheus text format.
  function parseMetrics(text) {
    const sums = new Map();
    const buckets = [];
    for (const line of text.split("\n")) {
      if (!line || line[0] === "#") continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
      if (!m) continue;
      const v = Number(m[3]);
      sums.set(m[1], (sums.get(m[1]) || 0) + v);
      if (m[1] === "ddns_dns_answer_latency_seconds_bucket") {
        const le = /le="([^"]*)"/.exec(m[2] || "");
        if (le) buckets.push([le[1] === "+Inf" ? Infinity : Number(le[1]), v]);
      }
    }
    return {
      t: performance.now() / 1000,
      queries: sums.get("ddns_dns_queries_total") || 0,
      updates: sums.get("ddns_updates_total") || 0,
      latSum: sums.get("ddns_dns_answer_latency_seconds_sum") || 0,
      latCount: sums.get("ddns_dns_answer_latency_seconds_count") || 0,
      buckets,
    };
  }

  // 1, 2 or 5 times a power of ten, at least v.
  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }
  function fmt(v) {
    if (v === null || v === undefined) return "—";
    if (v === 0) return "0";
    if (v >= 100) return v.toFixed(0);
    if (v >= 10) return v.toFixed(1);
    return v.toFixed(2);
  }

  // One line chart: the newest value at the right edge, gaps (null) break it.
  function drawChart(id, values) {
    const W = 300, H = 110, L = 34, R = 4, T = 8, B = 8;
    const nums = values.filter((v) => v !== null);
    const max = niceMax(nums.length ? Math.max(...nums) : 0);
    const x = (i) => L + ((W - L - R) * (KEEP - values.length + i)) / (KEEP - 1);
    const y = (v) => T + (H - T - B) * (1 - v / max);
    const parts = [];
    for (const f of [0, 0.5, 1]) {
      parts.push(svg("line", { class: "grid", x1: L, x2: W - R, y1: y(max * f), y2: y(max * f) }));
      parts.push(svg("text", { class: "axis", x: L - 3, y: y(max * f) + 3, "text-anchor": "end" }, fmt(max * f)));
    }
    let run = [];
    const flush = () => {
      if (run.length > 1) {
        const pts = run.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
        const base = `${x(run[run.length - 1][0]).toFixed(1)},${y(0)} ${x(run[0][0]).toFixed(1)},${y(0)}`;
        parts.push(svg("polygon", { class: "area", points: `${pts} ${base}` }));
        parts.push(svg("polyline", { class: "line", points: pts }));
      } else if (run.length === 1) {
        parts.push(svg("circle", { class: "line", cx: x(run[0][0]), cy: y(run[0][1]), r: 1.5 }));
      }
      run = [];
    };
    values.forEach((v, i) => { if (v === null) flush(); else run.push([i, v]); });
    flush();
    const el = $(id);
    el.replaceChildren(...parts);
    el.setAttribute("data-points", String(nums.length));
    el.setAttribute("data-last", nums.length ? String(nums[nums.length - 1]) : "");
    el.setAttribute("data-max", String(max));
    el.setAttribute("data-peak", nums.length ? String(Math.max(...nums)) : "");
  }

  function push(list, v) {
    list.push(v);
    if (list.length > KEEP) list.shift();
  }

  // The bucket bound under which 99% of the interval's answers fell.
  function p99(prev, cur) {
    const n = cur.latCount - prev.latCount;
    if (n <= 0 || cur.buckets.length !== prev.buckets.length) return null;
    for (let i = 0; i < cur.buckets.length; i++) {
      if (cur.buckets[i][1] - prev.buckets[i][1] >= 0.99 * n) return cur.buckets[i][0] * 1000;
    }
    return null;
  }

  async function pollMetrics() {
    let cur;
    try {
      const res = await fetch("/metrics", { credentials: "same-origin", cache: "no-store" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      cur = parseMetrics(await res.text());
    } catch (e) {
      $("ops-state").textContent = `metrics unavailable (${e.message})`;
      return;
    }
    const prev = dash.last;
    dash.last = cur;
    if (!prev) return;
    const dt = cur.t - prev.t;
    if (dt <= 0) return;
    const qps = Math.max(0, (cur.queries - prev.queries) / dt);
    const ups = Math.max(0, (cur.updates - prev.updates) / dt);
    const n = cur.latCount - prev.latCount;
    const lat = n > 0 ? ((cur.latSum - prev.latSum) / n) * 1000 : null;
    push(dash.qps, qps);
    push(dash.ups, ups);
    push(dash.lat, lat);
    drawChart("ops-qps", dash.qps);
    drawChart("ops-ups", dash.ups);
    drawChart("ops-lat", dash.lat);
    $("ops-qps-now").textContent = fmt(qps);
    $("ops-ups-now").textContent = fmt(ups);
    const q99 = p99(prev, cur);
    $("ops-lat-now").textContent = lat === null ? "—" : `avg ${fmt(lat)}` + (q99 === null ? "" : ` · p99 ≤ ${fmt(q99)}`);
    $("ops-state").textContent = `updated ${new Date().toLocaleTimeString()}`;
  }

  function startDashboard() {
    stopDashboard();
    dash.last = null;
    dash.qps = []; dash.ups = []; dash.lat = [];
    pollMetrics();
    dash.timer = setInterval(pollMetrics, POLL_MS);
    loadTimeline().catch(fail);
  }
  function stopDashboard() {
    clearInterval(dash.timer);
    dash.timer = 0;
  }

  // Each host's address changes on one time axis shared by all hosts
  // (the 20 most recently updated; 50 changes each).
  async function loadTimeline() {
    const r = await api("GET", "/api/hosts?all=1");
    const hosts = (r.hosts || []).slice().sort((a, b) => (b.updated || 0) - (a.updated || 0)).slice(0, 20);
    const hist = await Promise.all(hosts.map((h) =>
      api("GET", `/api/hosts/${encodeURIComponent(h.name)}/history?limit=50`)
        .then((x) => x.history || []).catch(() => [])));
    const now = Date.now() / 1000;
    let t0 = now;
    for (const list of hist) for (const e of list) t0 = Math.min(t0, e.time);
    t0 = Math.min(t0, now - 60);
    const W = 600, L = 6, R = 6;
    const x = (t) => L + ((W - L - R) * (t - t0)) / (now - t0);
    const rows = [];
    hosts.forEach((h, k) => {
      const list = hist[k].slice().sort((a, b) => a.time - b.time);
      if (list.length === 0) return;
      const s = svg("svg", { class: "tl-svg", viewBox: `0 0 ${W} 46`, role: "img",
                            "aria-label": `${list.length} address changes of ${h.name}` });
      s.append(svg("line", { class: "track", x1: L, x2: W - R, y1: 26, y2: 26 }));
      s.append(svg("text", { class: "axis", x: L, y: 44 }, new Date(t0 * 1000).toLocaleString()));
      s.append(svg("text", { class: "axis", x: W - R, y: 44, "text-anchor": "end" }, "now"));
      for (const e of list) {
        const c = svg("circle", { class: `ev ev-${String(e.type).toLowerCase()}`, cx: x(e.time).toFixed(1), cy: 26, r: 5,
                                  "data-new": e.new || "" });
        c.append(svg("title", null,
          `${new Date(e.time * 1000).toLocaleString()} ${e.type} ${e.old || "—"} → ${e.new || "—"} (${e.via})`));
        s.append(c);
      }
      const lastEv = list[list.length - 1];
      const lx = Math.min(x(lastEv.time), W - R - 4);
      s.append(svg("text", { class: "ev-label", x: lx.toFixed(1), y: 12, "text-anchor": "end" }, lastEv.new || "—"));
      rows.push(el("div", { class: "tl-row", "data-host": h.name, "data-changes": String(list.length) },
        el("span", { class: "tl-host", text: h.name }), s));
    });
    $("timeline").replaceChildren(...rows);
    $("timeline-empty").hidden = rows.length !== 0;
  }
  $("timeline-refresh").addEventListener("click", () => { loadTimeline().catch(fail); });

  // --------------------------------------------------------------- start --
  (async () => {
    try {
      const r = await api("GET", "/api/me");
      await showApp(r.user);
    } catch (e) {
      if (e.status !== 401) fail(e);
      showLogin();
    }
    document.body.setAttribute("data-ready", "1");
  })();
})();
