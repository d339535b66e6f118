//! Full-text search over message bodies.
//!
//! Each backend keeps its own index, in sync with `messages` by the
//! database itself, so no write path in the service has to remember it:
//!
//! - SQLite: an FTS5 table with external content (it stores only the index;
//!   the text stays in `messages`), kept current by triggers. The
//!   `unicode61` tokenizer folds case and, with `remove_diacritics 2`,
//!   accents. Prefix indexes for 2 and 3 characters make short prefixes
//!   (the common case while typing) one doclist read instead of a merge of
//!   every word that starts with them.
//! - PostgreSQL: a stored generated `tsvector` column with a GIN index,
//!   built with a text search configuration `parley`: `simple` (lower-case,
//!   no stemming, no stop words) behind the `unaccent` dictionary. Folding
//!   accents in the configuration rather than around `body` keeps the
//!   original text for `ts_headline`: its matches are found after the same
//!   folding, but it shows "Café", not "Cafe".
//!
//! Both are filled from the existing rows here.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The FTS5 table with prefix indexes for the `prefix` lengths (FTS5's
/// syntax: "2 3"), its triggers, and the index filled from `messages`.
/// Migration 9 rebuilds it with other lengths.
pub(crate) fn sqlite_up(prefix: &str) -> Vec<String> {
    vec![
        format!(
            "CREATE VIRTUAL TABLE messages_fts USING fts5(\
             body, content='messages', content_rowid='id', \
             tokenize='unicode61 remove_diacritics 2', prefix='{prefix}')"
        ),
        // The standard external-content triggers: FTS5 removes a row's
        // terms by being told the old text ('delete'), so updates delete
        // then insert.
        "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN \
             INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); \
         END"
        .to_owned(),
        "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN \
             INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body); \
         END"
        .to_owned(),
        "CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN \
             INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body); \
             INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); \
         END"
        .to_owned(),
        "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')".to_owned(),
    ]
}

pub(crate) const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TABLE IF EXISTS messages_fts",
];

const POSTGRES_UP: &[&str] = &[
    // A trusted extension since PostgreSQL 13: the database owner may
    // create it.
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE TEXT SEARCH CONFIGURATION parley (COPY = pg_catalog.simple)",
    // Only the token types that can hold non-ASCII letters need unaccent.
    "ALTER TEXT SEARCH CONFIGURATION parley \
         ALTER MAPPING FOR word, hword, hword_part WITH unaccent, simple",
    // Adding a stored generated column rewrites the table: this is the
    // backfill.
    "ALTER TABLE messages ADD COLUMN search tsvector \
         GENERATED ALWAYS AS (to_tsvector('parley'::regconfig, body)) STORED",
    "CREATE INDEX ix_messages_search ON messages USING GIN (search)",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS ix_messages_search",
    "ALTER TABLE messages DROP COLUMN IF EXISTS search",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS parley",
    // The unaccent extension stays: something else may use it.
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too (sea-orm-migration runs SQLite
    /// migrations statement by statement otherwise, each on any pooled
    /// connection): the index is replaced whole or not at all.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &sqlite_up("2 3"), POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_DOWN, POSTGRES_DOWN).await
    }
}

pub(crate) async fn run(
    manager: &SchemaManager<'_>,
    sqlite: &[impl AsRef<str>],
    postgres: &[&str],
) -> Result<(), DbErr> {
    let statements: Vec<&str> = match manager.get_database_backend() {
        DbBackend::Sqlite => sqlite.iter().map(AsRef::as_ref).collect(),
        DbBackend::Postgres => postgres.to_vec(),
        other => {
            return Err(DbErr::Migration(format!(
                "message search does not support {other:?}"
            )));
        }
    };
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}
