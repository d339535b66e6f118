// createParley: one object that holds the token, the HTTP requester, the
// one WebSocket, the resume-safe streams and the outbox.
import { createRequest, type Document } from "./http.js";
import { Socket, type ConnectionState } from "./socket.js";
import { ResumableStream, subscribeResumable, type ExecutionResultLike } from "./stream.js";
import { Outbox, type Message, type OutgoingMessage, type SendInput } from "./outbox.js";
import {
  ConversationEventsDocument,
  ConversationLastSeqDocument,
  EventsDocument,
  MessageAddedDocument,
  type EventFieldsFragment,
} from "./generated/graphql.js";
import type { Client } from "graphql-ws";

export interface ParleyOptions {
  /** The HTTP endpoint, e.g. `http://127.0.0.1:8080/graphql` (relative URLs work in a page). */
  url: string;
  /** Defaults to the same host with ws(s): and `/graphql/ws`. */
  wsUrl?: string;
  token?: string | null;
  /** Called for every HTTP request and every (re)connect of the socket. */
  getToken?: () => string | null | Promise<string | null>;
  /** Where the outbox is kept; default `globalThis.localStorage` when there is one; `null`: memory only. */
  storage?: Storage | null;
  /** Namespace of the persisted outbox (default `"parley"`): one per signed-in user. */
  storageKey?: string;
  fetch?: typeof fetch;
  /** A WebSocket class for Node (`ws`); browsers have their own. */
  webSocketImpl?: unknown;
  /** How often RATE_LIMITED is waited out before request() throws it (default 2). */
  rateLimitRetries?: number;
  /** Longest wait between reconnects and between send retries, ms (default 10000). */
  maxRetryDelay?: number;
}

/** An event as the kit selects it (see src/operations/events.graphql). */
export type ParleyEvent = EventFieldsFragment;

/** `events()` / `conversationEvents()`: a resumable stream of events. */
export class EventStream extends ResumableStream<ParleyEvent> {
  #refetch = new Set<(e: ParleyEvent) => void>();

  /** @internal */
  constructor(client: Client, query: string, variables: Record<string, unknown>) {
    // Cursors delivered lately: a repeat of one is a duplicate.
    const seen = new Set<string>();
    super(client, query, variables, (data, vars) => {
      const event = (data.events ?? data.conversationEvents) as ParleyEvent | undefined;
      if (!event) return [];
      const type = event.__typename;
      if (event.cursor) {
        const marker = type === "StreamLiveEvent" || type === "CursorExpiredEvent";
        if (!marker) {
          if (seen.has(event.cursor)) return [];
          seen.add(event.cursor);
          if (seen.size > 1000) seen.delete(seen.values().next().value as string);
        }
        vars.after = event.cursor;
      }
      if (type === "CursorExpiredEvent") for (const cb of this.#refetch) cb(event);
      return [event];
    });
  }

  /** The latest cursor seen: where the stream resumes (persist it if you like). */
  get cursor(): string | null {
    return (this.payload.variables.after as string | null | undefined) ?? null;
  }

  /**
   * The server no longer has the events after the cursor: reload what you
   * show (conversations, unread counts); the stream goes on from the
   * expired event's cursor.
   */
  onRefetchNeeded(cb: (event: ParleyEvent) => void): () => void {
    this.#refetch.add(cb);
    return () => this.#refetch.delete(cb);
  }
}

/** `messages()`: one conversation's new messages, strictly increasing seq. */
export class MessageStream extends ResumableStream<Message> {
  /** @internal */
  constructor(client: Client, variables: Record<string, unknown>, prepare?: (v: Record<string, unknown>) => Promise<void>) {
    super(
      client,
      MessageAddedDocument.toString(),
      variables,
      (data, vars) => {
        const message = data.messageAdded as Message | undefined;
        if (!message) return [];
        const last = vars.afterSeq as number | null | undefined;
        if (last != null && message.seq <= last) return [];
        vars.afterSeq = message.seq;
        return [message];
      },
      prepare,
    );
  }

  /** The seq of the last message delivered (or the `afterSeq` it started from). */
  get lastSeq(): number | null {
    return (this.payload.variables.afterSeq as number | null | undefined) ?? null;
  }
}

export interface Parley {
  /** A query or mutation over HTTP; throws ParleyError. */
  request<TData, TVars>(document: Document<TData, TVars>, variables?: TVars): Promise<TData>;
  /** Replaces the token (and any getToken); the socket reconnects with it and the outbox tries again. */
  setToken(token: string | null): void;
  readonly connectionState: ConnectionState;
  onConnectionState(cb: (state: ConnectionState) => void): () => void;
  /** Everything the viewer may see, resumable; `fields` is extra selection inside `events { }`. */
  events(options?: { after?: string | null; fields?: string }): EventStream;
  /** One conversation's events (ends after the viewer leaves or is removed). */
  conversationEvents(conversationId: string, options?: { after?: string | null; fields?: string }): EventStream;
  /** New messages of a conversation; without `afterSeq`, from where its history ends now. */
  messages(conversationId: string, options?: { afterSeq?: number | null }): MessageStream;
  /** Sends optimistically; queued while offline; exactly once by clientMessageId. */
  send(input: SendInput): OutgoingMessage;
  /** Everything not yet sent (and the failed), in order. */
  readonly outbox: readonly OutgoingMessage[];
  onOutboxChange(cb: (outbox: readonly OutgoingMessage[]) => void): () => void;
  /** The network went down / came back (browsers: automatic from `offline`/`online`). */
  setNetworkOnline(online: boolean): void;
  /**
   * Any subscription on the kit's socket, resume-safe by convention
   * (`$after` follows the root field's `cursor`, `$afterSeq` its `seq`):
   * what the Apollo and urql helpers use.
   */
  subscribe(
    request: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null },
    sink: { next(result: ExecutionResultLike): void; error(error: unknown): void; complete(): void },
  ): () => void;
  /** The token as it is now (from token, setToken or getToken). */
  currentToken(): Promise<string | null>;
  /** The graphql-ws client itself (no resume logic of its own). */
  readonly ws: Client;
  close(): Promise<void>;
}

