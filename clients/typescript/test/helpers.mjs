// Test helpers: a real Parley server (the release binary) on a fresh
// database, a TCP proxy the tests can cut, plain HTTP GraphQL for checks
// that must not go through the kit, and an in-memory Storage.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { createParley } from "../dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
export const BINARY = resolve(here, "..", process.env.PARLEY_BINARY ?? "../../target/release/parley");

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves when `check()` is truthy; fails after `ms` with `what`. */
export async function until(check, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A database of its own: a SQLite file, or a PostgreSQL database when TEST_DATABASE_URL is set. */
export async function freshDatabase() {
  const pgUrl = process.env.TEST_DATABASE_URL;
  if (pgUrl) {
    const { default: pg } = await import("pg");
    const name = `parley_test_kit_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const url = new URL(pgUrl);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      async drop() {
        const c = new pg.Client({ connectionString: pgUrl });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await c.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), "parley-kit-"));
  return {
    url: `sqlite://${join(dir, "parley.db")}`,
    async drop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts the binary on port 0 and reads the bound address from its log. */
export async function startServer(databaseUrl, env = {}) {
  if (!existsSync(BINARY)) throw new Error(`no Parley binary at ${BINARY}: set PARLEY_BINARY or build it (cargo build --release -p api)`);
  const child = spawn(BINARY, [], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PARLEY_LISTEN: "127.0.0.1:0",
      RUST_LOG: "info",
      NO_COLOR: "1",
      // The tests register many users from one address.
      PARLEY_REGISTER_RATE_ADDRESS: "off",
      PARLEY_LOGIN_RATE_ADDRESS: "off",
      PARLEY_LOGIN_RATE_ACCOUNT: "off",
      PARLEY_SHUTDOWN_TIMEOUT: "2s",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const addr = await new Promise((resolveAddr, reject) => {
    const timer = setTimeout(() => reject(new Error(`Parley did not start:\n${log}`)), 30000);
    const onData = (chunk) => {
      log += chunk.toString();
      // eslint-disable-next-line no-control-regex
      const m = log.replace(/\x1b\[[0-9;]*m/g, "").match(/Parley is listening; open http:\/\/([^/\s]+)\//);
      if (m) {
        clearTimeout(timer);
        resolveAddr(m[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Parley exited with ${code}:\n${log}`));
    });
  });
  const [host, port] = [addr.slice(0, addr.lastIndexOf(":")), Number(addr.slice(addr.lastIndexOf(":") + 1))];
  const exited = new Promise((r) => child.once("exit", r));
  return {
    host,
    port,
    url: `http://${addr}/graphql`,
    log: () => log,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A TCP proxy in front of the server: cut() drops every connection and refuses new ones until restore(). */
export async function startProxy(target) {
  let open = true;
  const pairs = new Set();
  const server = net.createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    const pair = [client, upstream];
    pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    /** How many connections are open through it now. */
    get connections() {
      return pairs.size;
    },
    cut() {
      open = false;
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    restore() {
      open = true;
    },
    retarget(next) {
      target = next;
    },
    async close() {
      this.cut();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Plain GraphQL over HTTP, not through the kit. */
export async function gql(url, query, variables = {}, token) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

let counter = 0;
/** Registers a user with a unique name; returns { token, id, username }. */
export async function register(url, prefix = "user") {
  const username = `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;
  const data = await gql(url, `mutation($i: RegisterInput!) { register(input: $i) { token user { id } } }`, {
    i: { username, password: "correct horse" },
  });
  return { token: data.register.token, id: data.register.user.id, username };
}

/** Alice and Bob in a direct conversation. */
export async function pair(url) {
  const alice = await register(url, "alice");
  const bob = await register(url, "bob");
  const conv = await gql(url, `mutation($u: ID!) { openDirectConversation(userId: $u) { id } }`, { u: bob.id }, alice.token);
  return { alice, bob, conversationId: conv.openDirectConversation.id };
}

export async function sendRaw(url, token, conversationId, body) {
  const data = await gql(
    url,
    `mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq body } }`,
    { i: { conversationId, body } },
    token,
  );
  return data.sendMessage;
}

/** The whole history of a conversation, oldest first, by a fresh HTTP query. */
export async function history(url, token, conversationId) {
  const data = await gql(
    url,
    `query($id: ID!) { conversation(id: $id) { messages(first: 100) { nodes { seq body clientMessageId } } } }`,
    { id: conversationId },
    token,
  );
  return data.conversation.messages.nodes;
}

/** A Parley client for Node. */
export function client(url, options = {}) {
  return createParley({ url, webSocketImpl: WebSocket, storage: null, maxRetryDelay: 1000, ...options });
}

/** The Storage API over a Map (what localStorage is in a page). */
export class MemoryStorage {
  #map = new Map();
  get length() {
    return this.#map.size;
  }
  key(i) {
    return [...this.#map.keys()][i] ?? null;
  }
  getItem(k) {
    return this.#map.has(k) ? this.#map.get(k) : null;
  }
  setItem(k, v) {
    this.#map.set(k, String(v));
  }
  removeItem(k) {
    this.#map.delete(k);
  }
  clear() {
    this.#map.clear();
  }
}

/** Collects what an observer receives. */
export function collect(stream) {
  const items = [];
  const errors = [];
  let completed = false;
  const sub = stream.subscribe({
    next: (v) => items.push(v),
    error: (e) => errors.push(e),
    complete: () => (completed = true),
  });
  return {
    items,
    errors,
    get completed() {
      return completed;
    },
    unsubscribe: () => sub.unsubscribe(),
  };
}
