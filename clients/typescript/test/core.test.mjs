// The basics as an app uses them: typed requests, typed errors, the
// RATE_LIMITED wait, and a live conversation between two kits.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  ConversationMessagesDocument,
  LoginDocument,
  MeDocument,
  OpenDirectConversationDocument,
  ParleyError,
  RegisterDocument,
  possibleTypes,
} from "../dist/index.js";
import { client, collect, freshDatabase, register, startServer, until } from "./helpers.mjs";

let db, server;

before(async () => {
  db = await freshDatabase();
  // Two failed logins per account, then one more every 2 s.
  server = await startServer(db.url, { PARLEY_LOGIN_RATE_ACCOUNT: "2/2s" });
});

after(async () => {
  await server?.stop();
  await db?.drop();
});

test("register, open a conversation, chat live both ways", async () => {
  const anon = client(server.url);
  const name = `ann${Date.now().toString(36)}`;
  const { register: ann } = await anon.request(RegisterDocument, { input: { username: name, password: "correct horse" } });
  const ben = await register(server.url, "ben");
  const annKit = client(server.url, { token: ann.token });
  const benKit = client(server.url, { token: ben.token });
  assert.equal((await annKit.request(MeDocument)).me.username, name);
  const conv = (await annKit.request(OpenDirectConversationDocument, { userId: ben.id })).openDirectConversation;

  const annSees = collect(annKit.messages(conv.id));
  const benSees = collect(benKit.events());
  await until(() => benSees.items.some((e) => e.__typename === "StreamLiveEvent"), "Ben live");
  await until(() => annKit.connectionState === "live", "Ann live");
  await annKit.send({ conversationId: conv.id, body: "hi Ben" }).done;
  await benKit.send({ conversationId: conv.id, body: "hi Ann" }).done;
  await until(() => annSees.items.length === 2, "Ann sees both");
  assert.deepEqual(annSees.items.map((m) => [m.seq, m.body, m.sender.id]), [
    [1, "hi Ben", ann.user.id],
    [2, "hi Ann", ben.id],
  ]);
  await until(() => benSees.items.filter((e) => e.__typename === "MessageAddedEvent").length === 2, "Ben's events");

  const page = await benKit.request(ConversationMessagesDocument, { id: conv.id, last: 50 });
  assert.deepEqual(page.conversation.messages.nodes.map((m) => m.body), ["hi Ben", "hi Ann"]);
  await Promise.all([anon.close(), annKit.close(), benKit.close()]);
});

test("errors are ParleyError with extensions.code and the field", async () => {
  const kit = client(server.url);
  await assert.rejects(kit.request("query { me { id } }"), (e) => e instanceof ParleyError && e.code === "UNAUTHENTICATED");
  await assert.rejects(
    kit.request(RegisterDocument, { input: { username: "x", password: "correct horse" } }),
    (e) => e instanceof ParleyError && e.code === "BAD_USER_INPUT" && e.field === "username" && e.permanent,
  );
  await assert.rejects(kit.request("query { nope }"), (e) => e.code === "GRAPHQL_VALIDATION_FAILED");
  const down = client("http://127.0.0.1:9/graphql");
  await assert.rejects(down.request(MeDocument), (e) => e.code === "NETWORK_ERROR" && !e.permanent);
  await Promise.all([kit.close(), down.close()]);
});

test("RATE_LIMITED: retryAfterSeconds is honoured, then the request goes through", async () => {
  const user = await register(server.url, "rl");
  const patient = client(server.url);
  const impatient = client(server.url, { rateLimitRetries: 0 });
  const wrong = { input: { username: user.username, password: "wrong password" } };
  for (let i = 0; i < 2; i++) {
    await assert.rejects(patient.request(LoginDocument, wrong), (e) => e.code === "UNAUTHENTICATED");
  }
  const right = { input: { username: user.username, password: "correct horse" } };
  await assert.rejects(impatient.request(LoginDocument, right), (e) => {
    assert.equal(e.code, "RATE_LIMITED");
    assert.ok(e.retryAfter >= 1 && e.retryAfter <= 2, `retryAfter ${e.retryAfter}`);
    return true;
  });
  const started = Date.now();
  const ok = await patient.request(LoginDocument, right);
  assert.ok(ok.login.token);
  assert.ok(Date.now() - started >= 500, "it waited");
  await Promise.all([patient.close(), impatient.close()]);
});

test("possibleTypes is generated from the schema", () => {
  assert.ok(possibleTypes.Event.includes("CursorExpiredEvent"));
  assert.deepEqual([...possibleTypes.Node].sort(), ["Conversation", "Message", "User"]);
});
