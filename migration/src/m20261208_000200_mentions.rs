//! Mentions: who a message names, and each member's unread mentions.
//!
//! A mention row names a member of the message's conversation; its `seq`
//! is the message's, so "unread" is `seq > last_read_seq` without a join.
//! `explicit` marks ids the client sent (`mentions: [ID!]`), which an edit
//! keeps; the others come from `@username` in the body and an edit
//! re-derives them. `unread_mentions` on the membership is kept by every
//! send, read, edit and delete, like `unread_count`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MessageMentions::Table)
                    .col(big_integer(MessageMentions::MessageId))
                    .col(big_integer(MessageMentions::UserId))
                    .col(big_integer(MessageMentions::ConversationId))
                    .col(big_integer(MessageMentions::Seq))
                    .col(boolean(MessageMentions::Explicit).default(false))
                    .primary_key(
                        Index::create()
                            .col(MessageMentions::MessageId)
                            .col(MessageMentions::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_message_mentions_message")
                            .from(MessageMentions::Table, MessageMentions::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_message_mentions_user")
                            .from(MessageMentions::Table, MessageMentions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_message_mentions_conversation")
                            .from(MessageMentions::Table, MessageMentions::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A member's mentions after their read pointer: recounting them is
        // one index range.
        manager
            .create_index(
                Index::create()
                    .name("ix_message_mentions_user")
                    .table(MessageMentions::Table)
                    .col(MessageMentions::UserId)
                    .col(MessageMentions::ConversationId)
                    .col(MessageMentions::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ConversationMembers::Table)
                    .add_column(big_integer(ConversationMembers::UnreadMentions).default(0))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ConversationMembers::Table)
                    .drop_column(ConversationMembers::UnreadMentions)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(MessageMentions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum MessageMentions {
    Table,
    MessageId,
    UserId,
    ConversationId,
    Seq,
    Explicit,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ConversationMembers {
    Table,
    UnreadMentions,
}
