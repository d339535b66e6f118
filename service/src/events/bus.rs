//! The in-process event bus.
//!
//! Operations publish an [`Event`] after their transaction commits; live
//! subscriptions listen on the topic they care about. Each topic has its own
//! bounded `broadcast` channel, created when the first subscriber arrives
//! and dropped with the last, so a message wakes only the subscribers of its
//! conversation.
//!
//! Events carry what was committed, and every subscriber can rebuild what it
//! missed from the database: a receiver that lags behind the channel's
//! capacity re-reads instead of losing events.
//!
//! Durable events reach every instance through the event log (the
//! sequencer feeds [`EventBus::deliver`], which also feeds `messageAdded`
//! topics). What is not stored (typing, streamed text, revocations,
//! conversation checks, presence rosters) goes to the other instances
//! through a [`Wire`] link, when one is attached: on PostgreSQL,
//! `events::cluster` carries it over `NOTIFY`; a broker could carry the
//! same messages. What arrives from elsewhere is handed to local
//! subscribers only, so nothing is delivered twice.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

use entity::{event, message};
use serde::{Deserialize, Serialize};
use tokio::sync::{
    broadcast::{self, error::RecvError},
    mpsc,
};

use crate::Viewer;

/// Events a topic's channel can hold before its slowest receiver lags. A
/// conversation rarely gets this many messages between two polls of a
/// healthy subscriber; one that does falls back to the database.
const TOPIC_CAPACITY: usize = 256;

/// Something that happened, after it was committed.
// Wrapped in an `Arc` once, when published: boxing the message too would
// add an allocation per message for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Event {
    /// A message (or a `system` notice) took the next seq.
    MessageAdded(message::Model),
    /// The conversation was deleted, restored or removed for good: whoever
    /// follows it must check again whether they still may.
    ConversationChanged { conversation_id: i64 },
}

impl Event {
    pub fn topic(&self) -> Topic {
        match self {
            Event::MessageAdded(m) => Topic::Conversation(m.conversation_id),
            Event::ConversationChanged { conversation_id } => Topic::Conversation(*conversation_id),
        }
    }
}

/// Who an event is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    Conversation(i64),
}

type Topics = HashMap<Topic, broadcast::Sender<Arc<Event>>>;

/// Logged events the log channel holds before its slowest receiver lags and
/// re-reads from the table. Every `events` stream listens to every logged
/// event and keeps those its viewer may see.
const LOG_CAPACITY: usize = 4096;

/// Revocations the channel holds before a slow socket lags; one that lags
/// checks its credential against the database instead.
const REVOKED_CAPACITY: usize = 256;

/// Presence messages from other instances the channel holds before the
/// roster task lags (it then asks for fresh snapshots).
const ROSTER_CAPACITY: usize = 4096;

/// Owned by the running app; clones share the same topics.
#[derive(Clone)]
pub struct EventBus {
    /// This bus's instance among those sharing a database: random, so that
    /// it can tell its own messages from others'.
    origin: u64,
    topics: Arc<Mutex<Topics>>,
    /// The event log, in id order (the sequencer in `events` sends it).
    log: broadcast::Sender<Arc<LoggedEvent>>,
    /// Events nobody stores: typing, presence, streamed text.
    ephemeral: broadcast::Sender<Arc<Ephemeral>>,
    /// Sessions that ended: live connections of theirs must close.
    revoked: broadcast::Sender<Revoked>,
    /// Other instances' presence messages, with the instance they came from.
    roster: broadcast::Sender<Arc<(u64, Roster)>>,
    /// Where messages for the other instances go, once a link is attached
    /// (PostgreSQL); none on SQLite, which serves one instance.
    link: Arc<OnceLock<mpsc::Sender<Wire>>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            origin: rand::random(),
            topics: Arc::default(),
            log: broadcast::channel(LOG_CAPACITY).0,
            ephemeral: broadcast::channel(LOG_CAPACITY).0,
            revoked: broadcast::channel(REVOKED_CAPACITY).0,
            roster: broadcast::channel(ROSTER_CAPACITY).0,
            link: Arc::default(),
        }
    }
}

