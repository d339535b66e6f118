//! The resumable event streams: `events` for everything the viewer may see,
//! `conversationEvents` for one conversation. Which events a viewer gets is
//! decided in the service (`service::events`); this file only names them.

use crate::graphql::scalars::Timestamp;
use std::sync::Arc;

use async_graphql::{Context, ID, Interface, Object, Subscription};
use futures_util::{Stream, StreamExt};
use serde_json::Value;
use service::{
    entity::event::{self, Kind as EventKind},
    events::Followed,
    events::{Ephemeral, LoggedEvent},
};

use super::{
    accounts::User,
    context::{loaders, service, start_slot, viewer},
    conversations::{Conversation, MemberRole},
    error::{ApiError, ApiResult},
    ids::{self, Kind, cursor},
    messages::Message,
};

/// Something the viewer may see happened. Durable events carry a `cursor`:
/// pass the last one you got as `after` when you reconnect. Typing,
/// presence, unread counts and streamed text are live only and have none.
/// Each type's description of the two fields says whether it always sets
/// them. They stay nullable on every type, as on the interface: a type
/// narrowing one to `String!` would make any document selecting `cursor`
/// both on the interface and in that type's fragment invalid (the fields
/// would not merge), which graphql-codegen and relay-compiler reject.
#[derive(Interface)]
#[graphql(
    field(name = "cursor", ty = "Option<String>"),
    field(name = "conversation_id", ty = "Option<ID>")
)]
pub enum Event {
    MessageAdded(MessageAddedEvent),
    MessageEdited(MessageEditedEvent),
    MessageDeleted(MessageDeletedEvent),
    MessageFinished(MessageFinishedEvent),
    MessageAppended(MessageAppendedEvent),
    ReactionChanged(ReactionChangedEvent),
    ReadReceipt(ReadReceiptEvent),
    DeliveryReceipt(DeliveryReceiptEvent),
    ConversationUpdated(ConversationUpdatedEvent),
    MemberJoined(MemberJoinedEvent),
    MemberLeft(MemberLeftEvent),
    MemberRemoved(MemberRemovedEvent),
    MemberRoleChanged(MemberRoleChangedEvent),
    UnreadCountsChanged(UnreadCountsChangedEvent),
    Typing(TypingEvent),
    Presence(PresenceEvent),
    StreamLive(StreamLiveEvent),
    CursorExpired(CursorExpiredEvent),
}

fn encode_cursor(id: i64) -> String {
    cursor::encode(&format!("ev:{id}"))
}

fn decode_cursor(text: &str) -> ApiResult<i64> {
    cursor::decode(text, "after", |key| {
        key.strip_prefix("ev:")?
            .parse::<i64>()
            .ok()
            .filter(|id| *id >= 0)
    })
}

/// A logged event, as the types below show it.
#[derive(Clone)]
pub struct Logged(Arc<LoggedEvent>);

impl Logged {
    fn event(&self) -> &event::Model {
        &self.0.event
    }

    fn data(&self) -> Value {
        self.event()
            .data
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or(Value::Null)
    }

    fn data_id(&self, key: &str) -> Option<i64> {
        self.data().get(key).and_then(Value::as_i64)
    }

    async fn user_by_id(ctx: &Context<'_>, id: Option<i64>) -> ApiResult<Option<User>> {
        let Some(id) = id else { return Ok(None) };
        Ok(loaders(ctx)?.users.load_one(id).await?.map(User))
    }

    async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        Self::user_by_id(ctx, self.event().user_id).await
    }

    /// The message the stream delivered with the event (it checked that
    /// the viewer may see it, and delivers no message event without it).
    fn message(&self) -> ApiResult<Message> {
        self.0
            .message
            .clone()
            .map(|m| Message(m, None))
            .ok_or_else(|| ApiError::internal("a message event without its message"))
    }
}

