// Try the kit as an app would: two users on a running server, a live chat
// and the connection state. `npm run build`, start Parley
// (`cargo run --release`), then: node examples/two-users.mjs [http://127.0.0.1:8080/graphql]
import WebSocket from "ws";
import { createParley, OpenDirectConversationDocument, RegisterDocument } from "../dist/index.js";

const url = process.argv[2] ?? "http://127.0.0.1:8080/graphql";
const make = (token) => createParley({ url, token, webSocketImpl: WebSocket, storage: null });
const suffix = Date.now().toString(36);

const anon = make(null);
const alice = (await anon.request(RegisterDocument, { input: { username: `alice${suffix}`, password: "correct horse" } })).register;
const bob = (await anon.request(RegisterDocument, { input: { username: `bob${suffix}`, password: "correct horse" } })).register;
const a = make(alice.token);
const b = make(bob.token);
b.onConnectionState((s) => console.log("bob's socket:", s));
const { openDirectConversation: conv } = await a.request(OpenDirectConversationDocument, { userId: bob.user.id });

const inbox = b.events();
(async () => {
  for await (const e of inbox) {
    if (e.__typename === "MessageAddedEvent") console.log(`bob's inbox: ${e.message.sender?.displayName}: ${e.message.body}`);
    if (e.__typename === "UnreadCountsChangedEvent") console.log(`bob's unread: ${e.unreadCount}`);
  }
})();
const messages = b.messages(conv.id);
const done = (async () => {
  for await (const m of messages) {
    console.log(`bob sees #${m.seq} ${m.body}`);
    if (m.seq === 3) break;
  }
})();
await new Promise((r) => setTimeout(r, 500));
for (const body of ["Hi Bob!", "Are you there?", "Bye"]) {
  const out = a.send({ conversationId: conv.id, body });
  console.log(`alice sends "${body}" (${out.status}, ${out.clientMessageId})`);
  const stored = await out.done;
  console.log(`  stored as #${stored.seq} (${out.status})`);
}
await done;
await Promise.all([anon.close(), a.close(), b.close()]);
