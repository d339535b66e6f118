// The README's Apollo Client setup, type-checked against the installed
// @apollo/client and graphql-ws (keep the two in step).
import { ApolloClient, HttpLink, InMemoryCache, split } from "@apollo/client";
import { setContext } from "@apollo/client/link/context";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { relayStylePagination, getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";

declare function sha256(text: string): Promise<string>;

const token = () => localStorage.getItem("parley-token");
const http = setContext((_, { headers }) => ({
  headers: { ...headers, ...(token() ? { authorization: `Bearer ${token()}` } : {}) },
}))
  .concat(createPersistedQueryLink({ sha256 }))
  .concat(new HttpLink({ uri: "http://127.0.0.1:8080/graphql" }));
const ws = new GraphQLWsLink(
  createClient({
    url: "ws://127.0.0.1:8080/graphql/ws",
    connectionParams: () => ({ authorization: `Bearer ${token()}` }),
  }),
);
export const client = new ApolloClient({
  link: split(
    ({ query }) => {
      const d = getMainDefinition(query);
      return d.kind === "OperationDefinition" && d.operation === "subscription";
    },
    ws,
    http,
  ),
  cache: new InMemoryCache({
    possibleTypes: { Node: ["User", "Conversation", "Message"] },
    typePolicies: {
      Query: {
        fields: {
          conversations: relayStylePagination(["filter"]),
          users: relayStylePagination(["search"]),
          searchMessages: relayStylePagination(["query", "conversationId", "orderBy"]),
        },
      },
      Conversation: { fields: { messages: relayStylePagination(), members: relayStylePagination() } },
      MessageAddedEvent: { keyFields: false },
    },
  }),
});
