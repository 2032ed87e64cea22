// Browser test of the ddnsd web page: headless Debian Chromium driven by
// playwright-core. Run by tests/daemon/test_web.py against a live ddnsd:
// sign in, add a hostname, take its update URL from the page (clipboard),
// update it through /nic/update, see the address and history on the page,
// rotate the token, set an address by hand, change the password in the
// Account section (other sessions end, the old password stops working),
// create, use and revoke an API token, check accessibility (axe-core),
// admin view, delete; screenshots go to DDNS_WEB_ARTIFACTS.
//
// Environment: DDNS_WEB_URL (http://127.0.0.1:PORT), DDNS_WEB_USER,
// DDNS_WEB_PASSWORD, DDNS_WEB_ADMIN, DDNS_WEB_ADMIN_PASSWORD, DDNS_WEB_ZONE,
// DDNS_DNS_PORT (dig checks on 127.0.0.1), DDNS_WEB_ARTIFACTS (directory),
// CHROMIUM (default /usr/bin/chromium). Exit 0 = pass.
"use strict";

const { chromium } = require("playwright-core");
const { execFileSync } = require("child_process");
const dgram = require("dgram");
const fs = require("fs");
const path = require("path");

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env("DDNS_WEB_URL");
const USER = env("DDNS_WEB_USER");
const PASSWORD = env("DDNS_WEB_PASSWORD");
const ADMIN = process.env.DDNS_WEB_ADMIN || "";
const ADMIN_PASSWORD = process.env.DDNS_WEB_ADMIN_PASSWORD || "";
const ZONE = env("DDNS_WEB_ZONE");
const DNS_PORT = env("DDNS_DNS_PORT");
const OUT = env("DDNS_WEB_ARTIFACTS");
const CHROMIUM = env("CHROMIUM", "/usr/bin/chromium");
const HOST = `home.${ZONE}`;
const NEW_PASSWORD = `${PASSWORD}-changed`;
const STEP_TIMEOUT = 10000;

let step = "start";
function log(msg) { console.log(`[web] ${msg}`); }
function check(cond, msg) { if (!cond) throw new Error(`${step}: ${msg}`); }

// The A records of a name, asked of ddnsd itself (never the system resolver).
function digA(name) {
  const out = execFileSync("dig", ["@127.0.0.1", "-p", DNS_PORT, "+short", "+time=2", "+tries=2", name, "A"],
                           { encoding: "utf8", timeout: 10000 });
  return out.split("\n").map((s) => s.trim()).filter(Boolean).sort();
}

// DynDNS2 update with curl-like semantics: returns the body text.
async function nicUpdate(url) {
  const res = await fetch(url, { headers: { "User-Agent": "ddns-browser-test/1.0" } });
  return (await res.text()).trim();
}

async function signIn(page, user, password) {
  await page.goto(BASE + "/");
  await page.waitForSelector("#login-view:not([hidden])");
  // By id: the admin form has fields labelled alike.
  await page.fill("#login-user", user);
  await page.fill("#login-password", password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForSelector("#app-view:not([hidden])");
}

// Runs `fn`, which makes the page get an HTTP error on purpose: the
// browser logs each as a console error, which must not fail the run.
let consoleErrors = [];
async function expectHttpError(fn) {
  const before = consoleErrors.length;
  await fn();
  const added = consoleErrors.splice(before);
  const other = added.filter((e) => !/status of 40[13]/.test(e));
  consoleErrors.push(...other);
}

// Sends `n` UDP queries for NAME/A to ddnsd and waits for the answers
// (bounded: gives up after 5 s), so the dashboard has traffic to draw.
function blastQueries(name, n) {
  const labels = name.replace(/\.$/, "").split(".");
  const q = Buffer.concat([Buffer.from([0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0, 0, 1, 0, 1])]);
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    let got = 0;
    const done = () => { clearTimeout(timer); s.close(); resolve(got); };
    const timer = setTimeout(done, 5000);
    s.on("message", () => { if (++got === n) done(); });
    for (let i = 0; i < n; i++) s.send(q, Number(DNS_PORT), "127.0.0.1");
  });
}

