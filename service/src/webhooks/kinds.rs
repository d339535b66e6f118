//! The webhook event types, and which log events become which.

use entity::event::{self, Kind};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    MessageAdded,
    MessageEdited,
    /// A streamed message got its final text.
    MessageFinished,
    MessageDeleted,
    MemberAdded,
    /// Removed by someone, or left.
    MemberRemoved,
    ConversationCreated,
    ConversationDeleted,
    Mention,
    Reaction,
}

impl EventType {
    pub const ALL: [EventType; 10] = [
        EventType::MessageAdded,
        EventType::MessageEdited,
        EventType::MessageFinished,
        EventType::MessageDeleted,
        EventType::MemberAdded,
        EventType::MemberRemoved,
        EventType::ConversationCreated,
        EventType::ConversationDeleted,
        EventType::Mention,
        EventType::Reaction,
    ];

    /// The `type` of the payload and the `Parley-Event-Type` header.
    pub fn name(self) -> &'static str {
        match self {
            EventType::MessageAdded => "message.added",
            EventType::MessageEdited => "message.edited",
            EventType::MessageFinished => "message.finished",
            EventType::MessageDeleted => "message.deleted",
            EventType::MemberAdded => "member.added",
            EventType::MemberRemoved => "member.removed",
            EventType::ConversationCreated => "conversation.created",
            EventType::ConversationDeleted => "conversation.deleted",
            EventType::Mention => "mention",
            EventType::Reaction => "reaction",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The log kind this type comes from.
    pub(crate) fn log_kinds(self) -> &'static [Kind] {
        match self {
            EventType::MessageAdded => &[Kind::MessageAdded],
            EventType::MessageEdited => &[Kind::MessageEdited],
            EventType::MessageFinished => &[Kind::MessageFinished],
            EventType::MessageDeleted => &[Kind::MessageDeleted],
            EventType::MemberAdded | EventType::ConversationCreated => &[Kind::MemberJoined],
            EventType::MemberRemoved => &[Kind::MemberRemoved, Kind::MemberLeft],
            EventType::ConversationDeleted => &[Kind::ConversationUpdated],
            EventType::Mention => &[Kind::Mention],
            EventType::Reaction => &[Kind::ReactionChanged],
        }
    }
}

/// The types of a stored list (`message.added,mention`); unknown names
/// (from a newer version) are skipped.
pub(crate) fn parse_list(stored: &str) -> Vec<EventType> {
    stored.split(',').filter_map(EventType::parse).collect()
}

pub(crate) fn join_list(types: &[EventType]) -> String {
    types.iter().map(|t| t.name()).collect::<Vec<_>>().join(",")
}

/// What a log event is, when that needs no further reading: `None` for
/// kinds no webhook carries. A `MemberJoined` is a join or, when it
/// belongs to the creation, the conversation's creation: the worker
/// decides that from the log.
pub(crate) fn direct_type(event: &event::Model) -> Option<EventType> {
    match event.kind {
        Kind::MessageAdded => Some(EventType::MessageAdded),
        Kind::MessageEdited => Some(EventType::MessageEdited),
        Kind::MessageFinished => Some(EventType::MessageFinished),
        Kind::MessageDeleted => Some(EventType::MessageDeleted),
        Kind::ReactionChanged => Some(EventType::Reaction),
        Kind::MemberLeft | Kind::MemberRemoved => Some(EventType::MemberRemoved),
        Kind::Mention => Some(EventType::Mention),
        Kind::MemberJoined => Some(EventType::MemberAdded),
        // Only the conversation's own deletion, not a member's archive.
        Kind::ConversationUpdated if event.only_user_id.is_none() => {
            let data: serde_json::Value = event
                .data
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_default();
            (data["deleted"] == serde_json::Value::Bool(true))
                .then_some(EventType::ConversationDeleted)
        }
        Kind::ConversationUpdated
        | Kind::ReadReceipt
        | Kind::DeliveryReceipt
        | Kind::MemberRoleChanged => None,
    }
}
