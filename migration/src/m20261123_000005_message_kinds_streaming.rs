//! Rich messages: attachments, streaming text, and ids from other networks.
//!
//! Kinds are strings (`image`, `file` and `offer` need no schema change).
//! Attachments are a JSON array in a text column: they are read and written
//! with their message only, so a table would buy nothing. `external_id` is
//! the id a message had on the network it was imported from; the unique
//! index on `(conversation_id, external_id)` makes imports idempotent, and
//! NULLs are distinct in a unique index on SQLite and PostgreSQL alike, so
//! the messages sent here never collide.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One ALTER per column: SQLite takes no more.
        for mut column in [
            text_null(Messages::Attachments),
            boolean(Messages::Streaming).default(false).to_owned(),
            string_len_null(Messages::ExternalId, 256),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Messages::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ux_messages_external_id")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_messages_external_id")
                    .table(Messages::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Messages::Attachments,
            Messages::Streaming,
            Messages::ExternalId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Messages::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Messages {
    Table,
    ConversationId,
    Attachments,
    Streaming,
    ExternalId,
}
