// The chat of one signed-in user: the inbox (kept live from the kit's
// resumable `events` stream), one open conversation with its history,
// optimistic sends from the kit's outbox, typing, read receipts and
// reactions.
//
// What is on screen is rebuilt from this object's state (`renderInbox`,
// `renderMessages`): the state is the truth, merged by seq, so an event
// replayed after a reconnect or a message both fetched and received live
// shows once.
import {
  AddReactionDocument,
  ConversationDocument,
  ConversationMessagesDocument,
  ConversationsDocument,
  CreateGroupConversationDocument,
  LogoutDocument,
  MarkReadDocument,
  OpenDirectConversationDocument,
  ParleyError,
  RemoveReactionDocument,
  SetTypingDocument,
  UsersDocument,
} from "../../typescript/src/index.ts";
import type {
  ConnectionState,
  ConversationFieldsFragment,
  Message,
  OutgoingMessage,
  Parley,
  ParleyEvent,
  Unsubscribable,
} from "../../typescript/src/index.ts";
import { byId, h, shortTime, show } from "./dom.ts";

type Conversation = ConversationFieldsFragment;
type Reactions = Message["reactions"];
interface Me {
  id: string;
  username: string;
  displayName: string;
}

/** Emojis offered under every message. */
const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉"];
/** A page of history. */
const PAGE = 30;
/** Renew "typing" this often while typing (the server forgets it after 6 s). */
const TYPING_RENEW_MS = 3000;
/** Say "stopped typing" after this long without a key. */
const TYPING_IDLE_MS = 4000;
/** Forget someone's typing if no renewal came (the server's timeout, plus slack). */
const TYPING_FORGET_MS = 7000;

/** The open conversation: stored messages by seq, and how far back we have. */
interface Open {
  id: string;
  messages: Map<number, Message>;
  startCursor: string | null;
  hasOlder: boolean;
  loadingOlder: boolean;
}

export class Chat {
  readonly #parley: Parley;
  readonly #me: Me;
  #conversations = new Map<string, Conversation>();
  #totalUnread = 0;
  #open: Open | null = null;
  /** Who is typing where: conversation id -> user id -> (name, timer). */
  #typing = new Map<string, Map<string, { name: string; timer: ReturnType<typeof setTimeout> }>>();
  #events: Unsubscribable;
  #cleanup: (() => void)[] = [];
  #lastState: ConnectionState;
  #typingSentAt = 0;
  #typingIdle: ReturnType<typeof setTimeout> | undefined;
  #markingRead = false;
  #closed = false;

