// Token refresh: Bob's first session is logged out while his socket is
// open; the server closes it with 4403; the kit reconnects asking
// getToken() again, which now returns the token of a second session, and
// the stream resumes without a gap or a duplicate.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { client, collect, freshDatabase, gql, pair, sendRaw, startServer, until } from "./helpers.mjs";

let db, server, users;

before(async () => {
  db = await freshDatabase();
  server = await startServer(db.url);
  users = await pair(server.url);
});

after(async () => {
  await server?.stop();
  await db?.drop();
});

const login = async (username) =>
  (await gql(server.url, `mutation($i: LoginInput!) { login(input: $i) { token } }`, { i: { username, password: "correct horse" } }))
    .login.token;

test("a refreshed token is used on reconnect, and for HTTP", async () => {
  const { alice, bob, conversationId } = users;
  const first = await login(bob.username);
  let current = first;
  const asked = [];
  const bobKit = client(server.url, {
    getToken: () => {
      asked.push(current);
      return current;
    },
  });
  const states = [];
  bobKit.onConnectionState((s) => states.push(s));
  const got = collect(bobKit.messages(conversationId));
  await until(() => bobKit.connectionState === "live", "live");
  await sendRaw(server.url, alice.token, conversationId, "one");
  await until(() => got.items.length === 1, "the first message");

  // A second session; the first one signs out (its socket gets 4403).
  const second = await login(bob.username);
  current = second;
  await gql(server.url, "mutation { logout }", {}, first);
  await until(() => states.includes("reconnecting"), "the socket to drop");
  await sendRaw(server.url, alice.token, conversationId, "two");
  await until(() => bobKit.connectionState === "live", "live with the new token");
  await sendRaw(server.url, alice.token, conversationId, "three");
  await until(() => got.items.length >= 3, "three messages");
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(got.items.map((m) => m.body), ["one", "two", "three"]);
  assert.ok(asked.includes(second), "getToken was asked again and gave the new token");
  assert.deepEqual(got.errors, []);

  // HTTP too: the old token is dead, the kit asks for the current one.
  const me = await bobKit.request("query { me { username } }");
  assert.equal(me.me.username, bob.username);
  got.unsubscribe();
  await bobKit.close();
});

test("setToken reconnects the socket with the new token", async () => {
  const { alice, bob, conversationId } = users;
  const first = await login(bob.username);
  const bobKit = client(server.url, { token: first });
  const got = collect(bobKit.messages(conversationId));
  await until(() => bobKit.connectionState === "live", "live");
  const second = await login(bob.username);
  bobKit.setToken(second);
  await gql(server.url, "mutation { logout }", {}, first);
  await sendRaw(server.url, alice.token, conversationId, "after setToken");
  await until(() => got.items.some((m) => m.body === "after setToken"), "the message after setToken");
  // The old token is revoked, so a request can only succeed with the new one.
  const me = await bobKit.request("query { me { username } }");
  assert.equal(me.me.username, bob.username);
  got.unsubscribe();
  await bobKit.close();
});