/// What one instance tells the others: everything live that is not in the
/// event log. Small and self-contained, so any transport can carry it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Wire {
    Typing {
        conversation_id: i64,
        user_id: i64,
        typing: bool,
    },
    Appended {
        conversation_id: i64,
        message_id: i64,
        text: String,
    },
    /// A group member read up to `seq` (see [`Ephemeral::Read`]).
    Read {
        conversation_id: i64,
        user_id: i64,
        seq: i64,
    },
    Revoked(Revoked),
    /// A conversation was deleted, restored or removed for good.
    Changed {
        conversation_id: i64,
    },
    Roster(Roster),
}

/// How instances keep one another's list of online users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Roster {
    /// The user's first socket on the sending instance opened.
    Online(i64),
    /// The user's last socket on the sending instance closed.
    Offline(i64),
    /// The sender is alive and has this many users online.
    Beat { users: usize },
    /// Asks for snapshots: from everyone, or from one instance.
    Hello { to: Option<u64> },
    /// Every user online on the sender, replacing what was known of it.
    Snapshot { users: Vec<i64> },
}

/// A logged event, with the message it is about when the writer had it at
/// hand (a new message), so that streams need not read it back.
#[derive(Clone, Debug)]
pub struct LoggedEvent {
    pub event: event::Model,
    pub message: Option<message::Model>,
}

impl LoggedEvent {
    /// Pairs each event with its message among `messages`, if there.
    pub(crate) fn attach(events: Vec<event::Model>, messages: &[&message::Model]) -> Vec<Self> {
        events
            .into_iter()
            .map(|event| {
                let message = event
                    .message_id
                    .and_then(|id| messages.iter().find(|m| m.id == id))
                    .map(|m| (*m).clone());
                Self { event, message }
            })
            .collect()
    }
}

/// Something live that is never stored or replayed.
#[derive(Clone, Debug)]
pub enum Ephemeral {
    /// `user_id` started (`true`) or stopped typing in a conversation.
    Typing {
        conversation_id: i64,
        user_id: i64,
        typing: bool,
    },
    /// `user_id` came online or went offline; for the people who share a
    /// conversation with them.
    Presence { user_id: i64, online: bool },
    /// Text appended to a message that is still streaming.
    Appended {
        conversation_id: i64,
        message_id: i64,
        text: String,
    },
    /// `user_id` has read a group up to `seq`: for the other members'
    /// live clients. Their own clients get the logged receipt, and anyone
    /// reconnecting reads the pointer from the member list.
    Read {
        conversation_id: i64,
        user_id: i64,
        seq: i64,
    },
}