  constructor(parley: Parley, me: Me, signOut: () => void) {
    this.#parley = parley;
    this.#me = me;
    this.#lastState = parley.connectionState;
    byId("me-name").textContent = me.displayName || me.username;

    // Live first, then the inbox: whatever happens in between arrives as
    // an event and merges by seq.
    this.#events = parley.events().subscribe({
      next: (event) => this.#onEvent(event),
      error: (err) => this.#error(`The live stream stopped: ${describe(err)}`),
    });
    this.#cleanup.push(
      parley.onConnectionState((state) => {
        const was = this.#lastState;
        this.#lastState = state;
        // Back after a drop: unread counts are not replayed (they are
        // worked out, not logged), so read them again.
        if (state === "live" && was !== "live" && was !== "connecting") void this.#refresh();
      }),
      parley.onOutboxChange(() => this.#renderMessages()),
    );
    void this.#loadInbox();

    const listen = <K extends keyof HTMLElementEventMap>(el: HTMLElement, type: K, fn: (e: HTMLElementEventMap[K]) => void) => {
      el.addEventListener(type, fn);
      this.#cleanup.push(() => el.removeEventListener(type, fn));
    };
    listen(byId("sign-out"), "click", async () => {
      await this.#parley.request(LogoutDocument).catch(() => {});
      signOut();
    });
    listen(byId("back"), "click", () => this.#close());
    listen(byId<HTMLFormElement>("open-direct"), "submit", (e) => void this.#openDirect(e));
    listen(byId<HTMLFormElement>("create-group"), "submit", (e) => void this.#createGroup(e));
    listen(byId("open-direct"), "input", (e) => void this.#suggest(e));
    listen(byId<HTMLFormElement>("composer"), "submit", (e) => {
      e.preventDefault();
      this.#send();
    });
    const composer = byId<HTMLFormElement>("composer").querySelector("textarea") as HTMLTextAreaElement;
    listen(composer, "keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        this.#send();
      }
    });
    listen(composer, "input", () => this.#typed(composer.value));
    listen(composer, "blur", () => this.#stopTyping());
    listen(byId("load-older"), "click", () => void this.#loadOlder());
    listen(byId("history"), "scroll", () => {
      if (byId("history").scrollTop < 40) void this.#loadOlder();
    });
    const visible = () => {
      if (document.visibilityState === "visible") void this.#markRead();
    };
    document.addEventListener("visibilitychange", visible);
    this.#cleanup.push(() => document.removeEventListener("visibilitychange", visible));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#events.unsubscribe();
    for (const fn of this.#cleanup) fn();
    for (const people of this.#typing.values()) for (const t of people.values()) clearTimeout(t.timer);
    clearTimeout(this.#typingIdle);
    this.#conversations.clear();
    this.#open = null;
    byId("inbox").replaceChildren();
    byId("messages").replaceChildren();
    show(byId("conversation"), false);
    show(byId("placeholder"), true);
    await this.#parley.close();
  }

  // ---- the inbox ----------------------------------------------------------

  async #loadInbox(): Promise<void> {
    try {
      const data = await this.#parley.request(ConversationsDocument, { first: 50 });
      this.#totalUnread = data.unreadCount;
      for (const c of data.conversations.nodes) this.#conversations.set(c.id, c);
      this.#renderInbox();
    } catch (err) {
      this.#error(`The inbox could not be loaded: ${describe(err)}`);
    }
  }

  /** After a reconnect or an expired cursor: counts, last messages, and what the open conversation missed. */
  async #refresh(): Promise<void> {
    await this.#loadInbox();
    if (this.#open) await this.#loadNewest(this.#open.id);
    void this.#markRead();
  }

  async #fetchConversation(id: string): Promise<Conversation | null> {
    try {
      const data = await this.#parley.request(ConversationDocument, { id });
      if (!data.conversation) {
        this.#conversations.delete(id);
      } else {
        this.#conversations.set(id, data.conversation);
      }
      this.#renderInbox();
      return data.conversation;
    } catch {
      return null;
    }
  }

  #sorted(): Conversation[] {
    return [...this.#conversations.values()].sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt));
  }

  #renderInbox(): void {
    const list = this.#sorted().map((c) => {
      const last = c.lastMessage;
      const lastText = last
        ? `${last.sender?.id === this.#me.id ? "You: " : last.sender && c.kind === "GROUP" ? `${last.sender.displayName}: ` : ""}${preview(last)}`
        : "No messages yet";
      return h(
        "li",
        {
          "data-testid": "conversation-item",
          "data-conversation-id": c.id,
          "data-title": c.title,
          "data-unread": c.unreadCount,
          class: `${c.id === this.#open?.id ? "active" : ""} ${c.unreadCount ? "unread" : ""}`,
          onclick: () => void this.#openConversation(c.id),
        },
        h("span", { class: "title", "data-testid": "conversation-item-title" }, c.kind === "GROUP" ? `# ${c.title}` : c.title),
        h("span", { class: "last", "data-testid": "conversation-last" }, lastText),
        c.unreadCount > 0 && h("span", { class: "badge", "data-testid": "unread-badge" }, String(c.unreadCount)),
      );
    });
    byId("inbox").replaceChildren(...list);
    show(byId("inbox-empty"), list.length === 0);
    const total = byId("total-unread");
    total.textContent = String(this.#totalUnread);
    show(total, this.#totalUnread > 0);
    document.title = `${this.#totalUnread ? `(${this.#totalUnread}) ` : ""}Parley demo chat`;
  }

  async #openDirect(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const username = String(new FormData(form).get("username") ?? "").trim();
    if (!username) return;
    try {
      const user = await this.#findUser(username);
      const data = await this.#parley.request(OpenDirectConversationDocument, { userId: user.id });
      const c = data.openDirectConversation;
      this.#conversations.set(c.id, c);
      form.reset();
      this.#error(null);
      await this.#openConversation(c.id);
    } catch (err) {
      this.#error(describe(err));
    }
  }

  async #createGroup(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const title = String(data.get("title") ?? "").trim();
    const names = String(data.get("members") ?? "")
      .split(/[\s,]+/)
      .filter(Boolean);
    try {
      const users = await Promise.all(names.map((n) => this.#findUser(n)));
      const created = await this.#parley.request(CreateGroupConversationDocument, {
        input: { memberIds: users.map((u) => u.id), ...(title ? { title } : {}) },
      });
      const c = created.createGroupConversation;
      this.#conversations.set(c.id, c);
      form.reset();
      (form.closest("details") as HTMLDetailsElement | null)?.removeAttribute("open");
      this.#error(null);
      await this.#openConversation(c.id);
    } catch (err) {
      this.#error(describe(err));
    }
  }

  /** The user with exactly this username (ignoring case). */
  async #findUser(username: string): Promise<{ id: string; username: string }> {
    const found = await this.#parley.request(UsersDocument, { search: username, first: 20 });
    const user = found.users.nodes.find((u) => u.username.toLowerCase() === username.toLowerCase());
    if (!user) throw new Error(`Nobody is called “${username}”.`);
    if (user.id === this.#me.id) throw new Error("That is you.");
    return user;
  }

  async #suggest(event: Event): Promise<void> {
    const input = event.target as HTMLInputElement;
    const search = input.value.trim();
    if (search.length < 2) return;
    try {
      const found = await this.#parley.request(UsersDocument, { search, first: 8 });
      byId("user-suggestions").replaceChildren(
        ...found.users.nodes
          .filter((u) => u.id !== this.#me.id)
          .map((u) => h("option", { value: u.username }, u.displayName)),
      );
    } catch {
      // Suggestions are a nicety.
    }
  }

  // ---- the open conversation ---------------------------------------------

  async #openConversation(id: string): Promise<void> {
    if (this.#open?.id !== id) {
      this.#stopTyping();
      this.#open = { id, messages: new Map(), startCursor: null, hasOlder: false, loadingOlder: false };
    }
    document.querySelector(".app")?.classList.add("in-conversation");
    show(byId("placeholder"), false);
    show(byId("conversation"), true);
    this.#renderHeader();
    this.#renderInbox();
    this.#renderMessages();
    this.#renderTyping();
    await this.#loadNewest(id);
    this.#scrollToBottom();
    byId<HTMLFormElement>("composer").querySelector("textarea")?.focus();
    await this.#markRead();
  }

  #close(): void {
    this.#stopTyping();
    this.#open = null;
    document.querySelector(".app")?.classList.remove("in-conversation");
    show(byId("conversation"), false);
    show(byId("placeholder"), true);
    this.#renderInbox();
  }

  #renderHeader(): void {
    const c = this.#open && this.#conversations.get(this.#open.id);
    if (!c) return;
    byId("conversation-title").textContent = c.title;
    const others = c.members.nodes.filter((m) => m.user.id !== this.#me.id);
    byId("conversation-sub").textContent =
      c.kind === "GROUP"
        ? `${c.memberCount} members`
        : others.length
          ? `@${others[0]?.user.username}${others[0]?.user.online ? " · online" : ""}`
          : "";
  }

  /** The newest page (on opening, and after a reconnect), merged by seq. */
  async #loadNewest(id: string): Promise<void> {
    try {
      const data = await this.#parley.request(ConversationMessagesDocument, { id, last: PAGE });
      const open = this.#open;
      if (!data.conversation || open?.id !== id) return;
      const first = open.messages.size === 0;
      for (const m of data.conversation.messages.nodes) this.#store(open, m);
      if (first) {
        open.startCursor = data.conversation.messages.pageInfo.startCursor ?? null;
        open.hasOlder = data.conversation.messages.pageInfo.hasPreviousPage;
      }
      this.#renderMessages();
    } catch (err) {
      if (err instanceof ParleyError && err.code === "NOT_FOUND") this.#close();
    }
  }

  async #loadOlder(): Promise<void> {
    const open = this.#open;
    if (!open || !open.hasOlder || open.loadingOlder || !open.startCursor) return;
    open.loadingOlder = true;
    const history = byId("history");
    const before = history.scrollHeight - history.scrollTop;
    try {
      const data = await this.#parley.request(ConversationMessagesDocument, {
        id: open.id,
        last: PAGE,
        before: open.startCursor,
      });
      if (!data.conversation || this.#open !== open) return;
      for (const m of data.conversation.messages.nodes) this.#store(open, m);
      open.startCursor = data.conversation.messages.pageInfo.startCursor ?? null;
      open.hasOlder = data.conversation.messages.pageInfo.hasPreviousPage;
      this.#renderMessages();
      // Keep what the reader was looking at in place.
      history.scrollTop = history.scrollHeight - before;
    } catch (err) {
      this.#error(`Older messages could not be loaded: ${describe(err)}`);
    } finally {
      open.loadingOlder = false;
    }
  }

  #store(open: Open, message: Message): void {
    const had = open.messages.get(message.seq);
    // A newer version of the same message (edited, reacted) wins; never an older one.
    if (!had || (message.editedAt ?? "") >= (had.editedAt ?? "")) open.messages.set(message.seq, message);
  }

  /** Everything shown, oldest first: stored messages by seq, then this conversation's outbox. */
  #renderMessages(): void {
    const open = this.#open;
    const list = byId("messages");
    if (!open) {
      list.replaceChildren();
      return;
    }
    const c = this.#conversations.get(open.id);
    const history = byId("history");
    const atBottom = history.scrollHeight - history.scrollTop - history.clientHeight < 60;
    const stored = [...open.messages.values()].sort((a, b) => a.seq - b.seq);
    const storedKeys = new Set(stored.map((m) => m.clientMessageId).filter(Boolean));
    const pending = this.#parley.outbox.filter(
      (o) => o.input.conversationId === open.id && !storedKeys.has(o.clientMessageId),
    );
    const rows: HTMLElement[] = stored.map((m) => this.#messageRow(m, c));
    for (const out of pending) rows.push(this.#pendingRow(out));
    list.replaceChildren(...rows);
    show(byId("load-older"), open.hasOlder);
    if (atBottom) this.#scrollToBottom();
  }

  #messageRow(m: Message, c: Conversation | undefined): HTMLElement {
    if (m.kind === "SYSTEM") {
      return h(
        "li",
        { class: "message system", "data-testid": "message", "data-seq": m.seq, "data-kind": "SYSTEM" },
        h("div", { class: "bubble", "data-testid": "message-body" }, m.body),
      );
    }
    const mine = m.sender?.id === this.#me.id;
    const deleted = !!m.deletedAt;
    const status = mine ? this.#status(m, c) : null;
    return h(
      "li",
      {
        class: `message ${mine ? "mine" : "theirs"}`,
        "data-testid": "message",
        "data-seq": m.seq,
        "data-id": m.id,
        "data-status": mine ? "sent" : null,
        "data-mine": mine,
      },
      !mine && c?.kind === "GROUP" && h("span", { class: "who" }, m.sender?.displayName ?? ""),
      h("div", { class: "bubble", "data-testid": "message-body" }, deleted ? "Message deleted" : m.body),
      !deleted && this.#reactions(m.id, m.reactions),
      h(
        "div",
        { class: "meta" },
        h("time", { datetime: m.createdAt }, shortTime(m.createdAt)),
        m.editedAt && !deleted && "· edited",
        status && h("span", { "data-testid": "message-status", "data-receipt": status.kind }, `· ${status.text}`),
        !deleted &&
          h(
            "span",
            { class: "react-bar" },
            ...QUICK_REACTIONS.map((emoji) =>
              h(
                "button",
                {
                  type: "button",
                  title: `React with ${emoji}`,
                  "data-testid": "react",
                  "data-emoji": emoji,
                  onclick: () => void this.#toggleReaction(m, emoji),
                },
                emoji,
              ),
            ),
          ),
      ),
    );
  }

  #reactions(messageId: string, reactions: Reactions): HTMLElement | null {
    if (!reactions.length) return null;
    return h(
      "div",
      { class: "reactions", "data-testid": "reactions" },
      ...reactions.map((r) =>
        h(
          "button",
          {
            type: "button",
            class: `reaction ${r.reactedByMe ? "mine" : ""}`,
            "data-testid": "reaction",
            "data-emoji": r.emoji,
            "data-count": r.count,
            "data-mine": r.reactedByMe,
            title: r.reactedByMe ? "Remove your reaction" : "React too",
            onclick: () => {
              const m = this.#findMessage(messageId);
              if (m) void this.#toggleReaction(m, r.emoji);
            },
          },
          `${r.emoji} ${r.count}`,
        ),
      ),
    );
  }

  #pendingRow(out: OutgoingMessage): HTMLElement {
    const failed = out.status === "failed";
    return h(
      "li",
      {
        class: `message mine ${failed ? "failed" : "pending"}`,
        "data-testid": "message",
        "data-status": out.status,
        "data-client-id": out.clientMessageId,
        "data-mine": true,
      },
      h("div", { class: "bubble", "data-testid": "message-body" }, out.optimistic.body),
      h(
        "div",
        { class: "meta" },
        h(
          "span",
          { "data-testid": "message-status", "data-receipt": out.status },
          failed ? `Not sent: ${out.error ? describe(out.error) : "failed"}` : out.status === "sending" ? "Sending…" : "Waiting to send…",
        ),
        failed &&
          h("button", { type: "button", class: "link", "data-testid": "retry", onclick: () => out.retry() }, "Retry"),
        failed &&
          h("button", { type: "button", class: "link", "data-testid": "discard", onclick: () => out.cancel() }, "Discard"),
      ),
    );
  }

  /** How far one of my messages got: seen (by whom, in a group), delivered, or sent. */
  #status(m: Message, c: Conversation | undefined): { kind: string; text: string } {
    const others = c ? c.members.nodes.filter((x) => x.user.id !== this.#me.id) : [];
    const readers = others.filter((x) => x.lastReadSeq >= m.seq);
    if (m.status === "READ" || readers.length) {
      if (c?.kind === "GROUP") {
        return { kind: "seen", text: `Seen by ${readers.map((x) => x.user.displayName).join(", ")}` };
      }
      return { kind: "seen", text: "Seen" };
    }
    if (m.status === "DELIVERED" || others.some((x) => x.lastDeliveredSeq >= m.seq)) {
      return { kind: "delivered", text: "Delivered" };
    }
    return { kind: "sent", text: "Sent" };
  }

  #findMessage(id: string): Message | undefined {
    for (const m of this.#open?.messages.values() ?? []) if (m.id === id) return m;
    return undefined;
  }

  #scrollToBottom(): void {
    const history = byId("history");
    history.scrollTop = history.scrollHeight;
  }

  // ---- doing things -------------------------------------------------------

  #send(): void {
    const open = this.#open;
    const composer = byId<HTMLFormElement>("composer").querySelector("textarea") as HTMLTextAreaElement;
    const body = composer.value.trim();
    if (!open || !body) return;
    composer.value = "";
    this.#stopTyping();
    const out = this.#parley.send({ conversationId: open.id, body });
    out.onChange(() => {
      if (out.status === "sent" && out.message && this.#open?.id === out.message.conversationId) {
        this.#store(this.#open, out.message);
      }
      this.#renderMessages();
    });
    this.#renderMessages();
    this.#scrollToBottom();
  }

  #typed(text: string): void {
    const open = this.#open;
    if (!open) return;
    clearTimeout(this.#typingIdle);
    if (!text.trim()) {
      this.#stopTyping();
      return;
    }
    const now = Date.now();
    if (now - this.#typingSentAt > TYPING_RENEW_MS) {
      this.#typingSentAt = now;
      this.#parley.request(SetTypingDocument, { conversationId: open.id, typing: true }).catch(() => {});
    }
    this.#typingIdle = setTimeout(() => this.#stopTyping(), TYPING_IDLE_MS);
  }

  #stopTyping(): void {
    clearTimeout(this.#typingIdle);
    if (!this.#typingSentAt || !this.#open) return;
    this.#typingSentAt = 0;
    this.#parley.request(SetTypingDocument, { conversationId: this.#open.id, typing: false }).catch(() => {});
  }

  async #toggleReaction(m: Message, emoji: string): Promise<void> {
    const mine = m.reactions.some((r) => r.emoji === emoji && r.reactedByMe);
    try {
      const data = mine
        ? (await this.#parley.request(RemoveReactionDocument, { messageId: m.id, emoji })).removeReaction
        : (await this.#parley.request(AddReactionDocument, { messageId: m.id, emoji })).addReaction;
      this.#setReactions(data.id, data.reactions);
    } catch (err) {
      this.#error(`The reaction did not go through: ${describe(err)}`);
    }
  }

  #setReactions(messageId: string, reactions: Reactions): void {
    const m = this.#findMessage(messageId);
    if (!m || !this.#open) return;
    this.#open.messages.set(m.seq, { ...m, reactions });
    this.#renderMessages();
  }

  /** Moves my read pointer to the end of the open conversation, when I can see it. */
  async #markRead(): Promise<void> {
    const open = this.#open;
    const c = open && this.#conversations.get(open.id);
    if (!open || !c || this.#markingRead || document.visibilityState !== "visible") return;
    const newest = Math.max(c.lastSeq, ...[...open.messages.keys()]);
    if (c.unreadCount === 0 && c.lastReadSeq >= newest) return;
    this.#markingRead = true;
    try {
      const data = await this.#parley.request(MarkReadDocument, { input: { conversationId: open.id } });
      const now = this.#conversations.get(open.id);
      if (now) {
        const dropped = now.unreadCount - data.markRead.unreadCount;
        this.#conversations.set(open.id, { ...now, unreadCount: data.markRead.unreadCount, lastReadSeq: data.markRead.lastReadSeq });
        // The UnreadCountsChangedEvent that follows says the same; this only makes the badge go at once.
        if (dropped > 0) this.#totalUnread = Math.max(0, this.#totalUnread - dropped);
        this.#renderInbox();
      }
    } catch {
      // Offline: tried again when the connection is back (#refresh).
    } finally {
      this.#markingRead = false;
    }
  }

  // ---- events -------------------------------------------------------------

  #onEvent(event: ParleyEvent): void {
    if (this.#closed) return;
    const id = event.conversationId ?? null;
    const c = id ? this.#conversations.get(id) : undefined;
    switch (event.__typename) {
      case "MessageAddedEvent":
      case "MessageEditedEvent":
      case "MessageDeletedEvent":
      case "MessageFinishedEvent": {
        const m = event.message as Message;
        if (!c) {
          if (id) void this.#fetchConversation(id);
          return;
        }
        const isNew = event.__typename === "MessageAddedEvent";
        const update: Conversation = { ...c };
        if (!c.lastMessage || m.seq >= c.lastMessage.seq) update.lastMessage = m;
        if (isNew) {
          update.lastSeq = Math.max(c.lastSeq, m.seq);
          if (m.createdAt > c.lastActivityAt) update.lastActivityAt = m.createdAt;
        }
        this.#conversations.set(c.id, update);
        if (isNew && m.sender) this.#clearTyping(c.id, m.sender.id);
        if (this.#open?.id === c.id) {
          this.#store(this.#open, m);
          this.#renderMessages();
          if (isNew && m.sender?.id !== this.#me.id) void this.#markRead();
        }
        this.#renderInbox();
        return;
      }
      case "UnreadCountsChangedEvent":
        this.#totalUnread = event.totalUnreadCount;
        if (c) this.#conversations.set(c.id, { ...c, unreadCount: event.unreadCount });
        this.#renderInbox();
        return;
      case "ReadReceiptEvent":
      case "DeliveryReceiptEvent": {
        if (!c || !event.user) return;
        const userId = event.user.id;
        const read = event.__typename === "ReadReceiptEvent" ? event.lastReadSeq : null;
        const delivered = event.__typename === "DeliveryReceiptEvent" ? event.lastDeliveredSeq : null;
        const members = c.members.nodes.map((x) =>
          x.user.id !== userId
            ? x
            : {
                ...x,
                lastReadSeq: Math.max(x.lastReadSeq, read ?? 0),
                lastDeliveredSeq: Math.max(x.lastDeliveredSeq, delivered ?? 0, read ?? 0),
              },
        );
        const update = { ...c, members: { ...c.members, nodes: members } };
        if (userId === this.#me.id && read != null) update.lastReadSeq = Math.max(c.lastReadSeq, read);
        this.#conversations.set(c.id, update);
        if (this.#open?.id === c.id) this.#renderMessages();
        return;
      }
      case "ReactionChangedEvent":
        if (this.#open?.id === id) this.#setReactions(event.message.id, event.message.reactions);
        return;
      case "TypingEvent":
        if (!id || !event.user || event.user.id === this.#me.id) return;
        if (event.typing) this.#setTyping(id, event.user.id, event.user.displayName);
        else this.#clearTyping(id, event.user.id);
        return;
      case "ConversationUpdatedEvent": {
        const changed = event.conversation?.id ?? id;
        if (!changed) return;
        if (event.conversation?.deletedAt) {
          this.#conversations.delete(changed);
          if (this.#open?.id === changed) this.#close();
          this.#renderInbox();
        } else {
          void this.#fetchConversation(changed).then(() => this.#renderHeader());
        }
        return;
      }
      case "MemberJoinedEvent":
      case "MemberLeftEvent":
      case "MemberRoleChangedEvent":
      case "MemberRemovedEvent":
        if (!id) return;
        if (event.__typename !== "MemberJoinedEvent" && event.__typename !== "MemberRoleChangedEvent" && event.user?.id === this.#me.id) {
          this.#conversations.delete(id);
          if (this.#open?.id === id) this.#close();
          this.#renderInbox();
        } else {
          void this.#fetchConversation(id).then(() => this.#renderHeader());
        }
        return;
      case "PresenceEvent":
        if (this.#open) this.#renderHeader();
        return;
      case "CursorExpiredEvent":
        // Too long away: what we show may be missing things; read it all again.
        void this.#refresh();
        return;
      default:
        return;
    }
  }

  #setTyping(conversationId: string, userId: string, name: string): void {
    let people = this.#typing.get(conversationId);
    if (!people) this.#typing.set(conversationId, (people = new Map()));
    const had = people.get(userId);
    if (had) clearTimeout(had.timer);
    people.set(userId, { name, timer: setTimeout(() => this.#clearTyping(conversationId, userId), TYPING_FORGET_MS) });
    this.#renderTyping();
  }

  #clearTyping(conversationId: string, userId: string): void {
    const people = this.#typing.get(conversationId);
    const had = people?.get(userId);
    if (!people || !had) return;
    clearTimeout(had.timer);
    people.delete(userId);
    this.#renderTyping();
  }

  #renderTyping(): void {
    const people = this.#open ? [...(this.#typing.get(this.#open.id)?.values() ?? [])].map((p) => p.name) : [];
    byId("typing").textContent =
      people.length === 0 ? "" : people.length === 1 ? `${people[0]} is typing…` : `${people.join(", ")} are typing…`;
  }

  #error(text: string | null): void {
    const box = byId("sidebar-error");
    box.textContent = text ?? "";
    show(box, !!text);
  }
}

function preview(m: Message): string {
  if (m.deletedAt) return "Message deleted";
  if (m.body) return m.body.length > 80 ? `${m.body.slice(0, 80)}…` : m.body;
  return m.attachments.length ? `📎 ${m.attachments.length} attachment(s)` : "";
}

function describe(err: unknown): string {
  if (err instanceof ParleyError) {
    if (err.code === "NETWORK_ERROR") return "no connection";
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
