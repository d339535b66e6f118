//! Who is typing where. Never stored: each change is published on the
//! ephemeral bus, and this instance's tracker ends a typing state nobody
//! renewed.
//!
//! Clients renew `typing: true` every few seconds while the user types. A
//! renewal within [`RENEWAL`] of the last broadcast keeps the state alive
//! but is not broadcast again, so a client that renews on every keystroke
//! costs its conversation one event a second at most. A state not renewed
//! within `Settings::typing_timeout` ends with a `typing: false`, sent by
//! one timer task per service; so does a message from the typing user.
//!
//! The map holds only live states (each is removed when it ends), so it
//! grows with the number of people typing right now, nothing else.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use tokio::{
    sync::mpsc,
    time::{Instant, sleep_until},
};

use crate::{
    Service, Viewer,
    error::Result,
    events::{Ephemeral, EventBus},
};

/// Least time between two broadcasts of `typing: true` for one user in one
/// conversation.
pub const RENEWAL: Duration = Duration::from_secs(1);

/// `(user id, conversation id)`.
type Key = (i64, i64);

#[derive(Clone, Copy, Debug)]
struct State {
    /// When the state ends unless renewed.
    expires_at: Instant,
    /// When `typing: true` was last published.
    broadcast_at: Instant,
}

type States = Arc<Mutex<HashMap<Key, State>>>;

/// The typing states of one service; clones share them.
#[derive(Clone)]
pub(crate) struct Typing {
    states: States,
    bus: EventBus,
    timeout: Duration,
    /// Wakes the timer task when a state starts (the task sleeps until the
    /// earliest expiry, or indefinitely while nobody types). The task ends
    /// when the last clone of this is dropped.
    wake: mpsc::Sender<()>,
}

impl Typing {
    /// Starts the timer task. Must be called inside a Tokio runtime.
    pub fn start(bus: &EventBus, timeout: Duration) -> Self {
        let states = States::default();
        let (wake, woken) = mpsc::channel(1);
        tokio::spawn(expire(states.clone(), bus.clone(), woken));
        Self {
            states,
            bus: bus.clone(),
            timeout,
            wake,
        }
    }

    fn states(&self) -> MutexGuard<'_, HashMap<Key, State>> {
        lock(&self.states)
    }

    /// Starts or renews a typing state; publishes `typing: true` unless it
    /// did so less than [`RENEWAL`] ago.
    fn start_typing(&self, user_id: i64, conversation_id: i64) {
        let now = Instant::now();
        let expires_at = now + self.timeout;
        let mut states = self.states();
        let publish = match states.get_mut(&(user_id, conversation_id)) {
            Some(state) => {
                state.expires_at = expires_at;
                let due = now.duration_since(state.broadcast_at) >= RENEWAL;
                if due {
                    state.broadcast_at = now;
                }
                due
            }
            None => {
                states.insert(
                    (user_id, conversation_id),
                    State {
                        expires_at,
                        broadcast_at: now,
                    },
                );
                // The task may be asleep with nothing to wait for. A full
                // channel already holds a wake-up, which is all it needs.
                let _ = self.wake.try_send(());
                true
            }
        };
        if publish {
            // Published under the lock, so a `typing: false` for the same
            // key cannot overtake it.
            self.bus.publish_ephemeral(Ephemeral::Typing {
                conversation_id,
                user_id,
                typing: true,
            });
        }
    }

    /// Ends a typing state. With `always`, `typing: false` is published
    /// even when this instance knew of no state (the user may have typed
    /// through another instance); else only when one ended.
    fn stop_typing(&self, user_id: i64, conversation_id: i64, always: bool) {
        let mut states = self.states();
        let ended = states.remove(&(user_id, conversation_id)).is_some();
        if ended || always {
            self.bus.publish_ephemeral(Ephemeral::Typing {
                conversation_id,
                user_id,
                typing: false,
            });
        }
    }

    /// Typing states alive now (for tests and metrics).
    pub fn len(&self) -> usize {
        self.states().len()
    }
}

fn lock(states: &States) -> MutexGuard<'_, HashMap<Key, State>> {
    // Every update is a single insert, change or remove: the map stays
    // consistent even if a holder panicked.
    states.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The timer task: ends every state whose time is up, then sleeps until
/// the next expiry or a wake-up.
async fn expire(states: States, bus: EventBus, mut woken: mpsc::Receiver<()>) {
    loop {
        let next = {
            let mut states = lock(&states);
            let now = Instant::now();
            states.retain(|(user_id, conversation_id), state| {
                if state.expires_at > now {
                    return true;
                }
                bus.publish_ephemeral(Ephemeral::Typing {
                    conversation_id: *conversation_id,
                    user_id: *user_id,
                    typing: false,
                });
                false
            });
            states.values().map(|s| s.expires_at).min()
        };
        match next {
            Some(at) => {
                tokio::select! {
                    () = sleep_until(at) => {}
                    // A new state expires after every existing one (the
                    // timeout is fixed), so a wake-up changes nothing here;
                    // only the end of the service does.
                    woke = woken.recv() => if woke.is_none() { break },
                }
            }
            None => {
                if woken.recv().await.is_none() {
                    break;
                }
            }
        }
    }
}

impl Service {
    /// Says the viewer is typing (`true`) or stopped (`false`) in a
    /// conversation they are a member of; to anyone else it does not exist.
    #[tracing::instrument(skip(self), fields(user_id = viewer.user_id))]
    pub async fn set_typing(
        &self,
        viewer: &Viewer,
        conversation_id: i64,
        typing: bool,
    ) -> Result<()> {
        self.conversation(viewer, conversation_id).await?;
        match typing {
            true => self.typing.start_typing(viewer.user_id, conversation_id),
            false => self
                .typing
                .stop_typing(viewer.user_id, conversation_id, true),
        }
        Ok(())
    }

    /// Ends the user's typing state after they sent a message, if they had
    /// one here.
    pub(crate) fn sent_while_typing(&self, user_id: i64, conversation_id: i64) {
        self.typing.stop_typing(user_id, conversation_id, false);
    }

    /// Typing states alive on this instance (for tests and metrics).
    pub fn typing_count(&self) -> usize {
        self.typing.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_timeout_is_six_seconds() {
        assert_eq!(
            crate::Settings::default().typing_timeout,
            Duration::from_secs(6)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_state_ends_after_the_timeout_unless_renewed() {
        let bus = EventBus::new();
        let mut events = bus.subscribe_ephemeral();
        let typing = Typing::start(&bus, Duration::from_secs(6));
        typing.start_typing(1, 2);
        assert!(matches!(
            *events.recv().await.unwrap(),
            Ephemeral::Typing { typing: true, .. }
        ));
        tokio::time::sleep(Duration::from_secs(4)).await;
        // Renewed at 4 s: ends at 10 s, not 6 s.
        typing.start_typing(1, 2);
        assert!(matches!(
            *events.recv().await.unwrap(),
            Ephemeral::Typing { typing: true, .. }
        ));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(typing.len(), 1);
        let ended = events.recv().await.unwrap();
        assert!(matches!(*ended, Ephemeral::Typing { typing: false, .. }));
        assert_eq!(typing.len(), 0);
    }
}
