// @parley/client/apollo: Apollo Client on the kit. Queries and mutations
// go over Apollo's HttpLink with the kit's current token; subscriptions go
// over the kit's one socket and resume by the kit's rules (no duplicates
// after a reconnect); the cache knows Parley's connections, interfaces and
// embedded types.
import {
  ApolloClient,
  ApolloLink,
  HttpLink,
  InMemoryCache,
  Observable,
  split,
  type ApolloClientOptions,
  type FetchResult,
  type InMemoryCacheConfig,
  type NormalizedCacheObject,
  type TypePolicies,
} from "@apollo/client/core/index.js";
import { getMainDefinition, relayStylePagination } from "@apollo/client/utilities/index.js";
import { print } from "graphql";
import type { Parley } from "./client.js";
import { keylessTypes } from "./generated/keyless-types.js";
import introspection from "./generated/possible-types.js";

const possibleTypes: Record<string, string[]> = introspection.possibleTypes;

/** A fetch that adds the kit's current token. */
export function authorizedFetch(parley: Parley, base: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const token = await parley.currentToken();
    const headers = new Headers(init?.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    return base(input, { ...init, headers });
  };
}

/** Subscriptions on the kit's socket, resume-safe (`$after` / `$afterSeq` follow what arrived). */
export function parleySubscriptionLink(parley: Parley): ApolloLink {
  return new ApolloLink(
    (operation) =>
      new Observable<FetchResult>((observer) =>
        parley.subscribe(
          { query: print(operation.query), variables: operation.variables, operationName: operation.operationName },
          {
            next: (result) => observer.next(result as FetchResult),
            error: (error) => observer.error(error),
            complete: () => observer.complete(),
          },
        ),
      ),
  );
}

/** The split link: subscriptions over the socket, everything else over HTTP. */
export function parleyLink(parley: Parley, options: { uri: string; fetch?: typeof fetch }): ApolloLink {
  const http = new HttpLink({ uri: options.uri, fetch: authorizedFetch(parley, options.fetch) });
  return split(
    ({ query }) => {
      const d = getMainDefinition(query);
      return d.kind === "OperationDefinition" && d.operation === "subscription";
    },
    parleySubscriptionLink(parley),
    http,
  );
}

/**
 * Relay-style pagination for Parley's connections (so `fetchMore` with
 * `before:` prepends older messages), and the types without an id (events,
 * edges, payloads) embedded rather than normalised: an event's `message`
 * still merges into the cached Message, so edits and reactions show.
 */
export const parleyTypePolicies: TypePolicies = {
  ...Object.fromEntries(keylessTypes.map((t) => [t, { keyFields: false as const }])),
  Query: {
    fields: {
      conversations: relayStylePagination(["filter"]),
      users: relayStylePagination(["search"]),
      sessions: relayStylePagination(),
      searchMessages: relayStylePagination(["query", "conversationId", "orderBy"]),
    },
  },
  Conversation: { fields: { messages: relayStylePagination(), members: relayStylePagination() } },
  Message: { fields: { replies: relayStylePagination(), reactions: { merge: false }, attachments: { merge: false } } },
};

/** An InMemoryCache with possibleTypes and parleyTypePolicies (yours merged over them). */
export function parleyCache(config: InMemoryCacheConfig = {}): InMemoryCache {
  const { typePolicies, ...rest } = config;
  return new InMemoryCache({
    possibleTypes,
    ...rest,
    typePolicies: { ...parleyTypePolicies, ...typePolicies },
  });
}

/** An ApolloClient wired to the kit: parleyLink + parleyCache. */
export function createApolloClient(
  parley: Parley,
  options: { uri: string; fetch?: typeof fetch } & Partial<ApolloClientOptions<NormalizedCacheObject>>,
): ApolloClient<NormalizedCacheObject> {
  const { uri, fetch: fetchImpl, ...rest } = options;
  return new ApolloClient({
    link: parleyLink(parley, { uri, ...(fetchImpl ? { fetch: fetchImpl } : {}) }),
    cache: parleyCache(),
    ...rest,
  });
}
