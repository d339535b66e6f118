//! A person or a bot who can take part in conversations.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// As the user typed it; shown to people.
    pub username: String,
    /// `username` lower-cased: the unique key that makes names case-insensitive.
    #[sea_orm(unique)]
    pub username_key: String,
    pub display_name: String,
    /// Argon2id PHC string; `None` for users who never sign in with a password.
    pub password_hash: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The host app's id for this user (a user id, a wallet address):
    /// unique when set. Users signed in by the host app's JWTs have one.
    #[sea_orm(unique)]
    pub external_id: Option<String>,
    pub avatar_url: Option<String>,
    /// Bots are created with the admin key; the admin key may send as them.
    pub is_bot: bool,
    /// Last time the user was seen using Parley (at most a minute stale).
    pub last_seen_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
    #[sea_orm(has_many = "super::conversation_member::Entity")]
    ConversationMember,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl Related<super::conversation_member::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ConversationMember.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
