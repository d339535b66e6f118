//! Roles, per-member state, context-linked and deletable conversations,
//! typed messages, and users that come from a host app.
//!
//! Roles and message kinds are strings, so `admin` and `system` need no
//! schema change; everything else is new nullable or defaulted columns,
//! which both SQLite and PostgreSQL add in place.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Users: identity from the host app, bots, last seen.
        add_columns(
            manager,
            Users::Table,
            [
                string_len_null(Users::ExternalId, 256),
                string_len_null(Users::AvatarUrl, 2048),
                boolean(Users::IsBot).default(false).to_owned(),
                timestamp_with_time_zone_null(Users::LastSeenAt),
            ],
        )
        .await?;
        // NULLs are distinct in a unique index: users without an external
        // id never collide.
        manager
            .create_index(
                Index::create()
                    .name("ux_users_external_id")
                    .table(Users::Table)
                    .col(Users::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // Conversations: what the host app attaches, and soft deletion.
        add_columns(
            manager,
            Conversations::Table,
            [
                string_len_null(Conversations::Context, 128),
                string_len_null(Conversations::Description, 1024),
                string_len_null(Conversations::AvatarUrl, 2048),
                text_null(Conversations::Metadata),
                timestamp_with_time_zone_null(Conversations::DeletedAt),
            ],
        )
        .await?;
        // The direct key now carries the context too ("1:2:listing:8841").
        // SQLite does not enforce VARCHAR lengths; PostgreSQL does.
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
            manager
                .alter_table(
                    Table::alter()
                        .table(Conversations::Table)
                        .modify_column(ColumnDef::new(Conversations::DirectKey).string_len(256))
                        .to_owned(),
                )
                .await?;
        }
        // The purge of deleted conversations past their restore window.
        manager
            .create_index(
                Index::create()
                    .name("ix_conversations_deleted_at")
                    .table(Conversations::Table)
                    .col(Conversations::DeletedAt)
                    .to_owned(),
            )
            .await?;

        // Each member's own view: archived, muted (optionally until a time).
        add_columns(
            manager,
            ConversationMembers::Table,
            [
                boolean(ConversationMembers::Archived)
                    .default(false)
                    .to_owned(),
                boolean(ConversationMembers::Muted)
                    .default(false)
                    .to_owned(),
                timestamp_with_time_zone_null(ConversationMembers::MutedUntil),
            ],
        )
        .await?;

        // Messages: a kind and machine-readable metadata.
        add_columns(
            manager,
            Messages::Table,
            [
                string_len(Messages::Kind, 16).default("text").to_owned(),
                text_null(Messages::Metadata),
            ],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_users_external_id")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_conversations_deleted_at")
                    .table(Conversations::Table)
                    .to_owned(),
            )
            .await?;
        drop_columns(
            manager,
            Users::Table,
            [
                Users::ExternalId,
                Users::AvatarUrl,
                Users::IsBot,
                Users::LastSeenAt,
            ],
        )
        .await?;
        drop_columns(
            manager,
            Conversations::Table,
            [
                Conversations::Context,
                Conversations::Description,
                Conversations::AvatarUrl,
                Conversations::Metadata,
                Conversations::DeletedAt,
            ],
        )
        .await?;
        drop_columns(
            manager,
            ConversationMembers::Table,
            [
                ConversationMembers::Archived,
                ConversationMembers::Muted,
                ConversationMembers::MutedUntil,
            ],
        )
        .await?;
        drop_columns(
            manager,
            Messages::Table,
            [Messages::Kind, Messages::Metadata],
        )
        .await
    }
}

/// One ALTER per column: SQLite takes no more.
async fn add_columns<T: Iden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    columns: impl IntoIterator<Item = ColumnDef>,
) -> Result<(), DbErr> {
    for mut column in columns {
        manager
            .alter_table(
                Table::alter()
                    .table(table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

async fn drop_columns<T: Iden + Copy + 'static, C: Iden + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    columns: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    for column in columns {
        manager
            .alter_table(Table::alter().table(table).drop_column(column).to_owned())
            .await?;
    }
    Ok(())
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    ExternalId,
    AvatarUrl,
    IsBot,
    LastSeenAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Conversations {
    Table,
    DirectKey,
    Context,
    Description,
    AvatarUrl,
    Metadata,
    DeletedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ConversationMembers {
    Table,
    Archived,
    Muted,
    MutedUntil,
}

#[derive(DeriveIden, Clone, Copy)]
enum Messages {
    Table,
    Kind,
    Metadata,
}
