//! Messages: sending (and the group-commit engine behind it), reading
//! history, rich content, edits and deletes, reactions, threads, streamed
//! text, importing history and full-text search.

/// Message kinds, attachments and metadata.
mod content;
/// Editing and deleting messages.
mod edit;
/// Importing history from another system.
mod import;
/// Reactions: one emoji per person per message, bounded.
mod reactions;
/// Full-text search over the viewer's conversations.
pub mod search;
/// Sending and reading messages.
mod send;
/// The group-commit engine that stores sends.
mod send_lanes;
/// Messages whose text streams in (AI answers).
mod streaming;
/// Replies and threads.
mod threads;

pub use content::{
    ATTACHMENT_NAME_MAX, ATTACHMENTS_MAX, Attachment, BODY_MAX, MIME_TYPE_MAX, RichContent,
    attachments_of,
};
pub(crate) use content::{Content, trim_body};
pub(crate) use edit::{Locked, lock_message, require_live_text};
pub use import::{IMPORT_MAX, ImportMessage, ImportOutcome};
pub use reactions::{
    EMOJI_MAX_BYTES, EMOJI_MAX_CHARS, EMOJI_PER_MESSAGE, EMOJI_PER_PERSON, ReactionGroup,
    validate_emoji,
};
pub(crate) use send::validate_body;
pub use send::{CLIENT_ID_MAX, SendMessage};
pub(crate) use send_lanes::{Draft, Lanes, Stored};
pub(crate) use streaming::Streams;
pub use streaming::{Appended, FLUSH_EVERY};
pub(crate) use threads::{join_thread, leave_thread};
