// Cursor expiry, produced for real: the server keeps events for 1 s
// (PARLEY_EVENT_RETENTION) and prunes the log when it starts; a cursor
// from before the pruned events then gets CursorExpiredEvent, which the
// kit surfaces as "refetch needed", and the stream goes on live from the
// expired event's cursor.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { client, collect, freshDatabase, pair, sendRaw, sleep, startServer, until } from "./helpers.mjs";

let db, server, users;
const env = { PARLEY_EVENT_RETENTION: "1s" };

before(async () => {
  db = await freshDatabase();
  server = await startServer(db.url, env);
  users = await pair(server.url);
});

after(async () => {
  await server?.stop();
  await db?.drop();
});

test("an old cursor gets CursorExpiredEvent, surfaced as refetch-needed", async () => {
  const { alice, bob, conversationId } = users;
  const kit = client(server.url, { token: bob.token });
  const stream = kit.events();
  const got = collect(stream);
  await until(() => got.items.some((e) => e.__typename === "StreamLiveEvent"), "the stream to be live");
  await sendRaw(server.url, alice.token, conversationId, "one");
  await until(() => got.items.some((e) => e.__typename === "MessageAddedEvent"), "the first message's event");
  const old = stream.cursor;
  assert.ok(old);
  got.unsubscribe();
  await kit.close();

  // Events after the cursor, then older than the retention, then pruned at start.
  await sendRaw(server.url, alice.token, conversationId, "two");
  await sendRaw(server.url, alice.token, conversationId, "three");
  await sleep(1500);
  await server.stop();
  server = await startServer(db.url, env);
  await until(() => /pruned the event log/.test(server.log()), "the log to be pruned");

  const again = client(server.url, { token: bob.token });
  const resumed = again.events({ after: old });
  const refetch = [];
  resumed.onRefetchNeeded((e) => refetch.push(e));
  const seen = collect(resumed);
  await until(() => refetch.length === 1, "refetch-needed");
  assert.equal(seen.items[0].__typename, "CursorExpiredEvent");
  assert.notEqual(resumed.cursor, old, "the stream moved on to the expired event's cursor");
  assert.ok(!seen.items.some((e) => e.__typename === "MessageAddedEvent"), "no replay of pruned events");

  await sendRaw(server.url, alice.token, conversationId, "four");
  await until(
    () => seen.items.some((e) => e.__typename === "MessageAddedEvent" && e.message.body === "four"),
    "live events after the expiry",
  );
  seen.unsubscribe();
  await again.close();
});
