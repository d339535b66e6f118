// Resume-safe subscriptions. graphql-ws re-sends a subscription's payload
// on each reconnect, stringifying it anew every time (client.js,
// `subscribe`), so the kit keeps one payload per stream and writes the
// latest cursor / seq into its `variables` as events arrive: every retry
// then resumes where the stream got to. Duplicates (anything at or before
// what was delivered) are dropped here as a second line of defence.
import type { Client } from "graphql-ws";
import { ParleyError, type GraphQLErrorLike } from "./errors.js";

export interface Observer<T> {
  next?: (value: T) => void;
  error?: (error: ParleyError) => void;
  complete?: () => void;
}

export interface Unsubscribable {
  unsubscribe(): void;
}

interface Payload {
  query: string;
  variables: Record<string, unknown>;
}

/** What a concrete stream does with one result: the values to deliver (none when a duplicate). */
export type Accept<T> = (data: Record<string, unknown>, variables: Record<string, unknown>) => T[];

export class ResumableStream<T> implements AsyncIterable<T> {
  #observers = new Set<Observer<T>>();
  #dispose: (() => void) | null = null;
  #starting = false;
  #ended = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #restarts = 0;
  #generation = 0;
  #prepared = false;
  protected readonly payload: Payload;

  constructor(
    private readonly client: Client,
    query: string,
    variables: Record<string, unknown>,
    private readonly accept: Accept<T>,
    /** Runs once before the first subscribe (e.g. to learn where history ends). */
    private readonly prepare?: (variables: Record<string, unknown>) => Promise<void>,
  ) {
    this.payload = { query, variables };
  }

  /** Observer form; also accepts a bare `next` function. */
  subscribe(observer: Observer<T> | ((value: T) => void)): Unsubscribable {
    const o: Observer<T> = typeof observer === "function" ? { next: observer } : observer;
    if (this.#ended) {
      queueMicrotask(() => o.complete?.());
      return { unsubscribe() {} };
    }
    this.#observers.add(o);
    this.#start();
    return {
      unsubscribe: () => {
        this.#observers.delete(o);
        if (this.#observers.size === 0) this.#stop();
      },
    };
  }

  /** Async iterable form: `for await (const x of stream)`; breaking out unsubscribes. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    const buffer: T[] = [];
    let failure: ParleyError | null = null;
    let finished = false;
    let wake: (() => void) | null = null;
    const poke = () => {
      wake?.();
      wake = null;
    };
    const sub = this.subscribe({
      next: (v) => {
        buffer.push(v);
        poke();
      },
      error: (e) => {
        failure = e;
        poke();
      },
      complete: () => {
        finished = true;
        poke();
      },
    });
    return {
      next: async (): Promise<IteratorResult<T>> => {
        for (;;) {
          if (buffer.length) return { value: buffer.shift() as T, done: false };
          if (failure) throw failure;
          if (finished) return { value: undefined, done: true };
          await new Promise<void>((r) => (wake = r));
        }
      },
      return: async (): Promise<IteratorResult<T>> => {
        sub.unsubscribe();
        finished = true;
        poke();
        return { value: undefined, done: true };
      },
    };
  }

  /** Stops the stream for every observer (they get `complete`). */
  close(): void {
    this.#finish(null);
  }

  #start(): void {
    if (this.#dispose || this.#starting || this.#ended) return;
    this.#starting = true;
    const go = () => {
      this.#starting = false;
      if (this.#ended || this.#observers.size === 0 || this.#dispose) return;
      // Callbacks of a subscription that was stopped (and maybe replaced) are ignored.
      const generation = ++this.#generation;
      const current = () => generation === this.#generation && this.#dispose !== null;
      this.#dispose = this.client.subscribe<Record<string, unknown>>(this.payload, {
        next: (result) => {
          if (!current()) return;
          this.#restarts = 0;
          if (result.errors?.length) {
            this.#finish(ParleyError.fromGraphQLErrors(result.errors as unknown as GraphQLErrorLike[]));
            return;
          }
          if (!result.data) return;
          for (const value of this.accept(result.data, this.payload.variables)) {
            for (const o of [...this.#observers]) o.next?.(value);
          }
        },
        error: (err) => {
          if (!current()) return;
          this.#dispose = null;
          if (Array.isArray(err)) {
            // The server refused the operation (NOT_FOUND after a removal,
            // BAD_USER_INPUT on a bad cursor): final.
            this.#finish(ParleyError.fromSocketError(err));
            return;
          }
          // graphql-ws gave up on the socket (a close code it treats as
          // fatal, e.g. 4429): resubscribe ourselves, from where we are.
          this.#restarts += 1;
          const delay = Math.min(30000, 1000 * 2 ** Math.min(this.#restarts, 5));
          this.#retryTimer = setTimeout(() => this.#start(), delay);
        },
        complete: () => {
          // The server's (conversationEvents after leaving); ours are not current.
          if (current()) {
            this.#dispose = null;
            this.#finish(null);
          }
        },
      });
    };
    if (this.prepare && !this.#prepared) {
      this.#prepared = true;
      this.prepare(this.payload.variables).then(go, go);
    } else {
      go();
    }
  }

  #stop(): void {
    clearTimeout(this.#retryTimer);
    this.#generation += 1;
    const dispose = this.#dispose;
    this.#dispose = null;
    dispose?.();
  }

  #finish(error: ParleyError | null): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#stop();
    const observers = [...this.#observers];
    this.#observers.clear();
    for (const o of observers) {
      if (error) o.error?.(error);
      else o.complete?.();
    }
  }
}

/** A GraphQL result as graphql-ws, Apollo and urql pass it around. */
export interface ExecutionResultLike {
  data?: Record<string, unknown> | null;
  errors?: ReadonlyArray<GraphQLErrorLike>;
}

/**
 * Any subscription document, made resume-safe by convention: when it
 * declares `$after`, each root field's `cursor` is written back into
 * `after`; when it declares `$afterSeq`, each root field's `seq` into
 * `afterSeq` (and a seq at or before it is dropped). A reconnect then
 * resumes from there. This is what the Apollo and urql helpers use.
 */
export function subscribeResumable(
  client: Client,
  request: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null },
  sink: { next(result: ExecutionResultLike): void; error(error: unknown): void; complete(): void },
): () => void {
  const byCursor = /\$after\b/.test(request.query);
  const bySeq = /\$afterSeq\b/.test(request.query);
  const seen = new Set<string>();
  const stream = new ResumableStream<ExecutionResultLike>(
    client,
    request.query,
    { ...(request.variables ?? {}) },
    (data, vars) => {
      for (const value of Object.values(data)) {
        if (!value || typeof value !== "object") continue;
        const v = value as { cursor?: unknown; seq?: unknown; __typename?: unknown };
        if (bySeq && typeof v.seq === "number") {
          const last = vars.afterSeq;
          if (typeof last === "number" && v.seq <= last) return [];
          vars.afterSeq = v.seq;
        }
        if (byCursor && typeof v.cursor === "string") {
          const marker = v.__typename === "StreamLiveEvent" || v.__typename === "CursorExpiredEvent";
          if (!marker) {
            if (seen.has(v.cursor)) return [];
            seen.add(v.cursor);
            if (seen.size > 1000) seen.delete(seen.values().next().value as string);
          }
          vars.after = v.cursor;
        }
      }
      return [{ data }];
    },
  );
  const sub = stream.subscribe({
    next: (r) => sink.next(r),
    error: (e) => (e.errors.length ? (sink.next({ errors: e.errors }), sink.complete()) : sink.error(e)),
    complete: () => sink.complete(),
  });
  return () => sub.unsubscribe();
}