function row(page, host) { return page.locator(`#hosts-body tr[data-host="${host}"]`); }

// axe-core, if installed: no serious or critical violations on the page.
async function axeCheck(page, label) {
  let axePath;
  try { axePath = require.resolve("axe-core/axe.min.js"); } catch (e) { log("axe-core not installed; skipped"); return; }
  // Evaluated through the DevTools protocol, which the page's CSP (no
  // inline script) does not govern; a <script> tag would be refused.
  await page.evaluate(fs.readFileSync(axePath, "utf8"));
  const result = await page.evaluate(async () => await window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of result.violations) {
    log(`axe ${label}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.length} nodes: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")})`);
  }
  check(bad.length === 0, `accessibility (${label}): ${bad.map((v) => v.id).join(", ")}`);
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI containers: Chromium's sandbox needs user namespaces.
    chromiumSandbox: false,
    args: ["--disable-gpu", "--disable-dev-shm-usage"],
    timeout: 30000,
  });
  try {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US",
                                           timezoneId: "UTC", bypassCSP: false });
    await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
    ctx.setDefaultTimeout(STEP_TIMEOUT);
    const page = await ctx.newPage();
    page.on("dialog", (d) => d.accept());
    page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
    page.on("pageerror", (e) => consoleErrors.push(String(e)));

    step = "sign in (wrong password)";
    await page.goto(BASE + "/");
    await page.waitForSelector("#login-view:not([hidden])");
    await page.fill("#login-user", USER);
    await page.fill("#login-password", "not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForFunction(() => document.getElementById("alert").textContent.includes("wrong"));
    consoleErrors.length = 0;  // the 401 itself logs a console error
    await page.screenshot({ path: path.join(OUT, "web-login.png") });

    step = "sign in";
    await signIn(page, USER, PASSWORD);
    check((await page.textContent("#whoami")).includes(USER), "user name shown");
    check(await page.locator("#hosts-empty").isVisible(), "empty list shown");

    step = "add hostname";
    await page.getByLabel("Name", { exact: true }).fill("home");
    await page.selectOption("#add-host-zone", ZONE);
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await page.waitForSelector("#token-panel:not([hidden])");
    const token = await page.inputValue("#token-value");
    const updateUrl = await page.inputValue("#token-url");
    const ddclient = await page.inputValue("#token-ddclient");
    check(token.length >= 20, `token on the page (${token})`);
    check(updateUrl.startsWith(`${BASE}/nic/update?hostname=${HOST}&token=`), `update URL: ${updateUrl}`);
    check(ddclient.includes("protocol=dyndns2") && ddclient.includes(`login=${HOST}`) &&
          ddclient.includes(`password='${token}'`), "ddclient snippet");
    check(await row(page, HOST).isVisible(), "new row listed");
    check((await row(page, HOST).locator(".updated").textContent()).includes("never"), "never updated yet");

    step = "copy update URL";
    await page.locator('button[data-copy="token-url"]').click();
    await page.waitForFunction(() => document.getElementById("status").textContent.length > 0);
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    check(copied === updateUrl, `clipboard holds the update URL (got ${copied})`);

    step = "update through /nic/update";
    const ip = "192.0.2.77";
    const answer = await nicUpdate(`${copied}&myip=${ip}`);
    check(answer === `good ${ip}`, `nic/update answered "${answer}"`);
    check(JSON.stringify(digA(HOST)) === JSON.stringify([ip]), `dig ${HOST} A = ${digA(HOST)}`);

    step = "reload shows the address";
    await page.reload();
    await page.waitForSelector("#app-view:not([hidden])");
    await row(page, HOST).locator(".ipv4").getByText(ip).waitFor();
    check(!(await row(page, HOST).locator(".updated").textContent()).includes("never"), "last update shown");

    step = "history";
    await row(page, HOST).getByRole("button", { name: `History of ${HOST}` }).click();
    await page.waitForSelector("#history-panel:not([hidden])");
    const histText = await page.textContent("#history-body");
    check(histText.includes(ip) && histText.includes("dyndns2"), `history lists the update: ${histText}`);
    await page.screenshot({ path: path.join(OUT, "web.png"), fullPage: true });
    log(`screenshot ${path.join(OUT, "web.png")}`);
    await axeCheck(page, "hosts");

    step = "phone layout";
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2,
                                             isMobile: true, hasTouch: true, storageState: await ctx.storageState() });
    const ppage = await phone.newPage();
    await ppage.goto(BASE + "/");
    await ppage.waitForSelector("#app-view:not([hidden])");
    await row(ppage, HOST).locator(".ipv4").getByText(ip).waitFor();
    const overflow = await ppage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `no sideways scrolling on a phone (overflow ${overflow}px)`);
    check(await ppage.locator("#password-form").isVisible() && await ppage.locator("#api-token-form").isVisible(),
          "account section on a phone");
    await ppage.screenshot({ path: path.join(OUT, "web-phone.png"), fullPage: true });
    await phone.close();

    step = "rotate token";
    await row(page, HOST).getByRole("button", { name: `New token for ${HOST}` }).click();
    await page.waitForFunction((old) => {
      const v = document.getElementById("token-value").value;
      return v && v !== old;
    }, token);
    const token2 = await page.inputValue("#token-value");
    const oldAnswer = await nicUpdate(`${BASE}/nic/update?hostname=${HOST}&token=${encodeURIComponent(token)}&myip=192.0.2.1`);
    check(oldAnswer === "badauth", `old token refused (${oldAnswer})`);
    const newAnswer = await nicUpdate(`${await page.inputValue("#token-url")}&myip=${ip}`);
    check(newAnswer === `nochg ${ip}`, `new token accepted (${newAnswer})`);
    check(token2 !== token, "a new token");

    step = "set address by hand";
    await row(page, HOST).getByRole("button", { name: `Set address for ${HOST}` }).click();
    await page.waitForSelector("#set-panel:not([hidden])");
    await page.getByLabel("IPv4 address").fill("192.0.2.78");
    await page.getByLabel("IPv6 address").fill("2001:db8::78");
    await page.getByRole("button", { name: "Save" }).click();
    await row(page, HOST).locator(".ipv4").getByText("192.0.2.78").waitFor();
    await row(page, HOST).locator(".ipv6").getByText("2001:db8::78").waitFor();
    check(JSON.stringify(digA(HOST)) === JSON.stringify(["192.0.2.78"]), `dig after manual set: ${digA(HOST)}`);

    step = "account: wrong current password";
    // A second browser signed in as the same user: the change must end it.
    const other = await browser.newContext();
    const otherLogin = await other.request.post(BASE + "/api/login", { data: { user: USER, password: PASSWORD } });
    check(otherLogin.status() === 200, `second session signed in: ${otherLogin.status()}`);
    check((await other.request.get(BASE + "/api/me")).status() === 200, "second session works");
    const account = page.locator("#account-view");
    await expectHttpError(async () => {
      await account.getByLabel("Current password").fill("not-the-password");
      await account.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
      await account.getByLabel("Repeat the new password").fill(NEW_PASSWORD);
      await account.getByRole("button", { name: "Change password" }).click();
      await page.waitForFunction(() => document.getElementById("alert").textContent.includes("current password is wrong"));
    });
    check(await page.evaluate(() => document.activeElement.id) === "password-current", "focus on the wrong field");
    check((await other.request.get(BASE + "/api/me")).status() === 200, "a refused change ends no session");

    step = "account: passwords differ";
    await account.getByLabel("Current password").fill(PASSWORD);
    await account.getByLabel("Repeat the new password").fill(NEW_PASSWORD + "x");
    await account.getByRole("button", { name: "Change password" }).click();
    await page.waitForFunction(() => document.getElementById("alert").textContent.includes("differ"));

    step = "account: change password";
    await account.getByLabel("Repeat the new password").fill(NEW_PASSWORD);
    await account.getByRole("button", { name: "Change password" }).click();
    await page.waitForFunction(() => document.getElementById("status").textContent.includes("Password changed"));
    const changed = await page.textContent("#status");
    check(changed.includes("1 other session was signed out"), `sessions ended reported: ${changed}`);
    check(await page.inputValue("#password-current") === "" && await page.inputValue("#password-new") === "",
          "password fields emptied");
    check((await other.request.get(BASE + "/api/me")).status() === 401, "the other session was ended");
    check((await page.request.get(BASE + "/api/me")).status() === 200, "this session stays signed in");
    await other.close();

    step = "account: sign in with the new password";
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForSelector("#login-view:not([hidden])");
    await expectHttpError(async () => {
      await page.fill("#login-user", USER);
      await page.fill("#login-password", PASSWORD);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForFunction(() => document.getElementById("alert").textContent.includes("wrong"));
    });
    check(await page.locator("#login-view").isVisible(), "old password refused");
    await signIn(page, USER, NEW_PASSWORD);
    check((await page.textContent("#whoami")).includes(USER), "signed in with the new password");

    step = "account: create API token";
    // The list loads after sign-in: wait for it (bounded) rather than race it.
    check(await page.locator("#api-tokens-empty").waitFor({ state: "visible", timeout: 10000 })
      .then(() => true, () => false), "no API tokens yet");
    await account.getByLabel("Label").fill("backup script");
    await account.getByRole("button", { name: "Create token" }).click();
    await page.waitForSelector("#api-token-new:not([hidden])");
    const apiToken = await page.inputValue("#api-token-value");
    check(apiToken.length >= 20, `API token on the page (${apiToken})`);
    check((await page.textContent("#api-token-new")).includes("will not be shown again"), "shown-once note");
    check(await page.evaluate(() => document.activeElement.id) === "api-token-new-title", "focus on the new token");
    await page.locator('button[data-copy="api-token-value"]').click();
    await page.waitForFunction(() => document.getElementById("status").textContent.includes("Copied"));
    check(await page.evaluate(() => navigator.clipboard.readText()) === apiToken, "clipboard holds the API token");
    const tokenRow = page.locator("#api-tokens-body tr").filter({ hasText: "backup script" });
    await tokenRow.waitFor();
    check(!(await tokenRow.textContent()).includes("never"), "created time listed");
    await account.screenshot({ path: path.join(OUT, "web-account.png") });
    log(`screenshot ${path.join(OUT, "web-account.png")}`);

    step = "account: use the API token";
    const bearer = { headers: { Authorization: `Bearer ${apiToken}`, Accept: "application/json" } };
    let res = await fetch(`${BASE}/api/hosts`, bearer);
    check(res.status === 200, `GET /api/hosts with the token: ${res.status}`);
    const listed = (await res.json()).hosts.map((h) => h.name);
    check(listed.includes(HOST), `the token sees the user's hosts: ${listed}`);
    await page.getByRole("button", { name: "Done" }).click();
    check(await page.locator("#api-token-new").isHidden() && await page.inputValue("#api-token-value") === "",
          "secret gone from the page");

    step = "account: revoke the API token";
    await account.getByRole("button", { name: "Revoke token backup script" }).click();
    await tokenRow.waitFor({ state: "detached" });
    check(await page.locator("#api-tokens-empty").isVisible(), "token list empty again");
    res = await fetch(`${BASE}/api/hosts`, bearer);
    check(res.status === 401, `revoked token refused: ${res.status}`);

    step = "keyboard";
    // The sign-out button is reachable by keyboard and every control has a name.
    const unnamed = await page.evaluate(() => [...document.querySelectorAll("button, input, select, textarea")]
      .filter((e) => e.offsetParent !== null)
      .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.textContent.trim())
      .map((e) => e.id || e.outerHTML.slice(0, 60)));
    check(unnamed.length === 0, `controls without a name: ${unnamed}`);

    if (ADMIN) {
      step = "admin view";
      const actx = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: "UTC" });
      actx.setDefaultTimeout(STEP_TIMEOUT);
      const apage = await actx.newPage();
      apage.on("dialog", (d) => d.accept());
      await signIn(apage, ADMIN, ADMIN_PASSWORD);
      await apage.waitForSelector("#admin-view:not([hidden])");
      await apage.locator("#users-body").getByText(USER, { exact: true }).waitFor();
      await apage.locator("#zones-body").getByText(ZONE, { exact: true }).waitFor();
      await row(apage, HOST).waitFor();  // admins see every host

      step = "operator dashboard";
      await apage.waitForSelector("#ops-view:not([hidden])");
      // The host's address changes made above are on its timeline.
      const tl = apage.locator(`#timeline .tl-row[data-host="${HOST}"]`);
      await tl.waitFor();
      const changes = Number(await tl.getAttribute("data-changes"));
      check(changes >= 2, `timeline of ${HOST} shows ${changes} changes`);
      check(await tl.locator("circle.ev").count() === changes, "one mark per change");
      // Two polls give the first point; then traffic must lift the charts.
      await apage.waitForFunction(() => Number(document.getElementById("ops-qps").dataset.points) >= 1);
      const pointsBefore = Number(await apage.locator("#ops-qps").getAttribute("data-points"));
      const answered = await blastQueries(HOST, 300);
      check(answered > 250, `only ${answered} of 300 queries answered`);
      const upd = await fetch(`${BASE}/nic/update?hostname=${HOST}&myip=192.0.2.99`, { headers: {
        "User-Agent": "ddns-browser-test/1.0",
        Authorization: "Basic " + Buffer.from(`${USER}:${NEW_PASSWORD}`).toString("base64") } });
      const updBody = (await upd.text()).trim();
      check(updBody.startsWith("good"), `DynDNS2 update for the updates chart: ${updBody}`);
      await apage.waitForFunction(() => Number(document.getElementById("ops-qps").dataset.peak) > 20,
                                  null, { timeout: 15000 });
      await apage.waitForFunction(() => Number(document.getElementById("ops-ups").dataset.peak) > 0,
                                  null, { timeout: 15000 });
      await apage.waitForFunction(() => Number(document.getElementById("ops-lat").dataset.points) >= 1,
                                  null, { timeout: 15000 });
      const pointsAfter = Number(await apage.locator("#ops-qps").getAttribute("data-points"));
      check(pointsAfter > pointsBefore, `chart did not move (${pointsBefore} -> ${pointsAfter} points)`);
      check(await apage.locator("#ops-qps polyline.line").count() >= 1, "queries chart has a line");
      await apage.click("#timeline-refresh");
      await apage.waitForFunction((h) => {
        const r = document.querySelector(`#timeline .tl-row[data-host="${h}"]`);
        return r && r.querySelector("text.ev-label").textContent === "192.0.2.99";
      }, HOST);
      await apage.locator("#ops-view").screenshot({ path: path.join(OUT, "web-dashboard.png") });
      log(`screenshot ${path.join(OUT, "web-dashboard.png")}`);
      await apage.fill("#add-user-name", "carol");
      await apage.fill("#add-user-password", "carol-password");
      await apage.getByRole("button", { name: "Add user" }).click();
      await apage.locator("#users-body").getByText("carol", { exact: true }).waitFor();
      await apage.getByRole("button", { name: "Delete user carol" }).click();
      await apage.locator("#users-body").getByText("carol", { exact: true }).waitFor({ state: "detached" });
      await apage.screenshot({ path: path.join(OUT, "web-admin.png"), fullPage: true });
      await axeCheck(apage, "admin");
      await actx.close();
    }

    step = "delete hostname";
    await row(page, HOST).getByRole("button", { name: `Delete ${HOST}` }).click();
    await row(page, HOST).waitFor({ state: "detached" });
    check(await page.locator("#hosts-empty").isVisible(), "list empty again");
    check(digA(HOST).length === 0, `records gone after delete: ${digA(HOST)}`);

    step = "sign out";
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForSelector("#login-view:not([hidden])");
    await page.reload();
    await page.waitForSelector("#login-view:not([hidden])");

    // The 401 of /api/me after sign-out is expected; anything else is not.
    const errors = consoleErrors.filter((e) => !e.includes("401"));
    check(errors.length === 0, `console errors: ${errors.join(" | ")}`);
    log("PASS");
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`[web] FAIL at step "${step}": ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