impl EventBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// This instance's id among those sharing the database.
    pub fn origin(&self) -> u64 {
        self.origin
    }

    /// Attaches the link to other instances; later calls change nothing.
    pub(crate) fn attach_link(&self, link: mpsc::Sender<Wire>) {
        let _ = self.link.set(link);
    }

    /// True when other instances hear what this bus relays.
    pub fn is_linked(&self) -> bool {
        self.link.get().is_some()
    }

    /// Sends `wire` to the other instances, if linked. A full link drops
    /// it: everything relayed is live-only, and rosters heal themselves.
    fn relay(&self, wire: Wire) {
        if let Some(link) = self.link.get()
            && link.try_send(wire).is_err()
        {
            tracing::warn!("the link to other instances is full; a live event was dropped");
        }
    }

    /// Hands a logged event to every `events` stream, and a new message to
    /// its conversation's `messageAdded` subscribers; called by the
    /// sequencer, in id order, on every instance.
    pub(crate) fn deliver(&self, event: Arc<LoggedEvent>) {
        if event.event.kind == event::Kind::MessageAdded
            && let Some(message) = &event.message
        {
            self.publish_local(Event::MessageAdded(message.clone()));
        }
        // No receivers is fine: nobody is listening.
        let _ = self.log.send(event);
    }

    /// Hands what another instance sent to this instance's subscribers.
    pub(crate) fn receive(&self, origin: u64, wire: Wire) {
        match wire {
            Wire::Typing {
                conversation_id,
                user_id,
                typing,
            } => self.publish_ephemeral_local(Ephemeral::Typing {
                conversation_id,
                user_id,
                typing,
            }),
            Wire::Appended {
                conversation_id,
                message_id,
                text,
            } => self.publish_ephemeral_local(Ephemeral::Appended {
                conversation_id,
                message_id,
                text,
            }),
            Wire::Read {
                conversation_id,
                user_id,
                seq,
            } => self.publish_ephemeral_local(Ephemeral::Read {
                conversation_id,
                user_id,
                seq,
            }),
            Wire::Revoked(revoked) => {
                let _ = self.revoked.send(revoked);
            }
            Wire::Changed { conversation_id } => {
                self.publish_local(Event::ConversationChanged { conversation_id });
            }
            Wire::Roster(roster) => {
                let _ = self.roster.send(Arc::new((origin, roster)));
            }
        }
    }

    /// Tells the other instances about this one's online users.
    pub(crate) fn send_roster(&self, roster: Roster) {
        self.relay(Wire::Roster(roster));
    }

    /// Other instances' presence messages from now on.
    pub(crate) fn subscribe_roster(&self) -> broadcast::Receiver<Arc<(u64, Roster)>> {
        self.roster.subscribe()
    }

    /// Logged events from now on, in id order.
    pub fn subscribe_log(&self) -> broadcast::Receiver<Arc<LoggedEvent>> {
        self.log.subscribe()
    }

    /// Hands a live event to this instance's subscribers and relays typing,
    /// streamed text and group read receipts to the others. Presence is not relayed: each
    /// instance works out who is online from the rosters (`live::presence`).
    pub fn publish_ephemeral(&self, event: Ephemeral) {
        match &event {
            Ephemeral::Typing {
                conversation_id,
                user_id,
                typing,
            } => self.relay(Wire::Typing {
                conversation_id: *conversation_id,
                user_id: *user_id,
                typing: *typing,
            }),
            Ephemeral::Appended {
                conversation_id,
                message_id,
                text,
            } => self.relay(Wire::Appended {
                conversation_id: *conversation_id,
                message_id: *message_id,
                text: text.clone(),
            }),
            Ephemeral::Read {
                conversation_id,
                user_id,
                seq,
            } => self.relay(Wire::Read {
                conversation_id: *conversation_id,
                user_id: *user_id,
                seq: *seq,
            }),
            Ephemeral::Presence { .. } => {}
        }
        self.publish_ephemeral_local(event);
    }

    /// Hands a live event to this instance's subscribers only.
    pub(crate) fn publish_ephemeral_local(&self, event: Ephemeral) {
        let _ = self.ephemeral.send(Arc::new(event));
    }

    pub fn subscribe_ephemeral(&self) -> broadcast::Receiver<Arc<Ephemeral>> {
        self.ephemeral.subscribe()
    }

    /// Ends the sessions' sockets here and on every other instance.
    pub fn publish_revoked(&self, revoked: Revoked) {
        self.relay(Wire::Revoked(revoked));
        let _ = self.revoked.send(revoked);
    }

    /// Sessions ending from now on.
    pub fn subscribe_revoked(&self) -> broadcast::Receiver<Revoked> {
        self.revoked.subscribe()
    }

    fn topics(&self) -> std::sync::MutexGuard<'_, Topics> {
        // The map stays consistent even if a holder panicked: every update
        // is a single insert or remove.
        self.topics.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands `event` to the current subscribers of its topic, here and
    /// (for a conversation change) on the other instances. Call only after
    /// the change it describes has committed. New messages need no call:
    /// they reach their topic from the event log.
    pub fn publish(&self, event: Event) {
        if let Event::ConversationChanged { conversation_id } = event {
            self.relay(Wire::Changed { conversation_id });
        }
        self.publish_local(event);
    }

    /// True while someone here follows the topic.
    pub(crate) fn has_subscribers(&self, topic: Topic) -> bool {
        self.topics().contains_key(&topic)
    }

    fn publish_local(&self, event: Event) {
        let topic = event.topic();
        let mut topics = self.topics();
        if let Some(sender) = topics.get(&topic)
            && sender.send(Arc::new(event)).is_err()
        {
            topics.remove(&topic);
        }
    }

    pub fn subscribe(&self, topic: Topic) -> Subscription {
        let receiver = self
            .topics()
            .entry(topic)
            .or_insert_with(|| broadcast::channel(TOPIC_CAPACITY).0)
            .subscribe();
        Subscription {
            receiver: Some(receiver),
            topic,
            bus: self.clone(),
        }
    }

    /// Topics with live subscribers (for tests and metrics).
    pub fn topic_count(&self) -> usize {
        self.topics().len()
    }
}