/// The fields every logged event has, and the type's own.
macro_rules! logged_event {
    ($(#[$doc:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$doc])*
        pub struct $name(pub Logged);

        #[Object]
        impl $name {
            /// Resume after this event with `after: cursor`. Always set on
            /// this type.
            async fn cursor(&self) -> Option<String> {
                Some(encode_cursor(self.0.event().id))
            }

            /// Always set on this type.
            async fn conversation_id(&self) -> Option<ID> {
                Some(ids::encode(Kind::Conversation, self.0.event().conversation_id))
            }

            /// When it happened.
            async fn at(&self) -> Timestamp {
                self.0.event().created_at.into()
            }

            $($extra)*
        }
    };
}

logged_event!(
    /// A message or a system notice took the next seq.
    MessageAddedEvent {
        async fn message(&self) -> ApiResult<Message> {
            self.0.message()
        }
    }
);

logged_event!(
    /// A message's text was edited; `message` is as it is now.
    MessageEditedEvent {
        async fn message(&self) -> ApiResult<Message> {
            self.0.message()
        }
        async fn editor(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
            self.0.user(ctx).await
        }
    }
);

logged_event!(
    /// A message was deleted: it stays in its seq as a tombstone.
    MessageDeletedEvent {
        async fn message(&self) -> ApiResult<Message> {
            self.0.message()
        }
        async fn message_id(&self) -> ApiResult<ID> {
            self.0
                .event()
                .message_id
                .map(|id| ids::encode(Kind::Message, id))
                .ok_or_else(|| ApiError::internal("a deletion event without its message"))
        }
    }
);

logged_event!(
    /// A streamed message got its final text.
    MessageFinishedEvent {
        async fn message(&self) -> ApiResult<Message> {
            self.0.message()
        }
    }
);

logged_event!(
    /// Someone added or removed a reaction.
    ReactionChangedEvent {
        async fn message(&self) -> ApiResult<Message> {
            self.0.message()
        }
        async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
            self.0.user(ctx).await
        }
        async fn emoji(&self) -> String {
            self.0.data()["emoji"].as_str().unwrap_or_default().to_owned()
        }
        /// True when added, false when removed.
        async fn added(&self) -> bool {
            self.0.data()["added"].as_bool().unwrap_or(false)
        }
    }
);

logged_event!(
    /// A member has read up to `lastReadSeq`.
    ReadReceiptEvent {
        async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
            self.0.user(ctx).await
        }
        async fn last_read_seq(&self) -> i64 {
            self.0.data_id("seq").unwrap_or(0)
        }
    }
);

logged_event!(
    /// A member's client has received messages up to `lastDeliveredSeq`.
    DeliveryReceiptEvent {
        async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
            self.0.user(ctx).await
        }
        async fn last_delivered_seq(&self) -> i64 {
            self.0.data_id("seq").unwrap_or(0)
        }
    }
);

logged_event!(
    /// The conversation changed: its settings, its deletion or restoring,
    /// or (for the viewer alone) their archive or mute.
    ConversationUpdatedEvent {
        /// `null` once the viewer may no longer see it.
        async fn conversation(&self, ctx: &Context<'_>) -> ApiResult<Option<Conversation>> {
            let viewer = viewer(ctx)?;
            match service(ctx)?.conversation(&viewer, self.0.event().conversation_id).await {
                Ok(c) => Ok(Some(Conversation::new(c))),
                Err(service::Error::NotFound(_)) => Ok(None),
                Err(err) => Err(err.into()),
            }
        }
        /// What changed: `title`, `description`, `avatarUrl`, `metadata`,
        /// `deletedAt`, `archived`, `muted`.
        async fn fields(&self) -> Vec<String> {
            self.0.data()["fields"]
                .as_array()
                .map(|f| f.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        }
        /// Who changed it; `null` for the host app and for the viewer's own
        /// archive or mute.
        async fn actor(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
            Logged::user_by_id(ctx, self.0.data_id("actorId")).await
        }
    }
);

logged_event!(
    /// Someone joined (or was added to, or created) the conversation.
    MemberJoinedEvent {
        async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
            self.0.user(ctx).await
        }
        async fn actor(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
            Logged::user_by_id(ctx, self.0.data_id("actorId")).await
        }
    }
);

logged_event!(
    /// Someone left; `newOwner` is set when ownership passed on.
    MemberLeftEvent {
        async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
            self.0.user(ctx).await
        }
        async fn new_owner(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
            Logged::user_by_id(ctx, self.0.data_id("newOwnerId")).await
        }
    }
);

logged_event!(
    /// Someone was removed. A removed viewer gets this, then nothing more
    /// of the conversation.
    MemberRemovedEvent {
        async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
            self.0.user(ctx).await
        }
        async fn actor(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
            Logged::user_by_id(ctx, self.0.data_id("actorId")).await
        }
    }
);

