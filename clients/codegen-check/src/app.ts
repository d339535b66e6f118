// Operations as an app writes them with the client preset's `graphql()`,
// and code that uses their types under `--strict`: if the schema makes a
// field nullable that the app relies on, or the events union grows a type
// the switch does not handle, this stops compiling.
import { graphql } from "./gql";
import type { ResultOf, VariablesOf } from "@graphql-typed-document-node/core";
import type { EventsSubscription, InboxQuery } from "./generated/operations";

export const Me = graphql(`
  query Me {
    me { id username displayName createdAt lastSeenAt online }
  }
`);

export const Login = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) { token user { id username } }
  }
`);

export const MessageAdded = graphql(`
  subscription MessageAdded($c: ID!, $after: Int) {
    messageAdded(conversationId: $c, afterSeq: $after) { id seq body sender { displayName } }
  }
`);

export const Events = graphql(`
  subscription AppEvents($after: String) {
    events(after: $after) {
      __typename
      cursor
      conversationId
      ... on MessageAddedEvent { message { id seq body } }
      ... on MessageDeletedEvent { messageId }
      ... on MessageAppendedEvent { messageId text }
      ... on UnreadCountsChangedEvent { unreadCount totalUnreadCount }
    }
  }
`);

export type LoginVariables = VariablesOf<typeof Login>;

export function token(result: ResultOf<typeof Login>): string {
  return result.login.token;
}

export function greeting(result: ResultOf<typeof Me>): string {
  return result.me ? `Hello, ${result.me.displayName}` : "Signed out";
}

/// Applies one event; returns the cursor to store (null for live-only events).
export function apply(event: EventsSubscription["events"], store: Map<string, string>): string | null {
  switch (event.__typename) {
    case "MessageAddedEvent":
    case "MessageEditedEvent":
    case "MessageFinishedEvent":
      store.set(event.message.id, event.message.body);
      return event.cursor;
    case "MessageDeletedEvent":
      store.delete(event.messageId);
      return event.cursor;
    case "MessageAppendedEvent":
      store.set(event.messageId, (store.get(event.messageId) ?? "") + event.text);
      return null;
    case "ReactionChangedEvent":
      return `${event.emoji}:${event.added}:${event.message.id}`.length > 0 ? event.cursor : null;
    case "ReadReceiptEvent":
      return event.lastReadSeq >= 0 ? event.cursor : null;
    case "DeliveryReceiptEvent":
      return event.lastDeliveredSeq >= 0 ? event.cursor : null;
    case "ConversationUpdatedEvent":
      return event.fields.length >= 0 ? event.cursor : null;
    case "MentionEvent":
    case "MemberJoinedEvent":
    case "MemberLeftEvent":
    case "MemberRemovedEvent":
    case "MemberRoleChangedEvent":
      return event.cursor;
    case "UnreadCountsChangedEvent":
      return event.totalUnreadCount >= event.unreadCount ? null : null;
    case "TypingEvent":
    case "PresenceEvent":
      return event.cursor ?? null;
    case "StreamLiveEvent":
    case "CursorExpiredEvent":
      return event.cursor;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

export function firstTitles(inbox: InboxQuery): string[] {
  return inbox.conversations.edges.map((edge) => edge.node.title);
}

export function appCursor(result: ResultOf<typeof Events>): string | null {
  return result.events.cursor ?? null;
}

import type { Message as SchemaMessage } from "./generated/schema";

export function bodyOf(message: Pick<SchemaMessage, "body">): string {
  return message.body;
}
