//! One thing the host app read or did with the admin key.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Who acted: `host_app` (the admin key) for now.
    pub actor: String,
    /// The operation: the GraphQL field, e.g. `adminMessages`.
    pub action: String,
    /// What it was about: the global ids it was given, if any.
    pub target: Option<String>,
    /// Whether the operation succeeded.
    pub ok: bool,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
