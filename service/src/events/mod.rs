//! Events: the durable, ordered log of every change others may see, the
//! in-process bus that carries it and ephemeral events, and the `events`
//! stream that replays and follows it.

/// In-process pub/sub, owned by the running app.
mod bus;
/// Several instances on one PostgreSQL: `LISTEN`/`NOTIFY` between them.
mod cluster;
/// The durable event log: recording, sequencing, pruning.
mod log;
/// The `events` stream: replay from a cursor, then live.
mod stream;

pub use bus::{
    Ephemeral, Event, EventBus, LoggedEvent, Received, Revoked, Roster, Subscription, Topic, Wire,
};
pub(crate) use cluster::Cluster;
pub use log::NewEvent;
pub(crate) use log::{EventLog, READ_BATCH, high_water, record};
pub use stream::Followed;
