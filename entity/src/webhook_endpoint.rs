//! One webhook endpoint the host app registered: where to deliver, which
//! events, and how far delivery has come (its cursor in the event log).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "Text")]
    pub url: String,
    /// The HMAC key requests are signed with.
    #[sea_orm(column_type = "Text")]
    pub secret: String,
    /// The webhook event types, comma separated (`message.added,mention`).
    #[sea_orm(column_type = "Text")]
    pub event_types: String,
    /// Message events only when some recipient was offline.
    pub only_offline: bool,
    /// The last event id delivered (or skipped as not wanted).
    pub cursor: i64,
    /// Failed attempts in a row at the event after the cursor.
    pub attempts: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTimeUtc>,
    /// Set when it kept failing: nothing is delivered until resumed.
    pub paused_at: Option<DateTimeUtc>,
    /// The instance delivering to it, until `lease_until`.
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