logged_event!(
    /// A member's role changed.
    MemberRoleChangedEvent {
        async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
            self.0.user(ctx).await
        }
        async fn role(&self) -> Option<MemberRole> {
            match self.0.data()["role"].as_str()? {
                "OWNER" => Some(MemberRole::Owner),
                "ADMIN" => Some(MemberRole::Admin),
                "MEMBER" => Some(MemberRole::Member),
                _ => None,
            }
        }
    }
);

/// The viewer's unread counts changed.
pub struct UnreadCountsChangedEvent {
    conversation_id: i64,
    unread: i64,
    total: i64,
}

#[Object]
impl UnreadCountsChangedEvent {
    /// Always `null`: the counts are worked out, not logged.
    async fn cursor(&self) -> Option<String> {
        None
    }
    /// Always set on this type.
    async fn conversation_id(&self) -> Option<ID> {
        Some(ids::encode(Kind::Conversation, self.conversation_id))
    }
    /// The conversation's unread messages for the viewer.
    async fn unread_count(&self) -> i64 {
        self.unread
    }
    /// The root `unreadCount`: over all unmuted conversations.
    async fn total_unread_count(&self) -> i64 {
        self.total
    }
}

/// Live only: text appended to a message that is still streaming.
pub struct MessageAppendedEvent {
    conversation_id: i64,
    message_id: i64,
    text: String,
}

#[Object]
impl MessageAppendedEvent {
    /// Always `null`: streamed text is live only.
    async fn cursor(&self) -> Option<String> {
        None
    }
    /// Always set on this type.
    async fn conversation_id(&self) -> Option<ID> {
        Some(ids::encode(Kind::Conversation, self.conversation_id))
    }
    async fn message_id(&self) -> ID {
        ids::encode(Kind::Message, self.message_id)
    }
    /// The text added, to append to what the client has.
    async fn text(&self) -> &str {
        &self.text
    }
}

/// Live only: someone started or stopped typing. A typing state ends by
/// itself after 6 seconds without renewal.
pub struct TypingEvent {
    conversation_id: i64,
    user_id: i64,
    typing: bool,
}

#[Object]
impl TypingEvent {
    /// Always `null`: typing is live only.
    async fn cursor(&self) -> Option<String> {
        None
    }
    /// Always set on this type.
    async fn conversation_id(&self) -> Option<ID> {
        Some(ids::encode(Kind::Conversation, self.conversation_id))
    }
    async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        Logged::user_by_id(ctx, Some(self.user_id)).await
    }
    async fn typing(&self) -> bool {
        self.typing
    }
}

/// Live only: someone who shares a conversation with the viewer came online
/// or went offline.
pub struct PresenceEvent {
    user_id: i64,
    online: bool,
}

#[Object]
impl PresenceEvent {
    /// Always `null`: presence is live only.
    async fn cursor(&self) -> Option<String> {
        None
    }
    /// Always `null`: presence is about a person, not a conversation.
    async fn conversation_id(&self) -> Option<ID> {
        None
    }
    async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        Logged::user_by_id(ctx, Some(self.user_id)).await
    }
    async fn online(&self) -> bool {
        self.online
    }
}

/// Replay is over (or there was none): what follows is live. Its cursor
/// resumes from here even if nothing else arrives.
pub struct StreamLiveEvent {
    cursor: i64,
}

#[Object]
impl StreamLiveEvent {
    /// Always set on this type.
    async fn cursor(&self) -> Option<String> {
        Some(encode_cursor(self.cursor))
    }
    /// Always `null`: it is about the stream, not a conversation.
    async fn conversation_id(&self) -> Option<ID> {
        None
    }
}

/// The `after` cursor is older than the server keeps events for (or was
/// not one it gave out): reload what you show, then resume from this
/// event's cursor.
pub struct CursorExpiredEvent {
    cursor: i64,
}

#[Object]
impl CursorExpiredEvent {
    /// Always set on this type.
    async fn cursor(&self) -> Option<String> {
        Some(encode_cursor(self.cursor))
    }
    /// Always `null`: it is about the stream, not a conversation.
    async fn conversation_id(&self) -> Option<ID> {
        None
    }
}

