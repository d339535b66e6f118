// The README's urql setup, type-checked against the installed urql,
// graphcache and graphql-ws. schema.json is made by make-schema.mjs.
import { Client, fetchExchange, subscriptionExchange } from "urql";
import { cacheExchange } from "@urql/exchange-graphcache";
import { relayPagination } from "@urql/exchange-graphcache/extras";
import { createClient } from "graphql-ws";
import schema from "./generated/schema.json";

const token = () => localStorage.getItem("parley-token");

const wsClient = createClient({
  url: "ws://127.0.0.1:8080/graphql/ws",
  connectionParams: () => ({ authorization: `Bearer ${token()}` }),
});
export const client = new Client({
  url: "http://127.0.0.1:8080/graphql",
  fetchOptions: () => ({ headers: { authorization: `Bearer ${token()}` } }),
  exchanges: [
    cacheExchange({
      schema,
      keys: { PageInfo: () => null, ReactionGroup: () => null, Attachment: () => null },
      resolvers: {
        Query: { conversations: relayPagination() },
        Conversation: { messages: relayPagination() },
      },
    }),
    fetchExchange,
    subscriptionExchange({
      forwardSubscription: (request) => ({
        subscribe: (sink) => ({
          unsubscribe: wsClient.subscribe({ ...request, query: request.query || "" }, sink),
        }),
      }),
    }),
  ],
});