/// What a subscriber gets next.
#[derive(Debug)]
pub enum Received {
    Event(Arc<Event>),
    /// The subscriber fell behind and events were dropped: re-read state
    /// from the database.
    Lagged(u64),
    /// The bus is gone (the app is shutting down).
    Closed,
}

/// One subscriber's receiver; removes the topic's channel when it is the
/// last to go.
pub struct Subscription {
    receiver: Option<broadcast::Receiver<Arc<Event>>>,
    topic: Topic,
    bus: EventBus,
}

impl Subscription {
    pub async fn recv(&mut self) -> Received {
        let Some(receiver) = self.receiver.as_mut() else {
            return Received::Closed;
        };
        match receiver.recv().await {
            Ok(event) => Received::Event(event),
            Err(RecvError::Lagged(n)) => Received::Lagged(n),
            Err(RecvError::Closed) => Received::Closed,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        drop(self.receiver.take());
        let mut topics = self.bus.topics();
        if topics
            .get(&self.topic)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            topics.remove(&self.topic);
        }
    }
}

/// Sessions that just ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Revoked {
    /// One session.
    Session { user_id: i64, session_id: i64 },
    /// Every session of a user, but `except` (the one that asked).
    UserSessions { user_id: i64, except: Option<i64> },
}

impl Revoked {
    /// True when a viewer signed in with this session can no longer act.
    /// Viewers without a session row (host-app JWTs) end only by expiry.
    pub fn ends(&self, viewer: &Viewer) -> bool {
        let Some(session_id) = viewer.session() else {
            return false;
        };
        match *self {
            Revoked::Session {
                session_id: ended, ..
            } => ended == session_id,
            Revoked::UserSessions { user_id, except } => {
                user_id == viewer.user_id && except != Some(session_id)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_a_revocation_ends() {
        let viewer = Viewer {
            user_id: 7,
            session_id: 70,
        };
        let jwt_viewer = Viewer {
            user_id: 7,
            session_id: Viewer::NO_SESSION,
        };
        let one = Revoked::Session {
            user_id: 7,
            session_id: 70,
        };
        assert!(one.ends(&viewer));
        assert!(
            !Revoked::Session {
                user_id: 7,
                session_id: 71
            }
            .ends(&viewer)
        );
        let others = Revoked::UserSessions {
            user_id: 7,
            except: Some(71),
        };
        assert!(others.ends(&viewer));
        assert!(
            !Revoked::UserSessions {
                user_id: 7,
                except: Some(70)
            }
            .ends(&viewer)
        );
        assert!(
            !Revoked::UserSessions {
                user_id: 8,
                except: None
            }
            .ends(&viewer)
        );
        assert!(!others.ends(&jwt_viewer));
    }
}
