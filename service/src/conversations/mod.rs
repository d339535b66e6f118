//! Conversations and their members: opening direct conversations and
//! groups, the inbox, read state, membership and roles, settings, and a
//! conversation's life from creation to purge.

/// Every "may this actor ..." check, with the who-may table.
mod access;
/// Per-group bans: banning removes a member and keeps them out.
mod bans;
/// The viewer's conversations: the inbox, its filters, members of each.
mod inbox;
/// Deletion, restoring, purging, and the viewer's totals.
mod lifecycle;
/// Managing a group's members and their roles.
mod members;
/// Opening direct conversations and creating groups.
mod open;
/// Renaming, metadata, and each member's archive and mute.
mod settings;
/// Handing out seqs and recording changes as `system` messages.
mod timeline;
/// What an untitled conversation is called.
mod titles;
/// Read state: unread counts, read pointers, muting.
mod unread;

pub(crate) use access::{history_floor, may_delete_message, may_edit_message, may_moderate};
pub use inbox::{ConversationFilter, InboxCursor};
pub use lifecycle::Stats;
pub use members::Left;
pub(crate) use members::member_ids;
pub use open::CreateGroup;
pub use settings::UpdateConversation;
pub use timeline::Change;
pub(crate) use timeline::{
    CONVERSATION_LOCK, append_system, forget_id, forget_in_system_messages, lock_conversation,
};
pub(crate) use titles::title_from;
pub use titles::untitled_title;
pub use unread::UnreadNow;
pub(crate) use unread::{not_muted, uncount_deleted};
