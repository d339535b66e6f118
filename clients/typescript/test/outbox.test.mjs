// The offline queue: sends made while the server is down wait (in memory
// and in storage), survive a reload (a new createParley on the same
// storage), and are stored once each, in order, when it comes back.
// Sends that can never succeed are marked failed, with retry().
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MemoryStorage, client, freshDatabase, history, pair, startProxy, startServer, until } from "./helpers.mjs";

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

test("queued while the server is down, across a reload, then stored once each in order", async () => {
  const { alice, conversationId } = users;
  const storage = new MemoryStorage();
  const first = client(proxy.url, { token: alice.token, storage, storageKey: "alice" });
  const sent = first.send({ conversationId, body: "online first" });
  assert.equal(sent.optimistic.body, "online first", "an optimistic message at once");
  assert.equal(sent.optimistic.clientMessageId, sent.clientMessageId);
  await sent.done;
  assert.equal(sent.status, "sent");
  assert.equal(sent.message.clientMessageId, sent.clientMessageId);

  // The server goes away.
  await server.stop();
  const queued = [1, 2, 3].map((i) => first.send({ conversationId, body: `queued ${i}` }));
  assert.deepEqual(queued.map((o) => o.status).filter((s) => s === "sent"), []);
  await until(() => queued[0].error?.code === "NETWORK_ERROR", "the first attempt to fail on the network");
  assert.equal(queued[0].status === "pending" || queued[0].status === "sending", true);
  assert.equal(first.outbox.length, 3);
  assert.equal(JSON.parse(storage.getItem("alice:outbox")).length, 3, "persisted");
  // The page reloads while still offline.
  await first.close();

  const second = client(proxy.url, { token: alice.token, storage, storageKey: "alice" });
  assert.deepEqual(
    second.outbox.map((o) => o.input.body),
    ["queued 1", "queued 2", "queued 3"],
    "restored from storage",
  );
  assert.deepEqual(
    second.outbox.map((o) => o.clientMessageId),
    queued.map((o) => o.clientMessageId),
    "with the same idempotency keys",
  );
  const more = [4, 5].map((i) => second.send({ conversationId, body: `queued ${i}` }));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(second.outbox.length, 5);

  // The server comes back on the same database, behind the same address.
  server = await startServer(db.url);
  proxy.retarget(server);
  const stored = await Promise.all([...second.outbox].map((o) => o.done));
  assert.deepEqual(stored.map((m) => m.body), ["queued 1", "queued 2", "queued 3", "queued 4", "queued 5"]);
  assert.equal(second.outbox.length, 0);
  assert.equal(storage.getItem("alice:outbox"), null, "storage emptied");
  assert.ok(more.every((o) => o.status === "sent"));

  const bodies = (await history(server.url, alice.token, conversationId)).map((m) => m.body);
  assert.deepEqual(bodies, ["online first", "queued 1", "queued 2", "queued 3", "queued 4", "queued 5"]);
  await second.close();
});

test("a repeated clientMessageId is stored once", async () => {
  const { alice, conversationId } = users;
  const kit = client(server.url, { token: alice.token });
  const a = kit.send({ conversationId, body: "idempotent", clientMessageId: "fixed-key-1" });
  const b = kit.send({ conversationId, body: "idempotent", clientMessageId: "fixed-key-1" });
  const [ma, mb] = await Promise.all([a.done, b.done]);
  assert.equal(ma.id, mb.id);
  const rows = (await history(server.url, alice.token, conversationId)).filter((m) => m.clientMessageId === "fixed-key-1");
  assert.equal(rows.length, 1);
  await kit.close();
});

test("a send that cannot succeed is failed, with its error, and retry() sends it again", async () => {
  const { alice, conversationId } = users;
  const kit = client(server.url, { token: alice.token });
  const tooLong = kit.send({ conversationId, body: "x".repeat(4001) });
  await assert.rejects(tooLong.done, (e) => e.code === "BAD_USER_INPUT" && e.field === "body");
  assert.equal(tooLong.status, "failed");
  assert.equal(kit.outbox.includes(tooLong), true, "kept, so the app can show it and offer retry");

  // One after a failed one still goes out.
  const fine = kit.send({ conversationId, body: "after a failure" });
  await fine.done;

  // A conversation that does not exist (or is not Alice's).
  const nowhere = kit.send({ conversationId: "Q29udmVyc2F0aW9uOjk5OTk5", body: "hello?" });
  await assert.rejects(nowhere.done, (e) => e.code === "NOT_FOUND" || e.code === "BAD_USER_INPUT");
  assert.equal(nowhere.status, "failed");

  // retry() really sends again (and fails again, here).
  const changes = [];
  nowhere.onChange((o) => changes.push(o.status));
  nowhere.retry();
  await assert.rejects(nowhere.done);
  assert.deepEqual(changes, ["pending", "sending", "failed"]);
  nowhere.cancel();
  tooLong.cancel();
  assert.equal(kit.outbox.length, 0);
  await kit.close();
});
