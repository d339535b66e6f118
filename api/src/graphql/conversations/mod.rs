//! Conversations, over `service::conversations`.

/// The `Conversation` type and its members.
mod conversation;
/// Listing, opening, creating, marking read.
mod inbox;
/// Members and roles, settings, archive and mute, deletion and restoring.
mod manage;

pub(crate) use conversation::seq_cursor;
pub use conversation::{
    Conversation, ConversationKind, HistoryVisibility, MemberRole, PagePrefetch,
};
pub use inbox::{ConversationMutation, ConversationQuery};
pub use manage::ManageMutation;
