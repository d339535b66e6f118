//! History visibility: whether a group's members see what was posted before
//! they (last) joined.
//!
//! `history_visibility` is `shared` (everything, the behaviour before this
//! migration) or `since_joined`. Every membership records
//! `visible_from_seq`, the first seq it may see (the notice that added the
//! member; 0 for founding members), whatever the setting, so switching a
//! group to `since_joined` applies to everyone's latest join. Existing
//! memberships start at 0: they keep seeing everything.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .add_column(string_len(Conversations::HistoryVisibility, 16).default("shared"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ConversationMembers::Table)
                    .add_column(big_integer(ConversationMembers::VisibleFromSeq).default(0))
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
                    .drop_column(ConversationMembers::VisibleFromSeq)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .drop_column(Conversations::HistoryVisibility)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    HistoryVisibility,
}

#[derive(DeriveIden)]
enum ConversationMembers {
    Table,
    VisibleFromSeq,
}
