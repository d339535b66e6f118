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

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: Kind,
    /// A group's title; `None` for direct conversations.
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
