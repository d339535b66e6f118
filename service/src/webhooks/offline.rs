//! Who of a new message's recipients had no live socket when it was
//! stored: written into the `message_added` event (`data.offline`) while
//! some endpoint wants message events, so that a delivery hours later
//! still names the people who were offline at the time.
//!
//! "Live socket" is the presence of `live::presence`: this instance's
//! sockets and, on PostgreSQL, every other instance's as their rosters
//! last said.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use crate::live::Presence;

#[derive(Clone)]
pub(crate) struct OfflineProbe {
    presence: Presence,
    /// Set while some endpoint takes `message.added`.
    wanted: Arc<AtomicBool>,
}

impl OfflineProbe {
    pub fn new(presence: Presence, wanted: Arc<AtomicBool>) -> Self {
        Self { presence, wanted }
    }

    /// Whether some endpoint wants offline recipients now (otherwise
    /// sends record none).
    pub fn wanted(&self) -> bool {
        self.wanted.load(Ordering::Relaxed)
    }

    /// The members other than `sender` who are offline now.
    pub fn offline_now(&self, sender: Option<i64>, members: impl Iterator<Item = i64>) -> Vec<i64> {
        members
            .filter(|id| Some(*id) != sender)
            .filter(|id| !self.presence.is_online(*id))
            .collect()
    }
}