impl From<Followed> for Event {
    fn from(item: Followed) -> Self {
        match item {
            Followed::Logged(model) => {
                let kind = model.event.kind;
                let logged = Logged(model);
                match kind {
                    EventKind::MessageAdded => Event::MessageAdded(MessageAddedEvent(logged)),
                    EventKind::MessageEdited => Event::MessageEdited(MessageEditedEvent(logged)),
                    EventKind::MessageDeleted => Event::MessageDeleted(MessageDeletedEvent(logged)),
                    EventKind::MessageFinished => {
                        Event::MessageFinished(MessageFinishedEvent(logged))
                    }
                    EventKind::ReactionChanged => {
                        Event::ReactionChanged(ReactionChangedEvent(logged))
                    }
                    EventKind::ReadReceipt => Event::ReadReceipt(ReadReceiptEvent(logged)),
                    EventKind::DeliveryReceipt => {
                        Event::DeliveryReceipt(DeliveryReceiptEvent(logged))
                    }
                    EventKind::ConversationUpdated => {
                        Event::ConversationUpdated(ConversationUpdatedEvent(logged))
                    }
                    EventKind::MemberJoined => Event::MemberJoined(MemberJoinedEvent(logged)),
                    EventKind::MemberLeft => Event::MemberLeft(MemberLeftEvent(logged)),
                    EventKind::MemberRemoved => Event::MemberRemoved(MemberRemovedEvent(logged)),
                    EventKind::MemberRoleChanged => {
                        Event::MemberRoleChanged(MemberRoleChangedEvent(logged))
                    }
                    // Not logged on this branch; the mentions work gives it
                    // its own event type.
                    EventKind::Mention => Event::MessageAdded(MessageAddedEvent(logged)),
                }
            }
            Followed::Unread {
                conversation_id,
                unread,
                total,
            } => Event::UnreadCountsChanged(UnreadCountsChangedEvent {
                conversation_id,
                unread,
                total,
            }),
            Followed::Ephemeral(event) => match &*event {
                Ephemeral::Typing {
                    conversation_id,
                    user_id,
                    typing,
                } => Event::Typing(TypingEvent {
                    conversation_id: *conversation_id,
                    user_id: *user_id,
                    typing: *typing,
                }),
                Ephemeral::Presence { user_id, online } => Event::Presence(PresenceEvent {
                    user_id: *user_id,
                    online: *online,
                }),
                Ephemeral::Appended {
                    conversation_id,
                    message_id,
                    text,
                } => Event::MessageAppended(MessageAppendedEvent {
                    conversation_id: *conversation_id,
                    message_id: *message_id,
                    text: text.clone(),
                }),
            },
            Followed::Live { cursor } => Event::StreamLive(StreamLiveEvent { cursor }),
            Followed::CursorExpired { cursor } => {
                Event::CursorExpired(CursorExpiredEvent { cursor })
            }
        }
    }
}

#[derive(Default)]
pub struct EventSubscription;

#[Subscription]
impl EventSubscription {
    /// Everything the viewer may see across all their conversations:
    /// messages, edits, deletions, reactions, receipts, member and
    /// conversation changes, unread counts, typing and presence. With
    /// `after` (a cursor from an earlier event), the stored events after it
    /// are replayed first, then the stream continues live with no gap and
    /// no duplicate; a `StreamLiveEvent` marks the switch.
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = ApiResult<Event>> + use<>, ApiError> {
        follow(ctx, after, None).await
    }

    /// The same for one conversation. It ends after the viewer's own
    /// removal or leaving.
    async fn conversation_events(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        after: Option<String>,
    ) -> Result<impl Stream<Item = ApiResult<Event>> + use<>, ApiError> {
        let id = ids::decode(Kind::Conversation, &conversation_id, "conversationId")?;
        follow(ctx, after, Some(id)).await
    }
}

async fn follow(
    ctx: &Context<'_>,
    after: Option<String>,
    only: Option<i64>,
) -> ApiResult<impl Stream<Item = ApiResult<Event>> + use<>> {
    let viewer = viewer(ctx)?;
    let after = after.as_deref().map(decode_cursor).transpose()?;
    let slot = start_slot(ctx).await;
    let stream = service(ctx)?.follow_events(viewer, after, only).await?;
    drop(slot);
    Ok(stream.map(|item| item.map(Event::from).map_err(ApiError::from)))
}
