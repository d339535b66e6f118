//! The schema's history. Every migration runs on SQLite and PostgreSQL; the
//! server applies pending ones at start-up and every test runs them.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_core;
mod m20261123_000002_member_inbox;
mod m20261123_000003_membership_identity;
mod m20261123_000004_message_edits_reactions;
mod m20261123_000005_message_kinds_streaming;
mod m20261123_000006_message_search;
mod m20261123_000007_events;
mod m20261123_000008_delivery;
mod m20261123_000009_search_prefix_4;
mod m20261208_000100_webhooks;
mod m20261208_000200_mentions;
mod m20261208_000201_streaming_sweep;
mod m20261208_000202_history_visibility;
mod m20261208_000300_moderation;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_core::Migration),
            Box::new(m20261123_000002_member_inbox::Migration),
            Box::new(m20261123_000003_membership_identity::Migration),
            Box::new(m20261123_000004_message_edits_reactions::Migration),
            Box::new(m20261123_000005_message_kinds_streaming::Migration),
            Box::new(m20261123_000006_message_search::Migration),
            Box::new(m20261123_000007_events::Migration),
            Box::new(m20261123_000008_delivery::Migration),
            Box::new(m20261123_000009_search_prefix_4::Migration),
            Box::new(m20261208_000200_mentions::Migration),
            Box::new(m20261208_000201_streaming_sweep::Migration),
            Box::new(m20261208_000202_history_visibility::Migration),
            Box::new(m20261208_000300_moderation::Migration),
            Box::new(m20261208_000100_webhooks::Migration),
        ]
    }
}
