// The demo chat's entry: sign-up / sign-in, the session kept in this
// browser's localStorage, and the connection banner. The chat itself is
// chat.ts, built on the client kit (../../typescript/src).
import { createParley, LoginDocument, MeDocument, ParleyError, RegisterDocument } from "../../typescript/src/index.ts";
import type { ConnectionState, Parley } from "../../typescript/src/index.ts";
import { Chat } from "./chat.ts";
import { byId, show } from "./dom.ts";

/** The API, relative to the page (`/demo/` -> `/graphql`), so a proxy's path prefix works too. */
const API_URL = new URL("../graphql", location.href).toString();
const SESSION_KEY = "parley-demo:session";

interface Session {
  token: string;
  userId: string;
}

function loadSession(): Session | null {
  try {
    const saved = JSON.parse(localStorage.getItem(SESSION_KEY) ?? "null") as Session | null;
    return saved && typeof saved.token === "string" && typeof saved.userId === "string" ? saved : null;
  } catch {
    return null;
  }
}

function saveSession(session: Session | null): void {
  if (session) localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else localStorage.removeItem(SESSION_KEY);
}

/** A client for one signed-in user: its outbox is kept under that user's key. */
function clientFor(session: Session | null): Parley {
  return createParley({
    url: API_URL,
    token: session?.token ?? null,
    storage: session ? localStorage : null,
    storageKey: session ? `parley-demo:${session.userId}` : "parley-demo:anonymous",
  });
}

const banner = byId("banner");
const BANNER_TEXT: Record<ConnectionState, string> = {
  live: "",
  connecting: "Connecting…",
  reconnecting: "Reconnecting… messages you send now go out when the connection is back.",
  offline: "You are offline. Messages you send now go out when the connection is back.",
};

function showBanner(state: ConnectionState, queued: number): void {
  banner.dataset.state = state;
  const text = BANNER_TEXT[state];
  banner.textContent = text && queued ? `${text} (${queued} waiting)` : text;
  show(banner, state !== "live");
}

let chat: Chat | null = null;

async function start(session: Session): Promise<void> {
  const parley = clientFor(session);
  const queued = () => parley.outbox.filter((o) => o.status !== "failed").length;
  parley.onConnectionState((state) => showBanner(state, queued()));
  parley.onOutboxChange(() => showBanner(parley.connectionState, queued()));
  let me;
  try {
    me = (await parley.request(MeDocument)).me;
  } catch (err) {
    if (err instanceof ParleyError && err.code === "UNAUTHENTICATED") {
      // Expired or revoked: sign in again.
      saveSession(null);
      await parley.close();
      showAuth("Your session ended; sign in again.");
      return;
    }
    // The server is unreachable: the chat starts anyway and catches up
    // when it is back (the banner says so).
    me = { id: session.userId, username: "", displayName: "" };
  }
  show(byId("auth"), false);
  show(byId("app"), true);
  chat = new Chat(parley, me, signOut);
  showBanner(parley.connectionState, queued());
}

async function signOut(): Promise<void> {
  const current = chat;
  chat = null;
  saveSession(null);
  if (current) await current.close();
  show(byId("app"), false);
  show(banner, false);
  showAuth(null);
}

function showAuth(error: string | null): void {
  show(byId("auth"), true);
  const box = byId("auth-error");
  box.textContent = error ?? "";
  show(box, !!error);
}

function describe(err: unknown): string {
  if (err instanceof ParleyError) {
    if (err.code === "NETWORK_ERROR") return "Parley cannot be reached; try again.";
    if (err.code === "RATE_LIMITED") return `Too many attempts; try again in ${err.retryAfter ?? "a few"} seconds.`;
    return err.field ? `${err.field}: ${err.message}` : err.message;
  }
  return String(err);
}

byId<HTMLFormElement>("auth-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
  const action = submitter?.value === "register" ? "register" : "login";
  const data = new FormData(form);
  const username = String(data.get("username") ?? "").trim();
  const password = String(data.get("password") ?? "");
  const displayName = String(data.get("displayName") ?? "").trim();
  const buttons = [...form.querySelectorAll("button")];
  buttons.forEach((b) => (b.disabled = true));
  const anonymous = clientFor(null);
  try {
    const auth =
      action === "register"
        ? (await anonymous.request(RegisterDocument, { input: { username, password, ...(displayName ? { displayName } : {}) } })).register
        : (await anonymous.request(LoginDocument, { input: { username, password } })).login;
    const session = { token: auth.token, userId: auth.user.id };
    saveSession(session);
    form.reset();
    showAuth(null);
    await start(session);
  } catch (err) {
    showAuth(describe(err));
  } finally {
    buttons.forEach((b) => (b.disabled = false));
    await anonymous.close();
  }
});

// Another tab of this profile signed in or out: follow it.
window.addEventListener("storage", (event) => {
  if (event.key !== SESSION_KEY) return;
  location.reload();
});

const saved = loadSession();
if (saved) void start(saved);
else showAuth(null);
