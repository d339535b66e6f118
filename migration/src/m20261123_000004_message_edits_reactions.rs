//! Editing, deleting, replies and reactions.
//!
//! A deleted message stays in its seq as a tombstone (`deleted_at` set, its
//! content erased), so timelines and cursors keep their shape. Replies name
//! the message they answer (`reply_to_id`) and the root of the thread they
//! belong to (`thread_root_id`): a reply to a reply joins the root's
//! thread, and the root keeps its thread's count and latest time, so a
//! page of messages shows them without counting.
//!
//! `reply_to_id` and `thread_root_id` have no foreign keys: SQLite cannot
//! add one to an existing table without rebuilding it, and none is needed,
//! since a reply and its target are in the same conversation and messages
//! are only ever removed together with their conversation.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for column in [
            timestamp_with_time_zone_null(Messages::EditedAt),
            timestamp_with_time_zone_null(Messages::DeletedAt),
            big_integer_null(Messages::ReplyToId),
            big_integer_null(Messages::ThreadRootId),
            big_integer(Messages::ReplyCount).default(0).to_owned(),
            timestamp_with_time_zone_null(Messages::LastReplyAt),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Messages::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // A thread's replies in seq order: `Message.replies` pages on it.
        manager
            .create_index(
                Index::create()
                    .name("ix_messages_thread")
                    .table(Messages::Table)
                    .col(Messages::ThreadRootId)
                    .col(Messages::Seq)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MessageEdits::Table)
                    .col(big_pk_auto(MessageEdits::Id))
                    .col(big_integer(MessageEdits::MessageId))
                    .col(text(MessageEdits::Body))
                    .col(timestamp_with_time_zone(MessageEdits::EditedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_message_edits_message")
                            .from(MessageEdits::Table, MessageEdits::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_message_edits_message")
                    .table(MessageEdits::Table)
                    .col(MessageEdits::MessageId)
                    .col(MessageEdits::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Reactions::Table)
                    .col(big_pk_auto(Reactions::Id))
                    .col(big_integer(Reactions::MessageId))
                    .col(big_integer(Reactions::UserId))
                    .col(string_len(Reactions::Emoji, 32))
                    .col(timestamp_with_time_zone(Reactions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reactions_message")
                            .from(Reactions::Table, Reactions::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reactions_user")
                            .from(Reactions::Table, Reactions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One reaction per user, message and emoji. Message first, then
        // emoji: the same index serves counting a page's reactions grouped
        // by message and emoji.
        manager
            .create_index(
                Index::create()
                    .name("ux_reactions_message_emoji_user")
                    .table(Reactions::Table)
                    .col(Reactions::MessageId)
                    .col(Reactions::Emoji)
                    .col(Reactions::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The cascade when a user is removed.
        manager
            .create_index(
                Index::create()
                    .name("ix_reactions_user")
                    .table(Reactions::Table)
                    .col(Reactions::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Reactions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MessageEdits::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_messages_thread")
                    .table(Messages::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Messages::LastReplyAt,
            Messages::ReplyCount,
            Messages::ThreadRootId,
            Messages::ReplyToId,
            Messages::DeletedAt,
            Messages::EditedAt,
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
    Id,
    Seq,
    EditedAt,
    DeletedAt,
    ReplyToId,
    ThreadRootId,
    ReplyCount,
    LastReplyAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MessageEdits {
    Table,
    Id,
    MessageId,
    Body,
    EditedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Reactions {
    Table,
    Id,
    MessageId,
    UserId,
    Emoji,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}
