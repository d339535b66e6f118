//! Messages: sending (and the group-commit engine behind it), reading
//! history, rich content, edits and deletes, reactions, threads, streamed
//! text, importing history and full-text search.

/// Message kinds, attachments and metadata.
mod content;
/// Editing and deleting messages.
mod edit;
/// Reading messages and following new ones.
mod history;
/// Importing history from another system.
mod import;
/// Mentions of members, by `@username` or by id.
pub(crate) mod mentions;
/// Reactions: one emoji per person per message, bounded.
mod reactions;
/// Reports of messages and the host app's queue.
mod reports;
/// Full-text search over the viewer's conversations.
pub mod search;
/// Sending a message.
mod send;
/// The set-based statements of one batch of sends.
mod send_batch;
/// The group-commit engine that stores sends.
mod send_lanes;
/// Messages whose text streams in (AI answers).
mod streaming;
/// Finishing streaming messages left silent.
mod streaming_sweep;
/// Replies and threads.
mod threads;

pub(crate) use content::Content;
pub use content::{Attachment, RichContent, attachments_of};
pub(crate) use edit::{Locked, lock_message, require_live_text, tombstone};
pub use import::{ImportMessage, ImportOutcome};
pub(crate) use mentions::unread_mentions_after;
pub use reactions::ReactionGroup;
pub use send::SendMessage;
pub(crate) use send_lanes::{Draft, Lanes, Stored};
pub(crate) use streaming::Streams;
pub use streaming::{Appended, FLUSH_EVERY};
pub(crate) use threads::{join_thread, leave_thread};
