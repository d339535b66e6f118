//! Full-text search over the messages of the viewer's conversations.
//!
//! One operation over two engines: FTS5 on SQLite and a GIN-indexed
//! `tsvector` on PostgreSQL (both set up, and kept in sync with `messages`,
//! by migration `m20261123_000006_message_search`).

/// The search operation and all of its SQL.
mod query;
/// Snippets: the databases' marked text turned into ranges.
mod snippet;
/// A query reduced to plain words.
mod terms;

pub use query::{Hit, RANK_WINDOW, SearchCursor, SearchInput, SearchOrder};
pub use snippet::{Snippet, TextRange};
