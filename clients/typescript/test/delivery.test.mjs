// Exactly-once delivery through the kit's resume-safe streams, across a
// socket drop (a TCP proxy that the test cuts) and across a server
// restart on the same database (behind the same proxy port).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { client, collect, freshDatabase, history, pair, sendRaw, startProxy, startServer, until } from "./helpers.mjs";

let db, server, proxy, users;

before(async () => {
  db = await freshDatabase();
  server = await startServer(db.url);
  proxy = await startProxy(server);
  users = await pair(server.url);
});

after(async () => {
  await proxy?.close();
  await server?.stop();
  await db?.drop();
});

const seqs = (messages) => messages.map((m) => m.seq);
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const addedSeqs = (events) =>
  events.filter((e) => e.__typename === "MessageAddedEvent" && e.message.conversationId === users.conversationId).map((e) => e.message.seq);

test("across a socket drop: every message once, in order, on messages() and events()", async () => {
  const { alice, bob, conversationId } = users;
  const bobKit = client(proxy.url, { token: bob.token });
  const states = [];
  bobKit.onConnectionState((s) => states.push(s));
  const messages = bobKit.messages(conversationId);
  const events = bobKit.events();
  const got = collect(messages);
  const evs = collect(events);
  // Live once the stream has said so.
  await until(() => evs.items.some((e) => e.__typename === "StreamLiveEvent"), "StreamLiveEvent");
  assert.equal(bobKit.connectionState, "live");

  for (let i = 1; i <= 3; i++) await sendRaw(server.url, alice.token, conversationId, `before ${i}`);
  await until(() => got.items.length === 3, "the first three");

  proxy.cut();
  await until(() => bobKit.connectionState === "reconnecting", "reconnecting");
  for (let i = 1; i <= 3; i++) await sendRaw(server.url, alice.token, conversationId, `during ${i}`);
  await new Promise((r) => setTimeout(r, 300));
  proxy.restore();
  await until(() => bobKit.connectionState === "live", "live again");
  for (let i = 1; i <= 3; i++) await sendRaw(server.url, alice.token, conversationId, `after ${i}`);

  await until(() => got.items.length >= 9 && addedSeqs(evs.items).length >= 9, "nine messages");
  await new Promise((r) => setTimeout(r, 300)); // a late duplicate would show up here
  assert.deepEqual(seqs(got.items), range(1, 9));
  assert.deepEqual(addedSeqs(evs.items), range(1, 9));
  assert.deepEqual(
    got.items.map((m) => m.body),
    ["before 1", "before 2", "before 3", "during 1", "during 2", "during 3", "after 1", "after 2", "after 3"],
  );
  assert.equal(messages.lastSeq, 9);
  assert.ok(events.cursor, "events() keeps a cursor");
  // The banner saw the drop and the recovery.
  const changes = states.filter((s, i) => s !== states[i - 1]);
  assert.deepEqual(changes.slice(changes.indexOf("live")), ["live", "reconnecting", "live"], `states: ${states}`);
  assert.deepEqual(got.errors, []);
  got.unsubscribe();
  evs.unsubscribe();
  await bobKit.close();
});

test("across a server restart on the same database: every message once, in order", async () => {
  const { alice, bob, conversationId } = users;
  const already = (await history(server.url, alice.token, conversationId)).length;
  const bobKit = client(proxy.url, { token: bob.token });
  const messages = bobKit.messages(conversationId);
  const seen = [];
  // The async-iterable form this time.
  const reading = (async () => {
    for await (const m of messages) {
      seen.push(m);
      if (seen.length === 6) break;
    }
  })();
  await until(() => bobKit.connectionState === "live", "live");
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 1; i <= 2; i++) await sendRaw(server.url, alice.token, conversationId, `old server ${i}`);
  await until(() => seen.length === 2, "two from the old server");

  await server.stop();
  server = await startServer(db.url);
  proxy.retarget(server);
  // Sent to the new server before Bob is back.
  for (let i = 1; i <= 2; i++) await sendRaw(server.url, alice.token, conversationId, `new server ${i}`);
  await until(() => bobKit.connectionState === "live", "live on the new server");
  for (let i = 3; i <= 4; i++) await sendRaw(server.url, alice.token, conversationId, `new server ${i}`);
  await reading;
  assert.deepEqual(seqs(seen), range(already + 1, already + 6));
  assert.deepEqual(
    seen.map((m) => m.body),
    ["old server 1", "old server 2", "new server 1", "new server 2", "new server 3", "new server 4"],
  );
  await bobKit.close();
});
