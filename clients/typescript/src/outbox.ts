// Outgoing messages: optimistic at once, sent one at a time in order,
// waiting while the network or the server is down, persisted so that a
// reload sends them later, and exactly once because every send of one
// message carries the same clientMessageId (the server answers a repeat
// with the message it stored the first time: service/src/messages/send.rs).
import { ParleyError } from "./errors.js";
import {
  SendMessageDocument,
  type MessageFieldsFragment,
  type MessageKind,
  type SendMessageInput,
} from "./generated/graphql.js";
import type { Request } from "./http.js";

export type SendStatus = "pending" | "sending" | "sent" | "failed";

/** What `parley.send()` takes: SendMessageInput without the idempotency key, which the kit makes. */
export type SendInput = Omit<SendMessageInput, "clientMessageId" | "body"> & {
  body?: string;
  /** Only to resend something whose key you kept; normally the kit makes one. */
  clientMessageId?: string;
};

/** The message as the app shows it before the server has it. */
export interface OptimisticMessage {
  __typename: "Message";
  /** `optimistic:<clientMessageId>` until the server's id is known. */
  id: string;
  clientMessageId: string;
  conversationId: string;
  body: string;
  kind: MessageKind;
  metadata: unknown;
  replyToId: string | null;
  /** The local clock's time of the send. */
  createdAt: string;
  /** Not known until stored. */
  seq: null;
}

export type Message = MessageFieldsFragment;

const CANCELLED = "CANCELLED";

export function newClientMessageId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class OutgoingMessage {
  readonly clientMessageId: string;
  readonly input: SendMessageInput;
  readonly createdAt: string;
  readonly optimistic: OptimisticMessage;
  status: SendStatus = "pending";
  /** The stored message, once sent. */
  message?: Message;
  /** Why it failed (status "failed"); also the last transient error while it waits. */
  error?: ParleyError;
  #listeners = new Set<(m: OutgoingMessage) => void>();
  #done!: Promise<Message>;
  #resolve!: (m: Message) => void;
  #reject!: (e: ParleyError) => void;

  constructor(
    input: SendMessageInput & { clientMessageId: string },
    createdAt: string,
    private readonly outbox: Outbox,
  ) {
    this.clientMessageId = input.clientMessageId;
    this.input = input;
    this.createdAt = createdAt;
    this.optimistic = {
      __typename: "Message",
      id: `optimistic:${input.clientMessageId}`,
      clientMessageId: input.clientMessageId,
      conversationId: String(input.conversationId),
      body: (input.body ?? "").trim(),
      kind: input.kind ?? "TEXT",
      metadata: input.metadata ?? null,
      replyToId: input.replyToId == null ? null : String(input.replyToId),
      createdAt,
      seq: null,
    };
    this.#arm();
  }

  /** Resolves with the stored message; rejects when the send fails for good (retry() arms a new one). */
  get done(): Promise<Message> {
    return this.#done;
  }

  /** Sends a failed message again (same clientMessageId, so still at most once). */
  retry(): void {
    if (this.status !== "failed") return;
    delete this.error;
    this.#arm();
    this.outbox.requeue(this);
  }

  /** Gives up on a message that is not yet sent; `done` rejects with code CANCELLED. */
  cancel(): void {
    if (this.status === "sent" || this.status === "sending") return;
    this.outbox.remove(this);
    this.fail(new ParleyError("cancelled", { code: CANCELLED }));
  }

  onChange(cb: (m: OutgoingMessage) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** @internal */
  set(status: SendStatus, error?: ParleyError): void {
    this.status = status;
    if (error) this.error = error;
    this.#emit();
  }

  /** @internal */
  sent(message: Message): void {
    this.message = message;
    this.status = "sent";
    delete this.error;
    this.#resolve(message);
    this.#emit();
  }

  /** @internal */
  fail(error: ParleyError): void {
    this.status = "failed";
    this.error = error;
    this.#reject(error);
    this.#emit();
  }

  #arm(): void {
    this.#done = new Promise<Message>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Nobody has to await it: no unhandled rejection for a failed send.
    this.#done.catch(() => {});
  }

  #emit(): void {
    for (const cb of this.#listeners) cb(this);
    this.outbox.changed();
  }
}

interface Persisted {
  clientMessageId: string;
  input: SendMessageInput;
  createdAt: string;
  failed?: { message: string; code: string; field?: string };
}

