// Headless Chromium (Debian's, never a downloaded one) against a real
// Parley, with every host but loopback unresolvable:
// 1. GraphiQL served by Parley runs a query and a subscription;
// 2. GraphQL Playground runs a query and a subscription (legacy graphql-ws);
// 3. a page on another loopback origin (listed in PARLEY_CORS_ORIGINS)
//    calls Parley over HTTP and over WebSocket with graphql-ws, and a page
//    on an origin not listed (stranger.test, mapped to 127.0.0.1) is refused
//    over both.
//
// Usage: node run.mjs [path to the parley binary] (default:
// ../../target/debug/parley; build it with `cargo build -p api`).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const binary = process.argv[2] ?? path.join(here, "../../target/debug/parley");
const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";

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

async function waitFor(what, check, ms = 20000) {
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
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "parley-browser-"));
const port = await freePort();
const appPort = await freePort();
const strangerPort = await freePort();
const parleyUrl = `http://127.0.0.1:${port}`;
const appOrigin = `http://localhost:${appPort}`;
// Not a loopback name (those may always open a socket, for development):
// Chromium maps it to 127.0.0.1 below.
const strangerOrigin = `http://stranger.test:${strangerPort}`;

const parley = spawn(binary, [], {
  env: {
    ...process.env,
    DATABASE_URL: `sqlite://${path.join(tmp, "parley.db")}`,
    PARLEY_LISTEN: `127.0.0.1:${port}`,
    PARLEY_CORS_ORIGINS: appOrigin,
    RUST_LOG: "warn",
  },
  stdio: ["ignore", "inherit", "inherit"],
});
let browser;
let pages = [];
const failures = [];
const external = [];

