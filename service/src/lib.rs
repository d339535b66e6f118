//! Parley's chat operations and every rule that protects data.
//!
//! [`Service`] holds the database connection, the event bus and the settings;
//! each module adds the operations of one domain to it. Nothing here knows
//! about GraphQL or HTTP: callers get domain models and a typed [`Error`].
//!
//! # Layout
//!
//! ```text
//! lib.rs          Service, Settings, Viewer, Actor: the handle every operation hangs off
//! error.rs        the one error type, mapped to `extensions.code` in the API only
//! validate.rs     the form and limit of every input value, with `limit!` for the docs
//! page.rs         cursor pagination: the window asked for, the page returned
//! db.rs           connecting, migrating, the SQLite write lock, LIKE escaping
//! time.rs         timestamps as the database stores them
//! accounts/       sign-up and sign-in, passwords, profiles, users, sessions,
//!                 last seen, host-app JWTs, external ids and the admin key,
//!                 privacy.rs (presence and search), export.rs, deletion.rs
//!                 blocks.rs (the blocking rule), audit.rs (admin reads, log)
//! conversations/  access.rs (who may do what, and its table), open.rs,
//!                 inbox.rs, unread.rs, members.rs, settings.rs, lifecycle.rs,
//!                 timeline.rs (seqs and system messages), titles.rs, bans.rs
//! messages/       send.rs, send_lanes.rs (group commit), send_batch.rs, history.rs,
//!                 content.rs, edit.rs, reactions.rs, threads.rs, streaming.rs,
//!                 import.rs, reports.rs, search/
//! events/         bus.rs (in-process pub/sub), log.rs (the durable event
//!                 log), stream.rs (the `events` subscription), cluster.rs
//!                 (LISTEN/NOTIFY between instances on PostgreSQL)
//! live/           typing.rs, presence.rs, delivery.rs (receipts)
//! webhooks/       endpoints.rs (the host app's), worker.rs (leases and
//!                 delivery tasks), outbound.rs (HTTP, SSRF, signing),
//!                 payload.rs, kinds.rs, offline.rs, settings.rs
//! ```
//!
//! Callers name the domain (`service::conversations::CreateGroup`), not
//! the file: each folder's `mod.rs` re-exports what it offers. Helpers many
//! operations share sit in leaf files that import none of their siblings
//! (`validate.rs`, `conversations/access.rs`, `conversations/timeline.rs`).

// Unit tests may unwrap; the code they test may not.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

/// Who people are and how they sign in.
pub mod accounts;
/// Conversations, members, read state, settings and their life.
pub mod conversations;
/// The database connection, migrations and the write lock.
pub mod db;
/// The typed error every operation returns.
pub mod error;
/// The durable event log, the bus, and the `events` stream.
pub mod events;
/// Typing, presence and delivery receipts.
pub mod live;
/// Messages: sending, history, content, edits, reactions, search.
pub mod messages;
/// Cursor pagination.
pub mod page;
/// Timestamps.
mod time;
/// The form and limit of every input value.
pub mod validate;
/// Webhook endpoints and their deliveries.
pub mod webhooks;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use sea_orm::DatabaseConnection;

pub use accounts::{AdminKey, JwtVerifier};
pub use entity;
pub use error::{Error, Result};
pub use events::{Event, EventBus};

/// Send lanes on PostgreSQL (see [`messages::Lanes`]): enough to keep a few
/// commits in flight, far fewer than the pool's connections.
const POSTGRES_SEND_LANES: usize = 4;

