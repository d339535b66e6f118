// The demo chat at /demo/ in headless Chromium (Debian's, never a
// downloaded one) against a real Parley on a fresh SQLite file (or the
// PostgreSQL database in DATABASE_URL): two browser contexts, so two
// separate localStorages, sign up as Alice and Bob and
// 1. chat both ways live: unread badge, "seen", typing, a reaction, a group;
// 2. Bob goes offline (DevTools network emulation), Alice sends three and
//    Bob two; Bob comes back and both windows show all five exactly once,
//    in order, with the unread badges right;
// 3. Bob scrolls back through a group's history;
// 4. a send the server refuses is marked failed, retried, discarded.
// A screenshot of each window goes to target/demo-alice.png and
// target/demo-bob.png on every run, passed or failed.
//
// Usage: node demo.mjs [path to the parley binary] (default:
// ../../target/debug/parley; build it with `cargo build -p api`).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const binary = process.argv[2] ?? path.join(here, "../../target/debug/parley");
const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";
const shots = path.join(here, "../../target");
mkdirSync(shots, { recursive: true });

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns something truthy; on timeout says what was seen last. */
async function waitFor(what, check, { ms = 15000, seen } = {}) {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const state = seen ? ` (seen: ${JSON.stringify(await seen().catch((e) => String(e)))})` : "";
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}${state}`);
}

const started = Date.now();
const timings = [];
let phaseStart = Date.now();
function phase(name) {
  const now = Date.now();
  timings.push(`${name} ${((now - phaseStart) / 1000).toFixed(1)} s`);
  console.log(`ok: ${name} (${((now - phaseStart) / 1000).toFixed(1)} s)`);
  phaseStart = now;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "parley-demo-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const database = process.env.DATABASE_URL ?? `sqlite://${path.join(tmp, "parley.db")}`;
const parley = spawn(binary, [], {
  env: {
    ...process.env,
    DATABASE_URL: database,
    PARLEY_LISTEN: `127.0.0.1:${port}`,
    RUST_LOG: process.env.RUST_LOG ?? "warn",
  },
  stdio: ["ignore", "inherit", "inherit"],
});
let exited = false;
parley.once("exit", () => (exited = true));

let browser;
const windows = {};
const failures = [];
const external = [];

async function gql(query, variables = {}, token) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** A window of its own: an incognito-like context (own storage), one page. */
async function openWindow(name) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 1000, height: 680 });
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (!["127.0.0.1", "localhost"].includes(url.hostname) && url.protocol !== "data:") external.push(request.url());
  });
  page.on("pageerror", (err) => failures.push(`${name}: page error: ${err.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/ERR_INTERNET_DISCONNECTED|Failed to fetch|WebSocket/.test(m.text())) {
      console.error(`${name} console: ${m.text()}`);
    }
  });
  windows[name] = page;
  return page;
}

const messagesOf = (page) =>
  page.$$eval("[data-testid=messages] [data-testid=message]", (els) =>
    els.map((e) => ({
      body: e.querySelector("[data-testid=message-body]")?.textContent ?? "",
      seq: e.dataset.seq ? Number(e.dataset.seq) : null,
      status: e.dataset.status ?? null,
      receipt: e.querySelector("[data-testid=message-status]")?.dataset.receipt ?? null,
      reactions: [...e.querySelectorAll("[data-testid=reaction]")].map((r) => r.textContent),
    })),
  );

const inboxOf = (page) =>
  page.$$eval("[data-testid=conversation-item]", (els) =>
    els.map((e) => ({
      title: e.dataset.title,
      badge: e.querySelector("[data-testid=unread-badge]")?.textContent ?? null,
      last: e.querySelector("[data-testid=conversation-last]")?.textContent ?? "",
    })),
  );

const text = (page, selector) => page.$eval(selector, (e) => e.textContent).catch(() => null);

async function signUp(page, username, displayName) {
  await page.goto(`${base}/demo`, { waitUntil: "networkidle0" });
  if (new URL(page.url()).pathname !== "/demo/") failures.push(`/demo led to ${page.url()}`);
  await page.waitForSelector("[data-testid=auth-form]", { visible: true });
  await page.type("[data-testid=auth-username]", username);
  await page.type("[data-testid=auth-password]", "correct horse battery");
  await page.type("[data-testid=auth-display-name]", displayName);
  await page.click("[data-testid=sign-up]");
  await waitFor(`${username} signed in`, async () => (await text(page, "[data-testid=me-name]")) === displayName, {
    seen: () => text(page, "[data-testid=auth-error]"),
  });
  await waitFor(`${username}'s socket live`, () =>
    page.$eval("[data-testid=connection-banner]", (e) => e.hidden && (e.dataset.state ?? "live") === "live"),
  );
}