function defaultWsUrl(url: string): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  const u = new URL(url, base);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  u.pathname = u.pathname.replace(/\/$/, "") + "/ws";
  return u.toString();
}

/** The events document with extra selection inside the root field, next to `...EventFields`. */
function withFields(document: string, fields?: string): string {
  return fields ? document.replace("...EventFields", `...EventFields\n    ${fields}`) : document;
}

export function createParley(options: ParleyOptions): Parley {
  let token: string | null = options.token ?? null;
  let getToken = options.getToken;
  const currentToken = async () => (getToken ? ((await getToken()) ?? null) : token);
  const maxRetryDelay = options.maxRetryDelay ?? 10000;
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);

  const request = createRequest({
    url: options.url,
    fetch: fetchImpl,
    token: currentToken,
    refreshable: getToken !== undefined,
    rateLimitRetries: options.rateLimitRetries ?? 2,
    maxRetryAfter: 60,
  });
  const socket = new Socket({
    url: options.wsUrl ?? defaultWsUrl(options.url),
    token: currentToken,
    webSocketImpl: options.webSocketImpl,
    maxRetryDelay,
  });
  const storage =
    options.storage === undefined
      ? ((globalThis as { localStorage?: Storage }).localStorage ?? null)
      : options.storage;
  const outbox = new Outbox({
    request,
    storage,
    storageKey: options.storageKey ?? "parley",
    whenOnline: () => socket.whenOnline(),
    maxRetryDelay,
  });
  socket.onConnected(() => outbox.nudge());

  // Browsers: follow the network's offline/online events.
  const win = (globalThis as { window?: Window }).window;
  const onOffline = () => socket.setNetworkOnline(false);
  const onOnline = () => {
    socket.setNetworkOnline(true);
    outbox.nudge();
  };
  if (win?.addEventListener) {
    win.addEventListener("offline", onOffline);
    win.addEventListener("online", onOnline);
    if (win.navigator?.onLine === false) onOffline();
  }

  const streams = new Set<{ close(): void }>();
  const track = <S extends { close(): void }>(s: S): S => {
    streams.add(s);
    return s;
  };

  return {
    request,
    setToken(next) {
      token = next;
      getToken = undefined;
      socket.reconnect();
      outbox.nudge();
    },
    get connectionState() {
      return socket.state;
    },
    onConnectionState: (cb) => socket.onState(cb),
    events(opts = {}) {
      return track(
        new EventStream(socket.client, withFields(EventsDocument.toString(), opts.fields), {
          after: opts.after ?? null,
        }),
      );
    },
    conversationEvents(conversationId, opts = {}) {
      return track(
        new EventStream(socket.client, withFields(ConversationEventsDocument.toString(), opts.fields), {
          conversationId,
          after: opts.after ?? null,
        }),
      );
    },
    messages(conversationId, opts = {}) {
      const variables: Record<string, unknown> = { conversationId, afterSeq: opts.afterSeq ?? null };
      // Without afterSeq, start from the end of the history as it is now,
      // so that a drop before the first message loses nothing either.
      const prepare =
        opts.afterSeq == null
          ? async (v: Record<string, unknown>) => {
              const data = await request(ConversationLastSeqDocument, { id: conversationId });
              if (data.conversation && v.afterSeq == null) v.afterSeq = data.conversation.lastSeq;
            }
          : undefined;
      return track(new MessageStream(socket.client, variables, prepare));
    },
    send: (input) => outbox.add(input),
    get outbox() {
      return outbox.items;
    },
    onOutboxChange: (cb) => outbox.onChange(cb),
    setNetworkOnline(online) {
      socket.setNetworkOnline(online);
      if (online) outbox.nudge();
    },
    subscribe: (req, sink) => subscribeResumable(socket.client, req, sink),
    currentToken,
    ws: socket.client,
    async close() {
      if (win?.removeEventListener) {
        win.removeEventListener("offline", onOffline);
        win.removeEventListener("online", onOnline);
      }
      outbox.close();
      for (const s of streams) s.close();
      await socket.dispose();
    },
  };
}
