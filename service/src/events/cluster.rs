//! Several instances on one PostgreSQL: how they hear one another.
//!
//! Two `LISTEN` channels, one connection per instance (its own, outside
//! the pool, so a busy pool never delays it):
//!
//! - `parley_events`: every transaction that writes events notifies
//!   `<instance> <last id>` (see `events::log`), delivered at commit, in
//!   commit order. Another instance's notification wakes the sequencer,
//!   which reads the new rows (that is how `events`, `conversationEvents`
//!   and `messageAdded` cross instances: always from the durable log).
//! - `parley_bus`: what is live only ([`Wire`]: typing, streamed text,
//!   revocations, conversation checks, presence rosters), sent by one task
//!   per instance in the order it was published, batched, as
//!   `<instance> <batch> <part> <parts> <JSON>`. A batch longer than a
//!   payload may be (PostgreSQL's limit is 8,000 bytes) is cut into parts
//!   at character boundaries and put back together by the receivers; one
//!   sender per instance sends them one after the other, so the parts of a
//!   batch arrive together and in order. Each instance skips its own.
//!
//! When the listening connection drops, the listener reconnects (sqlx
//! re-issues the `LISTEN`s), counts and logs it, reads the log once for
//! whatever it missed, and asks the others for presence snapshots. While
//! it cannot reconnect, the sequencer polls the log every 500 ms. Live
//! messages sent meanwhile are lost, as live messages may be.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use sea_orm::{
    DatabaseConnection,
    sqlx::{
        PgPool,
        postgres::{PgListener, PgNotification, PgPoolOptions},
    },
};
use tokio::sync::{mpsc, watch};

use crate::events::{
    EventBus, Roster, Wire,
    log::{EVENTS_CHANNEL, Wakeups},
};

/// The channel live messages travel on.
const BUS_CHANNEL: &str = "parley_bus";
/// Bytes of JSON per notification: PostgreSQL refuses payloads of 8,000
/// bytes or more, and the header takes up to about 60.
const PART_BYTES: usize = 7_800;
/// Messages put in one batch at most.
const BATCH: usize = 256;
/// Live messages waiting to be sent before new ones are dropped.
const OUTBOX: usize = 16_384;
/// Wait between attempts to connect the listener.
const RECONNECT_DELAY: Duration = Duration::from_millis(500);

/// The listener and the sender of one instance; they stop when the last
/// clone of this is dropped (with the service).
#[derive(Clone)]
pub(crate) struct Cluster {
    reconnects: Arc<AtomicU64>,
    _stop: Arc<watch::Sender<()>>,
}

impl Cluster {
    /// Attaches a link to the bus and starts listening. Must be called
    /// inside a Tokio runtime, with a PostgreSQL connection.
    pub fn start(db: &DatabaseConnection, bus: &EventBus, wakeups: Arc<Wakeups>) -> Self {
        let pool = db.get_postgres_connection_pool().clone();
        // One connection of its own, never closed for idleness.
        let listen_pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with((*pool.connect_options()).clone());
        let (outbox, queued) = mpsc::channel(OUTBOX);
        bus.attach_link(outbox);
        let (stop, stopped) = watch::channel(());
        let reconnects = Arc::new(AtomicU64::new(0));
        let listener = Listener {
            pool: listen_pool,
            bus: bus.clone(),
            wakeups,
            reconnects: reconnects.clone(),
            parts: HashMap::new(),
        };
        let mut stopped_too = stopped.clone();
        let mut stopped = stopped;
        tokio::spawn(async move {
            tokio::select! {
                () = listener.run() => {}
                _ = stopped.changed() => {}
            }
        });
        let origin = bus.origin();
        tokio::spawn(async move {
            tokio::select! {
                () = send(pool, origin, queued) => {}
                _ = stopped_too.changed() => {}
            }
        });
        Self {
            reconnects,
            _stop: Arc::new(stop),
        }
    }

    /// How often the listening connection was lost (and re-established).
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }
}

/// Sends what the bus relays, in order, batched while messages queue up.
async fn send(pool: PgPool, origin: u64, mut queued: mpsc::Receiver<Wire>) {
    let mut batch_no: u64 = 0;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = queued.recv().await {
        batch.clear();
        batch.push(first);
        while batch.len() < BATCH {
            match queued.try_recv() {
                Ok(wire) => batch.push(wire),
                Err(_) => break,
            }
        }
        let json = match serde_json::to_string(&batch) {
            Ok(json) => json,
            Err(err) => {
                tracing::error!(error = %err, "could not encode live messages for other instances");
                continue;
            }
        };
        batch_no += 1;
        for payload in packets(origin, batch_no, &json) {
            let sent = sea_orm::sqlx::query("SELECT pg_notify($1, $2)")
                .bind(BUS_CHANNEL)
                .bind(&payload)
                .execute(&pool)
                .await;
            if let Err(err) = sent {
                tracing::warn!(error = %err, "could not tell other instances; live messages dropped");
                break;
            }
        }
    }
}

