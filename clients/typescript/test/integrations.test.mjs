// The Apollo and urql helpers: a real query and a real subscription
// through each, against the server; the subscription resumes after a
// socket drop without duplicates.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { gql as apolloGql } from "@apollo/client/core/index.js";
import { createApolloClient } from "../dist/apollo.js";
import { createUrqlClient } from "../dist/urql.js";
import { client, freshDatabase, pair, sendRaw, startProxy, startServer, until } from "./helpers.mjs";

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

const INBOX = `query Inbox { conversations(first: 10) { pageInfo { hasNextPage endCursor } edges { cursor node { id title unreadCount } } } }`;
const ADDED = `subscription Added($c: ID!, $afterSeq: Int) { messageAdded(conversationId: $c, afterSeq: $afterSeq) { id seq body } }`;

test("Apollo: a query and a resume-safe subscription", async () => {
  const { alice, bob, conversationId } = users;
  const parley = client(proxy.url, { token: bob.token });
  const apollo = createApolloClient(parley, { uri: proxy.url });
  const inbox = await apollo.query({ query: apolloGql(INBOX) });
  assert.deepEqual(inbox.data.conversations.edges.map((e) => e.node.id), [conversationId]);

  const seqs = [];
  const sub = apollo
    .subscribe({ query: apolloGql(ADDED), variables: { c: conversationId, afterSeq: 0 } })
    .subscribe({ next: (r) => seqs.push(r.data.messageAdded.seq) });
  const base = (await sendRaw(server.url, alice.token, conversationId, "apollo 1")).seq;
  await until(() => seqs.length === base, "replay and the first live message");
  proxy.cut();
  await sendRaw(server.url, alice.token, conversationId, "apollo 2");
  proxy.restore();
  await sendRaw(server.url, alice.token, conversationId, "apollo 3");
  await until(() => seqs.length >= base + 2, "all of them");
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(seqs, Array.from({ length: base + 2 }, (_, i) => i + 1));
  // The message landed in the normalised cache.
  const id = apollo.cache.identify({ __typename: "Message", id: (await apollo.query({ query: apolloGql(`query($id: ID!) { conversation(id: $id) { id lastMessage { id } } }`), variables: { id: conversationId } })).data.conversation.lastMessage.id });
  assert.ok(apollo.cache.extract()[id], "messages are normalised");
  sub.unsubscribe();
  apollo.stop();
  await parley.close();
});

test("urql: a query and a resume-safe subscription", async () => {
  const { alice, bob, conversationId } = users;
  const parley = client(proxy.url, { token: bob.token });
  const urql = createUrqlClient(parley, { url: proxy.url });
  const inbox = await urql.query(INBOX, {}).toPromise();
  assert.equal(inbox.error, undefined);
  assert.deepEqual(inbox.data.conversations.edges.map((e) => e.node.id), [conversationId]);

  const start = (await sendRaw(server.url, alice.token, conversationId, "urql 0")).seq;
  const seqs = [];
  const sub = urql.subscription(ADDED, { c: conversationId, afterSeq: start }).subscribe((r) => {
    if (r.data) seqs.push(r.data.messageAdded.seq);
  });
  await until(() => parley.connectionState === "live", "live");
  await new Promise((r) => setTimeout(r, 200));
  await sendRaw(server.url, alice.token, conversationId, "urql 1");
  await until(() => seqs.length === 1, "the first");
  proxy.cut();
  await sendRaw(server.url, alice.token, conversationId, "urql 2");
  proxy.restore();
  await sendRaw(server.url, alice.token, conversationId, "urql 3");
  await until(() => seqs.length >= 3, "all three");
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(seqs, [start + 1, start + 2, start + 3]);
  sub.unsubscribe();
  await parley.close();
});
