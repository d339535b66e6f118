//! Moderation: who blocks whom, per-group bans, reports of messages, and
//! the audit log of what the host app (the admin key) read and did.
//!
//! `user_blocks` is keyed by `(blocker_id, blocked_id)`, so "whom does the
//! viewer block" is one index range. `conversation_bans` is keyed by
//! `(conversation_id, user_id)`. A reporter has at most one open report per
//! message: a partial unique index (SQLite and PostgreSQL both have them)
//! over the open ones, so resolved reports do not stop a new one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserBlocks::Table)
                    .col(big_integer(UserBlocks::BlockerId))
                    .col(big_integer(UserBlocks::BlockedId))
                    .col(timestamp_with_time_zone(UserBlocks::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(UserBlocks::BlockerId)
                            .col(UserBlocks::BlockedId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserBlocks::Table, UserBlocks::BlockerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserBlocks::Table, UserBlocks::BlockedId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConversationBans::Table)
                    .col(big_integer(ConversationBans::ConversationId))
                    .col(big_integer(ConversationBans::UserId))
                    .col(big_integer_null(ConversationBans::BannedBy))
                    .col(text_null(ConversationBans::Reason))
                    .col(timestamp_with_time_zone(ConversationBans::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(ConversationBans::ConversationId)
                            .col(ConversationBans::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConversationBans::Table, ConversationBans::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConversationBans::Table, ConversationBans::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConversationBans::Table, ConversationBans::BannedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MessageReports::Table)
                    .col(big_pk_auto(MessageReports::Id))
                    .col(big_integer(MessageReports::MessageId))
                    .col(big_integer(MessageReports::ConversationId))
                    .col(big_integer(MessageReports::ReporterId))
                    .col(text(MessageReports::Reason))
                    .col(string_len(MessageReports::Status, 16))
                    .col(text_null(MessageReports::Resolution))
                    .col(timestamp_with_time_zone(MessageReports::CreatedAt))
                    .col(timestamp_with_time_zone_null(MessageReports::ResolvedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MessageReports::Table, MessageReports::MessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MessageReports::Table, MessageReports::ReporterId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_message_reports_open ON message_reports \
             (message_id, reporter_id) WHERE status = 'open'",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX ix_message_reports_status ON message_reports (status, id)",
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(string_len(AuditLog::Actor, 32))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len_null(AuditLog::Target, 256))
                    .col(boolean(AuditLog::Ok))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            MessageReports::Table.into_iden(),
            ConversationBans::Table.into_iden(),
            UserBlocks::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
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
enum Messages {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum UserBlocks {
    Table,
    BlockerId,
    BlockedId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ConversationBans {
    Table,
    ConversationId,
    UserId,
    BannedBy,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MessageReports {
    Table,
    Id,
    MessageId,
    ConversationId,
    ReporterId,
    Reason,
    Status,
    Resolution,
    CreatedAt,
    ResolvedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    Actor,
    Action,
    Target,
    Ok,
    At,
}
