// The one graphql-ws socket of a Parley client, and its connection state.
//
// graphql-ws retries by itself; the kit makes it retry forever (with a
// capped backoff), sends the current token on every (re)connect, and
// turns the socket's events into four states for a status banner. While
// the network is known to be down (the browser's `offline` event, or
// setNetworkOnline(false)) the socket is closed and retries wait; on
// `online` they happen at once.
import { createClient, type Client } from "graphql-ws";

export type ConnectionState = "connecting" | "live" | "reconnecting" | "offline";

export interface SocketOptions {
  url: string;
  token: () => Promise<string | null>;
  webSocketImpl?: unknown;
  /** Longest wait between two reconnect attempts, in ms. */
  maxRetryDelay: number;
}

export class Socket {
  readonly client: Client;
  #state: ConnectionState = "connecting";
  #listeners = new Set<(s: ConnectionState) => void>();
  #connectedListeners = new Set<() => void>();
  #online = true;
  #everConnected = false;
  #open: { close(code?: number, reason?: string): void } | null = null;
  /** Retries sleeping in retryWait; woken early by online() or reconnect(). */
  #waiting = new Set<() => void>();
  #onlineWaiters = new Set<() => void>();
  #pongTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: SocketOptions) {
    this.client = createClient({
      url: options.url,
      ...(options.webSocketImpl ? { webSocketImpl: options.webSocketImpl } : {}),
      lazy: true,
      // Keep the socket a moment after the last subscription, so a
      // component that resubscribes does not reconnect.
      lazyCloseTimeout: 3000,
      // Pings find a socket that died without a close (a laptop lid).
      keepAlive: 15000,
      retryAttempts: Infinity,
      shouldRetry: () => true,
      // A function, so that every (re)connect sends the token as it is now.
      connectionParams: async () => {
        const token = await options.token();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
      retryWait: async (retries) => {
        const base = Math.min(options.maxRetryDelay, 300 * 2 ** Math.min(retries, 8));
        await this.#sleep(base / 2 + Math.random() * (base / 2));
        while (!this.#online) await new Promise<void>((r) => this.#onlineWaiters.add(r));
      },
      on: {
        connecting: () => {
          if (this.#online) this.#set(this.#everConnected ? "reconnecting" : "connecting");
        },
        connected: (socket) => {
          this.#open = socket as { close(code?: number, reason?: string): void };
          this.#everConnected = true;
          if (!this.#online) {
            // Connected although told the network is down: believe the socket.
            this.#online = true;
          }
          this.#set("live");
          for (const cb of this.#connectedListeners) cb();
        },
        // A ping without a pong for 10 s: the socket is dead without
        // having closed (graphql-ws itself never gives up on it).
        ping: (received) => {
          if (received) return;
          clearTimeout(this.#pongTimer);
          this.#pongTimer = setTimeout(() => this.client.terminate(), 10000);
        },
        pong: (received) => {
          if (received) clearTimeout(this.#pongTimer);
        },
        closed: () => {
          clearTimeout(this.#pongTimer);
          this.#open = null;
          if (!this.#online) return;
          if (this.#state === "live") this.#set(this.#everConnected ? "reconnecting" : "connecting");
        },
      },
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  onState(cb: (s: ConnectionState) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** Called on every successful (re)connect. */
  onConnected(cb: () => void): () => void {
    this.#connectedListeners.add(cb);
    return () => this.#connectedListeners.delete(cb);
  }

  /** Whether the network is believed up (false between `offline` and `online`). */
  get networkOnline(): boolean {
    return this.#online;
  }

  /** The network went down or came back (the browser's offline/online events). */
  setNetworkOnline(online: boolean): void {
    if (online === this.#online) return;
    this.#online = online;
    if (!online) {
      this.#set("offline");
      // Chromium's offline emulation may leave an open WebSocket alone;
      // close it ourselves so the app sees the truth and resumes later.
      this.client.terminate();
      return;
    }
    this.#set(this.#everConnected ? "reconnecting" : "connecting");
    for (const wake of this.#onlineWaiters) wake();
    this.#onlineWaiters.clear();
    this.#wakeRetries();
  }

  /** Closes the socket (if open) so that it reconnects now, e.g. with a new token. */
  reconnect(): void {
    if (this.#open) this.client.terminate();
    this.#wakeRetries();
  }

  /** Resolves once the network is believed up. */
  async whenOnline(): Promise<void> {
    while (!this.#online) await new Promise<void>((r) => this.#onlineWaiters.add(r));
  }

  async dispose(): Promise<void> {
    for (const wake of this.#onlineWaiters) wake();
    this.#wakeRetries();
    await this.client.dispose();
  }

  #wakeRetries(): void {
    for (const wake of this.#waiting) wake();
    this.#waiting.clear();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiting.add(done);
    });
  }

  #set(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const cb of this.#listeners) cb(state);
  }
}