export interface OutboxOptions {
  request: Request;
  storage: Storage | null;
  storageKey: string;
  /** Resolves once the network is believed up. */
  whenOnline: () => Promise<void>;
  maxRetryDelay: number;
}

export class Outbox {
  /** Not yet sent, in send order (failed ones stay, in place, until retried or cancelled). */
  readonly items: OutgoingMessage[] = [];
  #listeners = new Set<(items: readonly OutgoingMessage[]) => void>();
  #pumping = false;
  #closed = false;
  #wake: (() => void) | null = null;

  constructor(private readonly options: OutboxOptions) {
    for (const saved of this.#load()) {
      const out = new OutgoingMessage({ ...saved.input, clientMessageId: saved.clientMessageId }, saved.createdAt, this);
      if (saved.failed) {
        out.status = "failed";
        out.error = new ParleyError(saved.failed.message, {
          code: saved.failed.code,
          ...(saved.failed.field ? { field: saved.failed.field } : {}),
        });
      }
      this.items.push(out);
    }
    if (this.items.length) queueMicrotask(() => this.pump());
  }

  add(input: SendInput): OutgoingMessage {
    const { clientMessageId, ...rest } = input;
    const full = { ...rest, body: rest.body ?? "", clientMessageId: clientMessageId ?? newClientMessageId() };
    const out = new OutgoingMessage(full, new Date().toISOString(), this);
    this.items.push(out);
    this.changed();
    this.pump();
    return out;
  }

  onChange(cb: (items: readonly OutgoingMessage[]) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** Try now: the socket reconnected, the network came back, the token changed. */
  nudge(): void {
    this.#wake?.();
    this.pump();
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  /** @internal */
  requeue(out: OutgoingMessage): void {
    // A retried message goes after the ones still waiting: it was given
    // up on, the others were not.
    this.remove(out);
    this.items.push(out);
    out.set("pending");
    this.pump();
  }

  /** @internal */
  remove(out: OutgoingMessage): void {
    const i = this.items.indexOf(out);
    if (i >= 0) this.items.splice(i, 1);
  }

  /** @internal */
  changed(): void {
    this.#save();
    for (const cb of this.#listeners) cb(this.items);
  }

  /** Sends the pending messages one at a time, in order. */
  async pump(): Promise<void> {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    try {
      let failures = 0;
      for (;;) {
        if (this.#closed) return;
        const next = this.items.find((o) => o.status === "pending");
        if (!next) return;
        await this.options.whenOnline();
        if (this.#closed) return;
        next.set("sending");
        try {
          const data = await this.options.request(SendMessageDocument, { input: next.input });
          if (next.status !== "sending") continue;
          this.remove(next);
          next.sent(data.sendMessage);
          failures = 0;
        } catch (err) {
          const error = err instanceof ParleyError ? err : ParleyError.fromSocketError(err);
          if (error.permanent) {
            next.fail(error);
            continue;
          }
          // Down, 5xx, or no valid token yet: the same message again
          // later (same clientMessageId), nothing overtakes it.
          next.set("pending", error);
          failures += 1;
          const delay = Math.min(this.options.maxRetryDelay, 250 * 2 ** Math.min(failures, 7));
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, delay);
            function done() {
              clearTimeout(timer);
              resolve();
            }
            this.#wake = done;
          });
          this.#wake = null;
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  get #key(): string {
    return `${this.options.storageKey}:outbox`;
  }

  #load(): Persisted[] {
    try {
      const text = this.options.storage?.getItem(this.#key);
      const list = text ? (JSON.parse(text) as unknown) : [];
      return Array.isArray(list) ? (list as Persisted[]) : [];
    } catch {
      return [];
    }
  }

  #save(): void {
    const storage = this.options.storage;
    if (!storage || this.#closed) return;
    const list: Persisted[] = this.items.map((o) => ({
      clientMessageId: o.clientMessageId,
      input: o.input,
      createdAt: o.createdAt,
      ...(o.status === "failed" && o.error
        ? { failed: { message: o.error.message, code: o.error.code, ...(o.error.field ? { field: o.error.field } : {}) } }
        : {}),
    }));
    try {
      if (list.length) storage.setItem(this.#key, JSON.stringify(list));
      else storage.removeItem(this.#key);
    } catch {
      // Full or forbidden storage: the queue still lives in memory.
    }
  }
}
