//! What is live but not stored as history: typing, presence and delivery
//! receipts.

/// Delivery receipts, coalesced and flushed.
mod delivery;
/// Who is online, from their open sockets.
mod presence;
/// Who is typing where, with a timeout.
mod typing;

pub(crate) use delivery::Deliveries;
pub use delivery::Status;
pub(crate) use presence::Presence;
pub use presence::PresenceGuard;
pub use typing::RENEWAL;
pub(crate) use typing::Typing;