/// `json` as notification payloads: `<origin> <batch> <part> <parts> <text>`.
fn packets(origin: u64, batch: u64, json: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = json;
    while !rest.is_empty() {
        let mut end = rest.len().min(PART_BYTES);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        pieces.push(&rest[..end]);
        rest = &rest[end..];
    }
    let parts = pieces.len();
    pieces
        .into_iter()
        .enumerate()
        .map(|(part, text)| format!("{origin:x} {batch} {part} {parts} {text}"))
        .collect()
}

/// A batch being put back together: its number and the parts so far.
type Partial = (u64, Vec<String>);

struct Listener {
    pool: PgPool,
    bus: EventBus,
    wakeups: Arc<Wakeups>,
    reconnects: Arc<AtomicU64>,
    /// Per sending instance, the batch whose parts are arriving.
    parts: HashMap<u64, Partial>,
}

impl Listener {
    async fn run(mut self) {
        let mut first = true;
        loop {
            match self.listen().await {
                Ok(mut listener) => {
                    if !first {
                        self.reconnected("reconnected");
                    }
                    first = false;
                    self.wakeups.set_listening(true);
                    // Whoever started before us: tell us who is online.
                    self.bus.send_roster(Roster::Hello { to: None });
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(notification)) => self.handle(&notification),
                            // Lost, and already listening again (sqlx
                            // reconnects before it says so).
                            Ok(None) => {
                                self.reconnected("lost and re-established");
                                self.wakeups.set_listening(true);
                                self.bus.send_roster(Roster::Hello { to: None });
                            }
                            Err(err) => {
                                tracing::warn!(error = %err, "event listener: connection lost; polling the event log until it is back");
                                self.wakeups.set_listening(false);
                                break;
                            }
                        }
                    }
                }
                Err(err) => {
                    if first {
                        tracing::warn!(error = %err, "event listener: cannot listen yet; polling the event log meanwhile");
                        first = false;
                    }
                }
            }
            tokio::time::sleep(RECONNECT_DELAY).await;
        }
    }

    fn reconnected(&self, how: &str) {
        let count = self.reconnects.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(
            reconnects = count,
            "event listener: connection {how}; reading what was missed"
        );
    }

    async fn listen(&self) -> Result<PgListener, sea_orm::sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.ignore_pool_close_event(true);
        listener.listen_all([EVENTS_CHANNEL, BUS_CHANNEL]).await?;
        Ok(listener)
    }

    fn handle(&mut self, notification: &PgNotification) {
        let payload = notification.payload();
        let own = format!("{:x}", self.bus.origin());
        if notification.channel() == EVENTS_CHANNEL {
            let Some((origin, last)) = payload.split_once(' ') else {
                return;
            };
            match origin == own {
                true => {
                    if let Ok(last) = last.parse() {
                        self.wakeups.own(last);
                    }
                }
                false => self.wakeups.foreign(),
            }
            return;
        }
        let mut fields = payload.splitn(5, ' ');
        let (Some(origin), Some(batch), Some(part), Some(parts), Some(text)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return;
        };
        if origin == own {
            return;
        }
        let (Ok(origin), Ok(batch), Ok(part), Ok(parts)) = (
            u64::from_str_radix(origin, 16),
            batch.parse::<u64>(),
            part.parse::<usize>(),
            parts.parse::<usize>(),
        ) else {
            return;
        };
        let json = if parts == 1 {
            text.to_owned()
        } else {
            let entry = self.parts.entry(origin).or_insert((batch, Vec::new()));
            if entry.0 != batch || part == 0 {
                *entry = (batch, Vec::new());
            }
            if entry.1.len() != part {
                // A part went missing (the listener reconnected): drop it.
                self.parts.remove(&origin);
                return;
            }
            entry.1.push(text.to_owned());
            if part + 1 < parts {
                return;
            }
            let whole = entry.1.concat();
            self.parts.remove(&origin);
            whole
        };
        match serde_json::from_str::<Vec<Wire>>(&json) {
            Ok(batch) => {
                for wire in batch {
                    self.bus.receive(origin, wire);
                }
            }
            Err(err) => tracing::warn!(error = %err, "event listener: unreadable live message"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_batches_are_cut_at_character_boundaries_and_fit_a_payload() {
        let json = "ü".repeat(10_000);
        let packets = packets(0xab, 7, &json);
        assert_eq!(packets.len(), 3);
        let mut whole = String::new();
        for (i, packet) in packets.iter().enumerate() {
            assert!(packet.len() < 8_000);
            let prefix = format!("ab 7 {i} 3 ");
            assert!(packet.starts_with(&prefix));
            whole.push_str(&packet[prefix.len()..]);
        }
        assert_eq!(whole, json);
    }
}
