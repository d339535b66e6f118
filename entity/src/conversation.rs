//! A direct (two-person) or group conversation.

use sea_orm::entity::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Kind {
    #[sea_orm(string_value = "direct")]
    Direct,
    #[sea_orm(string_value = "group")]
    Group,
}

/// What a group's members see of the time before they joined.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum HistoryVisibility {
    /// Everything, whenever they joined.
    #[default]
    #[sea_orm(string_value = "shared")]
    Shared,
    /// Only what came after their latest join.
    #[sea_orm(string_value = "since_joined")]
    SinceJoined,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: Kind,
    /// A group's title (taken from its first message when created without
    /// one); usually `None` for direct conversations.
    pub title: Option<String>,
    /// For direct conversations, `"<lower user id>:<higher user id>"`. The
    /// unique index on it makes get-or-create race-free.
    #[sea_orm(unique)]
    pub direct_key: Option<String>,
    pub created_by: Option<i64>,
    /// The seq of the newest message (0 when empty). Incremented in the same
    /// transaction that inserts a message, so seqs have no gaps or repeats.
    pub last_seq: i64,
    /// When the newest message arrived (creation time while empty); the
    /// inbox sort key.
    pub last_activity_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// What the host app says the conversation is about
    /// (`listing:8841`); part of a direct conversation's key.
    pub context: Option<String>,
    pub description: Option<String>,
    pub avatar_url: Option<String>,
    /// A JSON object the host app owns, as text.
    #[sea_orm(column_type = "Text", nullable)]
    pub metadata: Option<String>,
    /// Set when the owner deletes it: hidden from everyone, restorable
    /// until the retention period ends.
    pub deleted_at: Option<DateTimeUtc>,
    pub history_visibility: HistoryVisibility,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::conversation_member::Entity")]
    ConversationMember,
    #[sea_orm(has_many = "super::message::Entity")]
    Message,
}

impl Related<super::conversation_member::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ConversationMember.def()
    }
}

impl Related<super::message::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Message.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
