//! SeaORM entities: one module per table, nothing else.
//!
//! The schema itself is owned by the `migration` crate; these types only
//! describe it to the ORM.

pub mod audit_entry;
pub mod conversation;
pub mod conversation_ban;
pub mod conversation_member;
pub mod event;
pub mod event_log;
pub mod message;
pub mod message_edit;
pub mod message_mention;
pub mod message_report;
pub mod reaction;
pub mod session;
pub mod user;
pub mod user_block;
pub mod webhook_endpoint;

pub mod prelude {
    pub use super::conversation::Entity as Conversation;
    pub use super::conversation_member::Entity as ConversationMember;
    pub use super::message::Entity as Message;
    pub use super::message_edit::Entity as MessageEdit;
    pub use super::reaction::Entity as Reaction;
    pub use super::session::Entity as Session;
    pub use super::user::Entity as User;
}
