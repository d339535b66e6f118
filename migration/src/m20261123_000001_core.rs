//! Accounts, sessions, conversations, members and messages.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_len(Users::Username, 32))
                    .col(string_len(Users::UsernameKey, 32))
                    .col(string_len(Users::DisplayName, 64))
                    .col(string_null(Users::PasswordHash))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "ux_users_username_key",
            Users::Table,
            &[Users::UsernameKey],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(big_pk_auto(Sessions::Id))
                    .col(big_integer(Sessions::UserId))
                    .col(string_len(Sessions::TokenHash, 64))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "ux_sessions_token_hash",
            Sessions::Table,
            &[Sessions::TokenHash],
            true,
        )
        .await?;
        create_index(
            manager,
            "ix_sessions_user",
            Sessions::Table,
            &[Sessions::UserId],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .col(big_pk_auto(Conversations::Id))
                    .col(string_len(Conversations::Kind, 16))
                    .col(string_len_null(Conversations::Title, 128))
                    .col(string_len_null(Conversations::DirectKey, 64))
                    .col(big_integer_null(Conversations::CreatedBy))
                    .col(big_integer(Conversations::LastSeq).default(0))
                    .col(timestamp_with_time_zone(Conversations::LastActivityAt))
                    .col(timestamp_with_time_zone(Conversations::CreatedAt))
                    .col(timestamp_with_time_zone(Conversations::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Conversations::Table, Conversations::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "ux_conversations_direct_key",
            Conversations::Table,
            &[Conversations::DirectKey],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ConversationMembers::Table)
                    .col(big_integer(ConversationMembers::ConversationId))
                    .col(big_integer(ConversationMembers::UserId))
                    .col(string_len(ConversationMembers::Role, 16))
                    .col(big_integer(ConversationMembers::LastReadSeq).default(0))
                    .col(timestamp_with_time_zone(ConversationMembers::JoinedAt))
                    .primary_key(
                        Index::create()
                            .col(ConversationMembers::ConversationId)
                            .col(ConversationMembers::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ConversationMembers::Table,
                                ConversationMembers::ConversationId,
                            )
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConversationMembers::Table, ConversationMembers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The inbox: every conversation of one user.
        create_index(
            manager,
            "ix_conversation_members_user",
            ConversationMembers::Table,
            &[
                ConversationMembers::UserId,
                ConversationMembers::ConversationId,
            ],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(big_pk_auto(Messages::Id))
                    .col(big_integer(Messages::ConversationId))
                    .col(big_integer(Messages::Seq))
                    .col(big_integer_null(Messages::SenderId))
                    .col(text(Messages::Body))
                    .col(string_len_null(Messages::ClientMessageId, 64))
                    .col(timestamp_with_time_zone(Messages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Messages::Table, Messages::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Messages::Table, Messages::SenderId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // History pages are keyset pages on this index; it also forbids a
        // repeated seq.
        create_index(
            manager,
            "ux_messages_conversation_seq",
            Messages::Table,
            &[Messages::ConversationId, Messages::Seq],
            true,
        )
        .await?;
        // Idempotent sends. NULL keys are distinct, so messages without one
        // never collide.
        create_index(
            manager,
            "ux_messages_client_id",
            Messages::Table,
            &[
                Messages::ConversationId,
                Messages::SenderId,
                Messages::ClientMessageId,
            ],
            true,
        )
        .await?;
        create_index(
            manager,
            "ix_messages_sender",
            Messages::Table,
            &[Messages::SenderId],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Messages::Table.into_iden(),
            ConversationMembers::Table.into_iden(),
            Conversations::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn create_index<T: Iden + Copy + 'static, C: Iden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[C],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Username,
    UsernameKey,
    DisplayName,
    PasswordHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Sessions {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Conversations {
    Table,
    Id,
    Kind,
    Title,
    DirectKey,
    CreatedBy,
    LastSeq,
    LastActivityAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ConversationMembers {
    Table,
    ConversationId,
    UserId,
    Role,
    LastReadSeq,
    JoinedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Messages {
    Table,
    Id,
    ConversationId,
    Seq,
    SenderId,
    Body,
    ClientMessageId,
    CreatedAt,
}
