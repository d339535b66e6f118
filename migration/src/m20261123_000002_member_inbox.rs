//! The inbox read from memberships alone.
//!
//! A user's inbox page was a join of all their memberships with their
//! conversations, sorted: 10,000 rows read for a page of 50. Each
//! membership now carries its conversation's activity time and its own
//! unread count, kept current by every send, so a page is a range scan of
//! one index and an unread count is a column, not a `COUNT(*)`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite cannot add a NOT NULL column without a constant default,
        // so the time is added nullable, filled in, and (on PostgreSQL)
        // made NOT NULL. Every write sets it from here on.
        manager
            .alter_table(
                Table::alter()
                    .table(ConversationMembers::Table)
                    .add_column(timestamp_with_time_zone_null(
                        ConversationMembers::LastActivityAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ConversationMembers::Table)
                    .add_column(big_integer(ConversationMembers::UnreadCount).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE conversation_members SET \
                 last_activity_at = (SELECT c.last_activity_at FROM conversations c \
                     WHERE c.id = conversation_members.conversation_id), \
                 unread_count = (SELECT COUNT(*) FROM messages m \
                     WHERE m.conversation_id = conversation_members.conversation_id \
                     AND m.seq > conversation_members.last_read_seq \
                     AND m.sender_id <> conversation_members.user_id)",
            )
            .await?;
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
            manager
                .alter_table(
                    Table::alter()
                        .table(ConversationMembers::Table)
                        .modify_column(
                            ColumnDef::new(ConversationMembers::LastActivityAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .to_owned(),
                )
                .await?;
        }
        // The inbox, newest first: a page is the first rows of this index.
        // Its leading column also serves every "memberships of a user"
        // lookup, so the older index goes.
        manager
            .create_index(
                Index::create()
                    .name("ix_conversation_members_inbox")
                    .table(ConversationMembers::Table)
                    .col(ConversationMembers::UserId)
                    .col(ConversationMembers::LastActivityAt)
                    .col(ConversationMembers::ConversationId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_conversation_members_user")
                    .table(ConversationMembers::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_conversation_members_user")
                    .table(ConversationMembers::Table)
                    .col(ConversationMembers::UserId)
                    .col(ConversationMembers::ConversationId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_conversation_members_inbox")
                    .table(ConversationMembers::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            ConversationMembers::UnreadCount,
            ConversationMembers::LastActivityAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ConversationMembers::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ConversationMembers {
    Table,
    ConversationId,
    UserId,
    LastActivityAt,
    UnreadCount,
}
