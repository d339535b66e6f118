//! Conversations and their members: opening direct conversations and
//! groups, the inbox, read state, membership and roles, settings, and a
//! conversation's life from creation to purge.

/// Every "may this actor ..." check, with the who-may table.
mod access;
/// The inbox, opening conversations, members and read state.
mod inbox;
/// Settings, archive and mute, deletion, restoring, purging, totals.
mod lifecycle;
/// Managing a group's members and their roles.
mod members;
/// Handing out seqs and recording changes as `system` messages.
mod timeline;

pub(crate) use access::{may_delete_message, may_edit_message};
pub use inbox::{ConversationFilter, CreateGroup, InboxCursor};
pub(crate) use inbox::{direct_key, insert_members, unread_after};
pub(crate) use lifecycle::not_muted;
pub use lifecycle::{Stats, UpdateConversation};
pub use members::Left;
pub(crate) use members::member_ids;
pub use timeline::Change;
pub(crate) use timeline::{CONVERSATION_LOCK, append_system, lock_conversation, next_seq};
