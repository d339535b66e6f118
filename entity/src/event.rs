//! One durable event of the event log; its id is the stream's cursor.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    /// Handed out in commit order, without gaps (see the migration).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub conversation_id: i64,
    pub kind: Kind,
    /// The message it is about, if any.
    pub message_id: Option<i64>,
    /// The user it is about: who read, reacted, joined, left or changed.
    pub user_id: Option<i64>,
    /// Set when only this user may see it (their own archive or mute).
    pub only_user_id: Option<i64>,
    /// A JSON object with the event's details, as text.
    #[sea_orm(column_type = "Text", nullable)]
    pub data: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Kind {
    #[sea_orm(string_value = "message_added")]
    MessageAdded,
    #[sea_orm(string_value = "message_edited")]
    MessageEdited,
    #[sea_orm(string_value = "message_deleted")]
    MessageDeleted,
    /// A streamed message got its final text.
    #[sea_orm(string_value = "message_finished")]
    MessageFinished,
    #[sea_orm(string_value = "reaction_changed")]
    ReactionChanged,
    /// `user_id` has read up to `data.seq`.
    #[sea_orm(string_value = "read_receipt")]
    ReadReceipt,
    /// `user_id`'s client has received up to `data.seq`.
    #[sea_orm(string_value = "delivery_receipt")]
    DeliveryReceipt,
    /// Title, description, avatar, metadata, deletion or restoring; or,
    /// with `only_user_id`, that member's archive or mute.
    #[sea_orm(string_value = "conversation_updated")]
    ConversationUpdated,
    #[sea_orm(string_value = "member_joined")]
    MemberJoined,
    #[sea_orm(string_value = "member_left")]
    MemberLeft,
    #[sea_orm(string_value = "member_removed")]
    MemberRemoved,
    #[sea_orm(string_value = "member_role_changed")]
    MemberRoleChanged,
    /// `user_id` was mentioned in `message_id`.
    #[sea_orm(string_value = "mention")]
    Mention,
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
}

impl Related<super::conversation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Conversation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
