//! A user's membership of a conversation, with their read pointer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Role {
    #[sea_orm(string_value = "owner")]
    Owner,
    #[sea_orm(string_value = "admin")]
    Admin,
    #[sea_orm(string_value = "member")]
    Member,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    pub role: Role,
    /// Every message with a seq at or below this one counts as read.
    pub last_read_seq: i64,
    pub joined_at: DateTimeUtc,
    /// The conversation's `last_activity_at`, copied by every send so that
    /// a user's inbox is one index range.
    pub last_activity_at: DateTimeUtc,
    /// Other people's messages after `last_read_seq`, kept by every send
    /// and every read.
    pub unread_count: i64,
    /// Hidden from this member's inbox until the next message.
    pub archived: bool,
    /// Left out of this member's total unread count, until `muted_until`
    /// when that is set.
    pub muted: bool,
    pub muted_until: Option<DateTimeUtc>,
    /// Every message with a seq at or below this one has reached one of
    /// this member's clients; never below `last_read_seq`.
    pub last_delivered_seq: i64,
    /// Messages after `last_read_seq` that mention this member, kept like
    /// `unread_count` (muting does not hide them).
    pub unread_mentions: i64,
    /// The first seq this membership may see when the group's history
    /// visibility is `SinceJoined`: the notice that added the member.
    pub visible_from_seq: i64,
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
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::conversation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Conversation.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
