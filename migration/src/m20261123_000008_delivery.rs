//! Delivery receipts: how far each member's clients have received.
//!
//! `last_delivered_seq` moves when a member's client receives messages,
//! live or by fetching them; reading implies receiving, so it never trails
//! `last_read_seq`. Existing memberships start where they have read.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ConversationMembers::Table)
                    .add_column(big_integer(ConversationMembers::LastDeliveredSeq).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE conversation_members SET last_delivered_seq = last_read_seq",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ConversationMembers::Table)
                    .drop_column(ConversationMembers::LastDeliveredSeq)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ConversationMembers {
    Table,
    LastDeliveredSeq,
}