/// Knobs the operator sets; everything else is fixed by the service.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How long a session token stays valid after it is issued.
    pub token_ttl: Duration,
    /// Most members a group may have, its owner included.
    pub max_group_members: usize,
    /// How long a deleted conversation can be restored before it is purged.
    pub delete_retention: Duration,
    /// How long the event log keeps events for replay.
    pub event_retention: Duration,
    /// How host-app JWTs are verified; `None` turns JWT sign-in off.
    pub jwt: Option<JwtVerifier>,
    /// The key that makes a request the host app's; `None` turns the
    /// host-app operations off.
    pub admin_key: Option<AdminKey>,
    /// How long a typing state lasts without a renewal.
    pub typing_timeout: Duration,
    /// How often coalesced delivery receipts are written (each member and
    /// conversation at most once per interval).
    pub delivery_flush: Duration,
    /// How long a session found valid is trusted without a lookup (ended
    /// sessions are dropped at once; see `accounts::session_cache`). Zero
    /// looks every request up.
    pub session_cache: Duration,
    /// Attempts allowed at login, password change and registration.
    pub rate_limits: accounts::RateLimits,
    /// Password hashes computed at once; each holds ~19 MiB.
    pub max_concurrent_hashes: usize,
    /// How long an instance sharing the database may go unheard before
    /// its users count as offline (it sends a heartbeat every third of
    /// this).
    pub presence_expiry: Duration,
    /// Who sees a person's `online` and `lastSeenAt`, and their presence
    /// events.
    pub presence_visibility: accounts::Audience,
    /// Whom `users(search)` finds besides exact usernames.
    pub user_search: accounts::Audience,
    /// What becomes of a deleted account's messages.
    pub deleted_account_messages: accounts::DeletedMessages,
    /// How long a streaming message may get no text before it is finished
    /// with what was stored.
    pub streaming_timeout: Duration,
    /// Most users one person may block.
    pub max_blocks: usize,
    /// Longest reason of a report, a ban or a report's resolution, in
    /// characters.
    pub max_reason: usize,
    /// Webhook deliveries: address rules, time limits, retries.
    pub webhooks: webhooks::WebhookSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            token_ttl: Duration::from_secs(30 * 24 * 3600),
            max_group_members: 1000,
            delete_retention: Duration::from_secs(30 * 24 * 3600),
            event_retention: Duration::from_secs(7 * 24 * 3600),
            jwt: None,
            admin_key: None,
            typing_timeout: Duration::from_secs(6),
            delivery_flush: Duration::from_secs(1),
            session_cache: Duration::from_secs(10),
            rate_limits: accounts::RateLimits::default(),
            max_concurrent_hashes: 2,
            presence_expiry: Duration::from_secs(15),
            presence_visibility: accounts::Audience::Contacts,
            user_search: accounts::Audience::Contacts,
            deleted_account_messages: accounts::DeletedMessages::Tombstone,
            streaming_timeout: Duration::from_secs(120),
            max_blocks: 1000,
            max_reason: 1000,
            webhooks: webhooks::WebhookSettings::default(),
        }
    }
}

/// A setting the operator gave that cannot work: the server refuses to
/// start rather than fail on every request.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

/// The signed-in user a request acts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: i64,
    /// The session row the request's token stands for, or
    /// [`Viewer::NO_SESSION`].
    pub session_id: i64,
}

impl Viewer {
    /// The `session_id` of viewers without a session row: users signed in
    /// by a host-app JWT (the token itself is the credential, re-verified on
    /// every request) and bots the host app sends as. Row ids start at 1.
    pub const NO_SESSION: i64 = 0;

    /// The viewer's session row, if it has one.
    pub fn session(&self) -> Option<i64> {
        (self.session_id != Self::NO_SESSION).then_some(self.session_id)
    }
}

/// Who performs an operation: a signed-in user, or the host app itself
/// (a request with the server's admin key). The host app manages users,
/// bots and members on its users' behalf, but is never a person: it cannot
/// read conversations or act as a user who is not a bot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    User(Viewer),
    HostApp,
}

impl Actor {
    /// The acting user, if a user acts.
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Actor::User(viewer) => Some(viewer.user_id),
            Actor::HostApp => None,
        }
    }
}

/// The chat service: cheap to clone, one per running app.
#[derive(Clone)]
pub struct Service {
    db: DatabaseConnection,
    bus: EventBus,
    settings: Arc<Settings>,
    passwords: accounts::Hasher,
    statements: Arc<AtomicU64>,
    write_lock: db::WriteLock,
    lanes: messages::Lanes,
    log: events::EventLog,
    /// The link to other instances on the same PostgreSQL; none on SQLite.
    cluster: Option<events::Cluster>,
    streams: messages::Streams,
    typing: live::Typing,
    presence: live::Presence,
    deliveries: live::Deliveries,
    limiters: accounts::Limiters,
    sessions: accounts::SessionCache,
    blocks: accounts::BlockCache,
    webhooks: webhooks::Hub,
}