async function send(page, body) {
  await page.click("[data-testid=composer]");
  await page.type("[data-testid=composer]", body);
  await page.keyboard.press("Enter");
}

async function openInboxItem(page, title) {
  await page.$$eval(
    "[data-testid=conversation-item]",
    (els, t) => els.find((e) => e.dataset.title === t)?.click(),
    title,
  );
  await waitFor(`${title} open`, async () => (await text(page, "[data-testid=conversation-title]")) === title);
}

async function setOffline(page, offline) {
  const cdp = windows[`${page === windows.alice ? "alice" : "bob"}:cdp`];
  await cdp.send("Network.emulateNetworkConditions", {
    offline,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
}

/** Whether Chromium's offline emulation closes a WebSocket that is already open. */
async function probeOfflineWebSocket(page) {
  await page.goto(`${base}/demo/`, { waitUntil: "networkidle0" });
  const cdp = await page.createCDPSession();
  await cdp.send("Network.enable");
  await page.evaluate((url) => {
    window.probe = { events: [] };
    const ws = new WebSocket(url, "graphql-transport-ws");
    ws.onopen = () => window.probe.events.push("open");
    ws.onclose = (e) => window.probe.events.push(`close ${e.code}`);
    ws.onmessage = (e) => window.probe.events.push(`message ${JSON.parse(e.data).type}`);
    window.probe.ws = ws;
  }, `${base.replace("http", "ws")}/graphql/ws`);
  await waitFor("the probe socket to open", () => page.evaluate(() => window.probe.events.includes("open")));
  await cdp.send("Network.emulateNetworkConditions", { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await new Promise((r) => setTimeout(r, 500));
  // Still open? Then a frame sent now is answered (connection_ack or a close for no token).
  const before = await page.evaluate(() => ({ readyState: window.probe.ws.readyState, online: navigator.onLine }));
  await page.evaluate(() => {
    try {
      window.probe.ws.send(JSON.stringify({ type: "connection_init", payload: {} }));
    } catch (err) {
      window.probe.events.push(`send failed ${err}`);
    }
  });
  await new Promise((r) => setTimeout(r, 1000));
  const after = await page.evaluate(() => ({ readyState: window.probe.ws.readyState, events: window.probe.events }));
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await page.evaluate(() => window.probe.ws.close());
  await cdp.detach();
  const answered = after.events.some((e) => e !== "open");
  return { navigatorOnLine: before.online, readyStateAfter500ms: before.readyState, frameAnsweredWhileOffline: answered, events: after.events };
}

try {
  await waitFor("Parley to listen", async () => (await fetch(`${base}/health`)).ok);
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    userDataDir: path.join(tmp, "profile"),
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    ],
  });

  // What Chromium's offline emulation does to an open socket (the kit
  // closes its own on the window's `offline` event either way).
  const probe = await probeOfflineWebSocket(await openWindow("probe"));
  console.log(`note: offline emulation and an open WebSocket: ${JSON.stringify(probe)}`);
  phase("probed offline emulation");

  const alice = await openWindow("alice");
  const bob = await openWindow("bob");
  for (const name of ["alice", "bob"]) {
    const cdp = await windows[name].createCDPSession();
    await cdp.send("Network.enable");
    windows[`${name}:cdp`] = cdp;
  }
  await signUp(alice, "alice", "Alice");
  await signUp(bob, "bob", "Bob");
  // Separate contexts: Bob's sign-in did not replace Alice's.
  if ((await text(alice, "[data-testid=me-name]")) !== "Alice") failures.push("Alice's window lost her session");
  phase("signed up in two contexts");

  // 1. Live, both ways.
  await alice.type("[data-testid=open-direct-username]", "bob");
  await alice.click("[data-testid=open-direct]");
  await waitFor("Alice's conversation with Bob", async () => (await text(alice, "[data-testid=conversation-title]")) === "Bob");
  await send(alice, "Hi Bob!");
  await waitFor("Alice's message stored", async () => {
    const m = await messagesOf(alice);
    return m.length === 1 && m[0].seq === 1;
  }, { seen: () => messagesOf(alice) });
  await waitFor("Bob's inbox: Alice, 1 unread", async () => {
    const inbox = await inboxOf(bob);
    return inbox.length === 1 && inbox[0].title === "Alice" && inbox[0].badge === "1" && inbox[0].last === "Hi Bob!";
  }, { seen: () => inboxOf(bob) });
  if ((await text(bob, "[data-testid=total-unread]")) !== "1") failures.push("Bob's total unread is not 1");
  await openInboxItem(bob, "Alice");
  await waitFor("Bob's badge gone once he reads", async () => (await inboxOf(bob))[0].badge === null, { seen: () => inboxOf(bob) });
  await waitFor("Alice sees 'seen'", async () => (await messagesOf(alice))[0]?.receipt === "seen", {
    seen: () => messagesOf(alice),
  });
  phase("live message, unread badge, read receipt");

  await bob.click("[data-testid=composer]");
  await bob.type("[data-testid=composer]", "Hey Ali");
  await waitFor("Alice sees Bob typing", async () => (await text(alice, "[data-testid=typing]")) === "Bob is typing…", {
    seen: () => text(alice, "[data-testid=typing]"),
  });
  await bob.type("[data-testid=composer]", "ce");
  await bob.keyboard.press("Enter");
  await waitFor("Bob's reply live at Alice", async () => {
    const m = await messagesOf(alice);
    return m.length === 2 && m[1].body === "Hey Alice" && m[1].seq === 2;
  }, { seen: () => messagesOf(alice) });
  await waitFor("the typing indicator gone", async () => (await text(alice, "[data-testid=typing]")) === "");
  phase("typing indicator, reply live");

  await alice.$$eval(
    "[data-testid=message]",
    (els) => els[1].querySelector("[data-testid=react][data-emoji='👍']").click(),
  );
  await waitFor("Bob sees Alice's 👍", async () => (await messagesOf(bob))[1]?.reactions.join() === "👍 1", {
    seen: () => messagesOf(bob),
  });
  phase("reaction live");

  // A group, for later.
  await alice.click(".new-group summary");
  await alice.type("[data-testid=group-title]", "Weekend");
  await alice.type("[data-testid=group-members]", "bob");
  await alice.click("[data-testid=create-group]");
  await waitFor("the group open at Alice", async () => (await text(alice, "[data-testid=conversation-title]")) === "Weekend");
  await send(alice, "Group hello");
  await waitFor("Bob's inbox: the group with 1 unread", async () => {
    const g = (await inboxOf(bob)).find((c) => c.title === "Weekend");
    return g && g.badge === "1" && g.last === "Alice: Group hello";
  }, { seen: () => inboxOf(bob) });
  await openInboxItem(alice, "Bob");
  phase("group created, live in Bob's inbox");

  // 2. Bob goes offline.
  await setOffline(bob, true);
  await waitFor("Bob's offline banner", () =>
    bob.$eval("[data-testid=connection-banner]", (e) => !e.hidden && e.dataset.state === "offline"),
  );
  const awayA = ["A1 while you were away", "A2 still away?", "A3 last one"];
  const awayB = ["B1 typed offline", "B2 also offline"];
  for (const body of awayA) await send(alice, body);
  await waitFor("Alice's three stored", async () => {
    const m = await messagesOf(alice);
    return m.length === 5 && m.every((x) => x.seq !== null);
  }, { seen: () => messagesOf(alice) });
  for (const body of awayB) await send(bob, body);
  await waitFor("Bob's two waiting", async () => {
    const m = await messagesOf(bob);
    return m.length === 4 && m.slice(2).every((x) => x.status === "pending" && x.seq === null);
  }, { seen: () => messagesOf(bob) });
  await new Promise((r) => setTimeout(r, 1500));
  const bobWhileOffline = await messagesOf(bob);
  if (bobWhileOffline.some((m) => awayA.includes(m.body))) {
    failures.push("Bob received Alice's messages while offline: the socket was not cut");
  }
  if ((await messagesOf(alice)).some((m) => awayB.includes(m.body))) failures.push("Bob's offline sends reached Alice");
  const bannerText = await text(bob, "[data-testid=connection-banner]");
  if (!bannerText.includes("2 waiting")) failures.push(`Bob's banner: ${bannerText}`);
  // Alice looks at the group, so Bob's two will be unread for her.
  await openInboxItem(alice, "Weekend");
  await screenshot("offline");
  phase("offline: 3 sent by Alice, 2 queued by Bob");

  await setOffline(bob, false);
  await waitFor("Bob live again", () =>
    bob.$eval("[data-testid=connection-banner]", (e) => e.hidden && e.dataset.state === "live"),
    { ms: 20000 },
  );
  const expected = ["Hi Bob!", "Hey Alice", ...awayA, ...awayB];
  const exactlyOnce = (list) =>
    list.length === expected.length &&
    list.every((m, i) => m.body === expected[i] && m.seq === i + 1 && (m.status === null || m.status === "sent"));
  await waitFor("all five at Bob, once, in order", async () => exactlyOnce(await messagesOf(bob)), {
    seen: () => messagesOf(bob),
    ms: 20000,
  });
  phase("back online: Bob has all five once, in order");

  await waitFor("Alice's inbox: Bob with 2 unread", async () => {
    const c = (await inboxOf(alice)).find((x) => x.title === "Bob");
    return c && c.badge === "2" && c.last === "B2 also offline";
  }, { seen: () => inboxOf(alice) });
  if ((await text(alice, "[data-testid=total-unread]")) !== "2") {
    failures.push(`Alice's total unread: ${await text(alice, "[data-testid=total-unread]")}`);
  }
  const bobInbox = await inboxOf(bob);
  const bobDirect = bobInbox.find((x) => x.title === "Alice");
  if (bobDirect?.badge !== null) failures.push(`Bob's badge for Alice: ${bobDirect?.badge}`);
  if (bobInbox.find((x) => x.title === "Weekend")?.badge !== "1") failures.push(`Bob's group badge: ${JSON.stringify(bobInbox)}`);
  await openInboxItem(alice, "Bob");
  await waitFor("all five at Alice, once, in order", async () => exactlyOnce(await messagesOf(alice)), {
    seen: () => messagesOf(alice),
  });
  await waitFor("Alice's badge gone", async () => (await inboxOf(alice)).find((x) => x.title === "Bob")?.badge === null);
  await waitFor("Bob sees his offline messages seen", async () => {
    const m = await messagesOf(bob);
    return m.slice(5).every((x) => x.receipt === "seen");
  }, { seen: () => messagesOf(bob) });
  phase("Alice has all five once, in order; badges right");

  // 3. Scroll-back: 40 more in the group, then Bob pages back.
  const aliceToken = await alice.evaluate(() => JSON.parse(localStorage.getItem("parley-demo:session")).token);
  const groupId = (await gql(`{ conversations(filter: {kind: GROUP}) { nodes { id } } }`, {}, aliceToken)).conversations.nodes[0].id;
  for (let i = 1; i <= 40; i++) {
    await gql(
      `mutation($c: ID!, $b: String!) { sendMessage(input: {conversationId: $c, body: $b}) { seq } }`,
      { c: groupId, b: `history ${i}` },
      aliceToken,
    );
  }
  await waitFor("Bob's group badge at 41", async () => (await inboxOf(bob)).find((x) => x.title === "Weekend")?.badge === "41", {
    seen: () => inboxOf(bob),
  });
  await openInboxItem(bob, "Weekend");
  await waitFor("the newest page", async () => (await messagesOf(bob)).length === 30, { seen: () => messagesOf(bob) });
  await bob.click("[data-testid=load-older]");
  await waitFor("the whole history", async () => {
    const m = await messagesOf(bob);
    return m.length === 41 && m[0].body === "Group hello" && m.every((x, i) => x.seq === i + 1);
  }, { seen: () => messagesOf(bob) });
  await waitFor("no more to load", () => bob.$eval("[data-testid=load-older]", (e) => e.hidden));
  await waitFor("Bob's group badge gone", async () => (await inboxOf(bob)).find((x) => x.title === "Weekend")?.badge === null);
  phase("scroll-back through 41 messages");

  // 4. A send the server refuses for good (over 4000 characters; the
  // textarea's maxlength stops typing, not a script) is marked failed,
  // with Retry and Discard.
  await bob.$eval("[data-testid=composer]", (e) => (e.value = "x".repeat(4001)));
  await bob.click("[data-testid=send]");
  const failedRow = "[data-testid=message][data-status=failed]";
  await waitFor("the refused send marked failed", () => bob.$(`${failedRow} [data-testid=retry]`), {
    seen: async () => (await messagesOf(bob)).slice(-1),
  });
  await bob.click(`${failedRow} [data-testid=retry]`);
  await waitFor("the retry failing again", () => bob.$(`${failedRow} [data-testid=retry]`));
  await bob.click(`${failedRow} [data-testid=discard]`);
  await waitFor("the failed send discarded", async () => !(await bob.$(failedRow)) && (await messagesOf(bob)).length === 41);
  phase("failed send: retry, discard");

  if (external.length) failures.push(`requests beyond loopback: ${external.join(", ")}`);
} catch (err) {
  failures.push(String(err && err.stack ? err.stack : err));
} finally {
  await screenshot();
  if (browser) await browser.close();
  if (!exited) {
    parley.kill("SIGTERM");
    await new Promise((resolve) => parley.once("exit", resolve));
  }
  rmSync(tmp, { recursive: true, force: true });
}

async function screenshot(suffix) {
  for (const name of ["alice", "bob"]) {
    const page = windows[name];
    if (!page) continue;
    const file = path.join(shots, `demo-${name}${suffix ? `-${suffix}` : ""}.png`);
    await page.screenshot({ path: file }).catch((err) => console.error(`screenshot ${file}: ${err}`));
  }
}

console.log(`timings: ${timings.join(", ")}; total ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`screenshots: ${path.relative(process.cwd(), path.join(shots, "demo-alice.png"))}, demo-bob.png`);
if (failures.length) {
  console.error(`FAILED:\n- ${failures.join("\n- ")}`);
  process.exit(1);
}
console.log("demo browser test passed");
