//! Messages, over `service::messages`.

/// Editing, deleting and reacting.
mod edit;
/// The `Message` type.
mod message;
/// Rich content, streamed text and importing history.
mod rich;
/// `searchMessages`.
mod search;
/// Sending, and following a conversation live.
mod send;

pub use edit::MessageActionMutation;
pub use message::{Message, MessageKind};
pub(crate) use rich::RichMessageInput;
pub use rich::RichMessageMutation;
pub use search::SearchQuery;
pub(crate) use send::mention_ids;
pub use send::{MessageMutation, MessageSubscription};
