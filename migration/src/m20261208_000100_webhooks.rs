//! Webhook endpoints: each a durable consumer of the event log with its
//! own cursor, and a lease so that one instance at a time delivers to it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .if_not_exists()
                    .col(big_pk_auto(WebhookEndpoints::Id))
                    .col(text(WebhookEndpoints::Url))
                    .col(text(WebhookEndpoints::Secret))
                    .col(text(WebhookEndpoints::EventTypes))
                    .col(boolean(WebhookEndpoints::OnlyOffline).default(false))
                    .col(big_integer(WebhookEndpoints::Cursor).default(0))
                    .col(integer(WebhookEndpoints::Attempts).default(0))
                    .col(text_null(WebhookEndpoints::LastError))
                    .col(timestamp_with_time_zone_null(WebhookEndpoints::LastErrorAt))
                    .col(timestamp_with_time_zone_null(WebhookEndpoints::PausedAt))
                    .col(text_null(WebhookEndpoints::LeaseOwner))
                    .col(timestamp_with_time_zone_null(WebhookEndpoints::LeaseUntil))
                    .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Secret,
    EventTypes,
    OnlyOffline,
    Cursor,
    Attempts,
    LastError,
    LastErrorAt,
    PausedAt,
    LeaseOwner,
    LeaseUntil,
    CreatedAt,
    UpdatedAt,
}
