// @parley/client/urql: urql on the kit. Subscriptions go over the kit's
// one socket and resume by its rules; HTTP requests carry the kit's
// current token; graphcache gets `keys` for the types without an id and
// relayPagination for Parley's connections.
import { Client, fetchExchange, subscriptionExchange, type ClientOptions, type Exchange } from "@urql/core";
import { cacheExchange, type CacheExchangeOpts, type KeyingConfig, type ResolverConfig } from "@urql/exchange-graphcache";
import { relayPagination } from "@urql/exchange-graphcache/extras";
import type { Parley } from "./client.js";
import { keylessTypes } from "./generated/keyless-types.js";

/** A fetch that adds the kit's current token. */
export function authorizedFetch(parley: Parley, base: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const token = await parley.currentToken();
    const headers = new Headers(init?.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    return base(input, { ...init, headers });
  };
}

/** urql's subscriptionExchange on the kit's socket, resume-safe. */
export function parleySubscriptionExchange(parley: Parley): Exchange {
  return subscriptionExchange({
    forwardSubscription: (request) => ({
      subscribe: (sink) => ({
        unsubscribe: parley.subscribe(
          { query: request.query ?? "", variables: request.variables ?? null },
          {
            next: (result) => sink.next(result as Parameters<typeof sink.next>[0]),
            error: (error) => sink.error(error),
            complete: () => sink.complete(),
          },
        ),
      }),
    }),
  });
}

/** graphcache keys: the types without an id are embedded. */
export const parleyKeys: KeyingConfig = Object.fromEntries(keylessTypes.map((t) => [t, () => null]));

/** relayPagination for Parley's connections. */
export const parleyResolvers: ResolverConfig = {
  Query: { conversations: relayPagination(), users: relayPagination(), searchMessages: relayPagination() },
  Conversation: { messages: relayPagination(), members: relayPagination() },
  Message: { replies: relayPagination() },
};

/** graphcache with parleyKeys and parleyResolvers (yours merged over them). */
export function parleyCacheExchange(options: CacheExchangeOpts = {}): Exchange {
  return cacheExchange({
    ...options,
    keys: { ...parleyKeys, ...options.keys },
    resolvers: { ...parleyResolvers, ...options.resolvers },
  });
}

/** A urql Client wired to the kit: graphcache, fetch with the token, subscriptions on the socket. */
export function createUrqlClient(
  parley: Parley,
  options: { url: string; cache?: CacheExchangeOpts } & Partial<ClientOptions>,
): Client {
  const { url, cache, fetch: fetchImpl, ...rest } = options;
  return new Client({
    url,
    fetch: authorizedFetch(parley, fetchImpl),
    exchanges: [parleyCacheExchange(cache), fetchExchange, parleySubscriptionExchange(parley)],
    ...rest,
  });
}
