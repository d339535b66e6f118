//! A stored message. `(conversation_id, seq)` is its place in the timeline.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conversation_id: i64,
    /// 1, 2, 3, ... within the conversation, without gaps.
    pub seq: i64,
    pub sender_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// The sender's idempotency key: the same key from the same sender in the
    /// same conversation stores one message.
    pub client_message_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub kind: Kind,
    /// A JSON object, as text: for `system` messages, what changed; for
    /// others, whatever the sender attached (an offer's amount, a model's
    /// token counts).
    #[sea_orm(column_type = "Text", nullable)]
    pub metadata: Option<String>,
    /// A JSON array of attachments (url, name, mimeType, size, width,
    /// height), as text, validated and normalized by the service; `None`
    /// when there are none.
    #[sea_orm(column_type = "Text", nullable)]
    pub attachments: Option<String>,
    /// True while the author is still appending text to it.
    pub streaming: bool,
    /// The message's id on the network it was imported from; unique within
    /// its conversation. `None` for messages sent here.
    pub external_id: Option<String>,
    /// When the author last changed the body; the versions before are in
    /// `message_edits`.
    pub edited_at: Option<DateTimeUtc>,
    /// Set when the message was deleted: it stays in its seq as a
    /// tombstone, with its body, metadata, edits and reactions erased.
    pub deleted_at: Option<DateTimeUtc>,
    /// The message this one answers, in the same conversation.
    pub reply_to_id: Option<i64>,
    /// The first message of the thread this reply belongs to: a reply to a
    /// reply joins its target's thread. `None` for messages that are not
    /// replies.
    pub thread_root_id: Option<i64>,
    /// Live (not deleted) replies in this message's thread; 0 unless it is
    /// a thread's root.
    pub reply_count: i64,
    /// When the newest live reply in this message's thread was sent.
    pub last_reply_at: Option<DateTimeUtc>,
    /// When a streaming message last got text stored (sent, or flushed);
    /// one silent for the streaming timeout is finished by the sweeper.
    pub streamed_at: Option<DateTimeUtc>,
}

/// What a message is. `System` messages record changes to the conversation;
/// they have no sender and never count as unread. `Image` and `File` carry
/// attachments; an `Offer` carries its terms in `metadata`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Kind {
    #[sea_orm(string_value = "text")]
    Text,
    #[sea_orm(string_value = "image")]
    Image,
    #[sea_orm(string_value = "file")]
    File,
    #[sea_orm(string_value = "offer")]
    Offer,
    #[sea_orm(string_value = "system")]
    System,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::conversation::Entity",
        from = "Column::ConversationId",
        to = "super::conversation::Column::Id",
        on_delete = "Cascade"
    )]
    Conversation,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::SenderId",
        to = "super::user::Column::Id"
    )]
    Sender,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sender.def()
    }
}

impl Related<super::conversation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Conversation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
