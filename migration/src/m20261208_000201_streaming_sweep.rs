//! When a streaming message last got text, so that one left streaming
//! (its author gone, its backend crashed) can be finished after a silence.
//!
//! `streamed_at` is set when the message is sent and by every flush of
//! appended text; the sweeper finishes streaming rows whose `streamed_at`
//! is older than the timeout. Rows from before this migration start at
//! their creation time.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .add_column(timestamp_with_time_zone_null(Messages::StreamedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("UPDATE messages SET streamed_at = created_at WHERE streaming")
            .await?;
        // Only streaming rows are ever swept; the index keeps the sweep
        // off the whole table.
        manager
            .create_index(
                Index::create()
                    .name("ix_messages_streaming")
                    .table(Messages::Table)
                    .col(Messages::Streaming)
                    .col(Messages::StreamedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_messages_streaming")
                    .table(Messages::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .drop_column(Messages::StreamedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Streaming,
    StreamedAt,
}
