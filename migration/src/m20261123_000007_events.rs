//! The event log behind the resumable `events` stream.
//!
//! Every durable event (a message added, edited or deleted, a reaction, a
//! receipt, a change to a conversation or its members) is a row whose id is
//! its cursor. Ids are handed out from `event_log.last_id` inside the
//! writing transaction, as its last statement: the row lock that takes on
//! PostgreSQL (SQLite has one writer anyway) makes ids commit in order and
//! without gaps, so a reader that has seen id n has seen everything before
//! it that still exists.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EventLog::Table)
                    .col(integer(EventLog::Id).primary_key())
                    .col(big_integer(EventLog::LastId).default(0))
                    // Events up to here have been pruned: an older cursor
                    // cannot be replayed.
                    .col(big_integer(EventLog::PrunedThrough).default(0))
                    .to_owned(),
            )
            .await?;
        let first_row = Query::insert()
            .into_table(EventLog::Table)
            .columns([EventLog::Id, EventLog::LastId, EventLog::PrunedThrough])
            .values([1.into(), 0.into(), 0.into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .to_owned();
        manager.exec_stmt(first_row).await?;
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(big_integer(Events::Id).primary_key())
                    .col(big_integer(Events::ConversationId))
                    .col(string_len(Events::Kind, 32))
                    .col(big_integer_null(Events::MessageId))
                    .col(big_integer_null(Events::UserId))
                    .col(big_integer_null(Events::OnlyUserId))
                    .col(text_null(Events::Data))
                    .col(timestamp_with_time_zone(Events::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_events_conversation")
                            .from(Events::Table, Events::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One conversation's events in order (conversationEvents, and the
        // cascade when a conversation is removed).
        manager
            .create_index(
                Index::create()
                    .name("ix_events_conversation")
                    .table(Events::Table)
                    .col(Events::ConversationId)
                    .col(Events::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_events_created_at")
                    .table(Events::Table)
                    .col(Events::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Events::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(EventLog::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum EventLog {
    Table,
    Id,
    LastId,
    PrunedThrough,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    ConversationId,
    Kind,
    MessageId,
    UserId,
    OnlyUserId,
    Data,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}