impl Service {
    /// Must be called inside a Tokio runtime: it starts the send lanes, the
    /// event sequencer, the typing timer, the delivery flusher and the
    /// streaming sweeper, and on
    /// PostgreSQL the listener and sender that link it with other
    /// instances on the same database.
    pub fn new(mut db: DatabaseConnection, bus: EventBus, settings: Settings) -> Self {
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let write_lock = db::WriteLock::for_connection(&db);
        // SQLite has one writer; PostgreSQL commits lanes in parallel.
        let lane_count = match db.get_database_backend() {
            sea_orm::DbBackend::Sqlite => 1,
            _ => POSTGRES_SEND_LANES,
        };
        let log = events::EventLog::start(&db, &bus);
        let cluster = match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                Some(events::Cluster::start(&db, &bus, log.wakeups().clone()))
            }
            _ => None,
        };
        let (deliveries, ended) = live::Deliveries::new();
        let (streams, streams_ended) = messages::Streams::new();
        let presence = live::Presence::start(&bus, settings.presence_expiry);
        let hub = webhooks::Hub::new(&settings.webhooks, bus.origin());
        let probe = webhooks::OfflineProbe::new(presence.clone(), hub.wanted());
        hub.start(db.clone(), write_lock.clone(), bus.clone(), probe.clone());
        let service = Self {
            lanes: messages::Lanes::start(lane_count, &db, &bus, &log, &write_lock, probe),
            log,
            cluster,
            streams,
            write_lock,
            typing: live::Typing::start(&bus, settings.typing_timeout),
            presence,
            webhooks: hub,
            deliveries,
            limiters: accounts::Limiters::start(&settings.rate_limits),
            sessions: accounts::SessionCache::start(settings.session_cache, &bus),
            blocks: accounts::BlockCache::default(),
            passwords: accounts::Hasher::new(settings.max_concurrent_hashes),
            db,
            bus,
            settings: Arc::new(settings),
            statements,
        };
        service.spawn_flusher(ended);
        service.spawn_stream_sweeper(streams_ended);
        service
    }

    /// Password verifications (argon2) run so far: every login attempt,
    /// for a known user or not, costs exactly one.
    pub fn password_verifications(&self) -> u64 {
        self.passwords.verifications()
    }

    /// How often this instance's event listener lost its connection to
    /// PostgreSQL and re-established it (0 on SQLite).
    pub fn listener_reconnects(&self) -> u64 {
        self.cluster.as_ref().map_or(0, events::Cluster::reconnects)
    }

    /// SQL statements run so far by this service: a cheap counter for
    /// tests and benchmarks that check the cost of an operation.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Starts a write transaction: every change goes through one, so that
    /// SQLite writers queue instead of colliding.
    pub(crate) async fn write(&self) -> Result<db::WriteTx> {
        Ok(self.write_lock.begin(&self.db).await?)
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// Records `events` as the transaction's last statement, commits, and
    /// hands them on for delivery. Every change that others may see ends
    /// with this.
    pub(crate) async fn commit_logged(
        &self,
        txn: db::WriteTx,
        events: Vec<events::NewEvent>,
    ) -> Result<Vec<entity::event::Model>> {
        self.commit_logged_with(txn, events, &[]).await
    }

    /// [`Self::commit_logged`], handing the new `messages` the events are
    /// about along, so that streams need not read them back.
    pub(crate) async fn commit_logged_with(
        &self,
        txn: db::WriteTx,
        events: Vec<events::NewEvent>,
        messages: &[&entity::message::Model],
    ) -> Result<Vec<entity::event::Model>> {
        let logged = events::record(&*txn, events, self.bus.origin()).await?;
        txn.commit().await?;
        self.log
            .publish(events::LoggedEvent::attach(logged.clone(), messages));
        Ok(logged)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}