async function gql(query, variables = {}, token) {
  const response = await fetch(`${parleyUrl}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function register(username) {
  const data = await gql(
    `mutation($u: String!) { register(input: {username: $u, password: "correct horse", displayName: $u}) { token user { id } } }`,
    { u: username },
  );
  return { token: data.register.token, id: data.register.user.id };
}

// The other origins' pages: graphql-ws's browser build and a script that
// uses it, as an app on a dev server would.
const graphqlWs = readFileSync(path.join(here, "node_modules/graphql-ws/umd/graphql-ws.js"));
const appPage = (token) => `<!doctype html><html><body><script src="/graphql-ws.js"></script><script>
  window.outcome = (async () => {
    const out = {};
    try {
      const r = await fetch(${JSON.stringify(parleyUrl)} + "/graphql", {
        method: "POST",
        headers: {"content-type": "application/json", "authorization": "Bearer ${token}"},
        body: JSON.stringify({query: "{ me { username } }"}),
      });
      out.http = (await r.json()).data.me.username;
    } catch (err) { out.http = "refused: " + err; }
    out.ws = await new Promise((resolve) => {
      const client = graphqlWs.createClient({
        url: ${JSON.stringify(parleyUrl.replace("http", "ws"))} + "/graphql/ws",
        connectionParams: () => ({authorization: "Bearer ${token}"}),
        retryAttempts: 0,
      });
      client.subscribe({query: "{ me { username } }"}, {
        next: (r) => resolve(r.data.me.username),
        error: (e) => resolve("error: " + (e.code || e.message || e)),
        complete: () => client.dispose(),
      });
    });
    return out;
  })();
</script></body></html>`;

function servePage(listenPort, token) {
  const server = http.createServer((req, res) => {
    if (req.url === "/graphql-ws.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(graphqlWs);
    } else {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(appPage(token));
    }
  });
  return new Promise((resolve) => server.listen(listenPort, "127.0.0.1", () => resolve(server)));
}

async function newPage() {
  const page = await browser.newPage();
  pages.push(page);
  page.on("request", (request) => {
    if (process.env.DEBUG) console.error(`request: ${request.method()} ${request.url()}`);
    const host = new URL(request.url()).hostname;
    if (!["127.0.0.1", "localhost", "stranger.test"].includes(host) && !request.url().startsWith("data:")) {
      external.push(request.url());
    }
  });
  page.on("pageerror", (err) => failures.push(`page error: ${err.message}`));
  page.on("console", (m) => { if (m.type() === "error") console.error(`console: ${m.text()}`); });
  page.on("requestfailed", (r) => console.error(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  return page;
}

async function editorValue(page, selector) {
  return page.evaluate((s) => {
    const el = document.querySelector(s);
    return el && el.CodeMirror ? el.CodeMirror.getValue() : null;
  }, selector);
}

async function setEditor(page, selector, text) {
  await page.evaluate(
    (s, t) => document.querySelector(s).CodeMirror.setValue(t),
    selector,
    text,
  );
  // GraphiQL re-reads the document (and its operation name) debounced.
  await new Promise((r) => setTimeout(r, 600));
}

/// Runs the query editor's operation, as Ctrl-Enter does.
async function run(page) {
  await page.click(".graphiql-query-editor .CodeMirror");
  await page.keyboard.down("Control");
  await page.keyboard.press("Enter");
  await page.keyboard.up("Control");
}

const servers = [];
try {
  await waitFor("Parley to listen", async () => (await fetch(`${parleyUrl}/health`)).ok);
  const alice = await register("alice");
  const bob = await register("bob");
  const conversation = (
    await gql(`mutation($u: ID!) { openDirectConversation(userId: $u) { id } }`, { u: bob.id }, alice.token)
  ).openDirectConversation.id;

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
      // No network beyond loopback: every other name fails to resolve.
      "--host-resolver-rules=MAP stranger.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    ],
  });

  // 1. GraphiQL: a query, then a subscription.
  const page = await newPage();
  await page.goto(`${parleyUrl}/`, { waitUntil: "networkidle0" });
  const query = ".graphiql-query-editor .CodeMirror";
  const headers = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror";
  const result = ".graphiql-response .CodeMirror";
  await page.waitForSelector(query);
  const starter = await editorValue(page, query);
  if (!starter.includes("mutation Register")) failures.push(`no starter query: ${starter}`);
  const template = await editorValue(page, headers);
  if (!template.includes("Bearer <token>")) failures.push(`no header template: ${template}`);
  await setEditor(page, headers, JSON.stringify({ Authorization: `Bearer ${alice.token}` }));
  await setEditor(page, query, "query Me { me { username } }");
  await run(page);
  await waitFor("GraphiQL's query result", async () =>
    (await editorValue(page, result))?.includes('"username": "alice"'),
  ).catch(async (err) => {
    const seen = await page.evaluate(() => ({
      editors: [...document.querySelectorAll(".CodeMirror")].map((e) => [e.parentElement.className, e.CodeMirror.getValue().slice(0, 600)]),
    }));
    throw new Error(`${err.message}; page: ${JSON.stringify(seen)}`);
  });
  console.log("ok: GraphiQL ran a query");

  // `events` first says StreamLiveEvent; GraphiQL shows the latest result,
  // and after a message come unread counts, so follow the messages alone.
  await setEditor(page, query, "subscription Live { events { __typename cursor } }");
  await run(page);
  await waitFor("the events subscription to go live", async () =>
    (await editorValue(page, result))?.includes("StreamLiveEvent"),
  );
  await run(page); // stops the running subscription
  await setEditor(
    page,
    query,
    `subscription Messages { messageAdded(conversationId: "${conversation}") { body sender { displayName } } }`,
  );
  await run(page);
  await new Promise((r) => setTimeout(r, 500));
  await gql(
    `mutation($c: ID!) { sendMessage(input: {conversationId: $c, body: "hello from bob"}) { id } }`,
    { c: conversation },
    bob.token,
  );
  await waitFor("the live message in GraphiQL", async () =>
    (await editorValue(page, result))?.includes("hello from bob"),
  ).catch(async (err) => {
    throw new Error(`${err.message}; result: ${await editorValue(page, result)}`);
  });
  console.log("ok: GraphiQL ran a subscription over WebSocket");

  // 2. GraphQL Playground loads from Parley alone.
  const playground = await newPage();
  await playground.goto(`${parleyUrl}/playground`, { waitUntil: "networkidle0" });
  await waitFor("Playground to render", () =>
    playground.evaluate(() => document.querySelectorAll(".CodeMirror").length > 0),
  );
  // Its first editor is the query: run one over HTTP.
  await playground.evaluate(() =>
    document.querySelector(".CodeMirror").CodeMirror.setValue("query Probe { probe: __typename }"),
  );
  await new Promise((r) => setTimeout(r, 600));
  await playground.click(".CodeMirror");
  await playground.keyboard.down("Control");
  await playground.keyboard.press("Enter");
  await playground.keyboard.up("Control");
  await waitFor("Playground's result", () =>
    playground.evaluate(() => document.body.innerText.includes('"probe": "Query"')),
  ).catch(async (err) => {
    throw new Error(`${err.message}; page: ${(await playground.evaluate(() => document.body.innerText)).slice(0, 800)}`);
  });
  console.log("ok: Playground rendered and ran a query");

  // The second editor is HTTP HEADERS, which Playground also sends as the
  // WebSocket's connection_init payload (legacy graphql-ws subprotocol).
  await playground.evaluate(
    (t, c) => {
      const editors = [...document.querySelectorAll(".CodeMirror")].map((e) => e.CodeMirror);
      editors[1].setValue(JSON.stringify({ Authorization: `Bearer ${t}` }));
      editors[0].setValue(`subscription Follow { messageAdded(conversationId: "${c}") { body } }`);
    },
    bob.token,
    conversation,
  );
  await new Promise((r) => setTimeout(r, 600));
  await playground.click(".CodeMirror");
  await playground.keyboard.down("Control");
  await playground.keyboard.press("Enter");
  await playground.keyboard.up("Control");
  await new Promise((r) => setTimeout(r, 1000));
  await gql(
    `mutation($c: ID!) { sendMessage(input: {conversationId: $c, body: "hello from alice"}) { id } }`,
    { c: conversation },
    alice.token,
  );
  await waitFor("the live message in Playground", () =>
    playground.evaluate(() => document.body.innerText.includes("hello from alice")),
  ).catch(async (err) => {
    throw new Error(`${err.message}; page: ${(await playground.evaluate(() => document.body.innerText)).slice(0, 800)}`);
  });
  console.log("ok: Playground ran a subscription over WebSocket");

  // 3. Another origin: allowed, then not.
  servers.push(await servePage(appPort, alice.token));
  servers.push(await servePage(strangerPort, alice.token));
  const app = await newPage();
  await app.goto(`${appOrigin}/`);
  const allowed = await app.evaluate(() => window.outcome);
  if (allowed.http !== "alice") failures.push(`cross-origin HTTP: ${JSON.stringify(allowed)}`);
  if (allowed.ws !== "alice") failures.push(`cross-origin WebSocket: ${JSON.stringify(allowed)}`);
  console.log(`ok: ${appOrigin} called Parley over HTTP and WebSocket`);
  const stranger = await newPage();
  await stranger.goto(`${strangerOrigin}/`);
  const refused = await stranger.evaluate(() => window.outcome);
  if (!String(refused.http).startsWith("refused")) {
    failures.push(`an origin not listed read a response: ${JSON.stringify(refused)}`);
  }
  if (!String(refused.ws).startsWith("error")) {
    failures.push(`an origin not listed opened a WebSocket: ${JSON.stringify(refused)}`);
  }
  console.log(`ok: ${strangerOrigin} was refused over HTTP and WebSocket`);

  if (external.length) failures.push(`requests beyond loopback: ${external.join(", ")}`);
} catch (err) {
  failures.push(String(err && err.stack ? err.stack : err));
} finally {
  for (const server of servers) server.close();
  if (browser) await browser.close();
  parley.kill("SIGTERM");
  await new Promise((resolve) => parley.once("exit", resolve));
  rmSync(tmp, { recursive: true, force: true });
}

if (failures.length) {
  console.error(`FAILED:\n- ${failures.join("\n- ")}`);
  process.exit(1);
}
console.log("browser tests passed");
