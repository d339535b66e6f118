//! The durable event log and the order it is delivered in.
//!
//! A change writes its events with [`record`] inside its own transaction,
//! as the last statement before the commit, and hands them to [`EventLog::
//! publish`] once committed. `record` takes ids from the single `event_log`
//! row, whose row lock (PostgreSQL) or write lock (SQLite) is held until
//! commit: ids therefore commit in order and without gaps. A stream that
//! has delivered id n has seen every earlier event that still exists, so
//! replaying "everything after n" from the table is exact.
//!
//! Publishing after commit can still come out of order (two send lanes
//! commit one after the other and race to publish), so one task per app,
//! the sequencer, puts events back in id order before they reach the bus.
//! A gap it cannot fill from what was published (an event written by
//! another instance, or one whose publisher was slow) is read from the
//! table.
//!
//! Other instances' events: on PostgreSQL, the statement that takes the
//! ids also calls `pg_notify` with the writer's instance and its last id,
//! so every listening instance hears of the commit when it happens, in
//! commit order (`events::cluster` listens). A notification from another
//! instance makes the sequencer read the new rows at once; one of its own
//! only says that the id is committed, and starts the gap timer in case
//! the publish never comes (its request was cancelled after the commit).
//! While the listener is down (and on SQLite, which has one instance) the
//! sequencer reads on a timer, every [`POLL`], instead.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
    time::Duration,
};

use entity::{
    event::{self, Kind},
    event_log, message,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Statement,
    sea_query::{Expr, ExprTrait},
};
use tokio::{
    sync::{Notify, mpsc},
    time::{Instant, sleep_until},
};

use crate::{
    error::{Internal, Result},
    events::{EventBus, LoggedEvent, Topic},
    time::now,
};

/// The PostgreSQL channel that says "events up to this id are committed":
/// `<instance> <last id>`.
pub(crate) const EVENTS_CHANNEL: &str = "parley_events";

/// Takes `count` ids and notifies the listeners, in one statement: the
/// notification goes out when the transaction commits, and PostgreSQL
/// delivers notifications in commit order.
const TAKE_IDS_AND_NOTIFY: &str = "WITH taken AS (UPDATE event_log SET last_id = last_id + $1 \
    WHERE id = 1 RETURNING last_id) \
    SELECT last_id, pg_notify('parley_events', $2 || ' ' || last_id)::text AS notified FROM taken";

/// How long the sequencer waits for a missing id to be published before it
/// reads it from the table.
const GAP_WAIT: Duration = Duration::from_millis(50);
/// How often the sequencer looks for events other instances wrote.
const POLL: Duration = Duration::from_millis(500);
/// Committed batches waiting for the sequencer. A full queue drops the
/// batch: the sequencer finds it in the table as a gap.
const QUEUE: usize = 4096;
/// Rows read per query when filling a gap or replaying.
pub(crate) const READ_BATCH: u64 = 500;

/// An event to write, inside the transaction of the change it describes.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub conversation_id: i64,
    pub kind: Kind,
    pub message_id: Option<i64>,
    pub user_id: Option<i64>,
    pub only_user_id: Option<i64>,
    pub data: Option<serde_json::Value>,
}

impl NewEvent {
    pub fn new(conversation_id: i64, kind: Kind) -> Self {
        Self {
            conversation_id,
            kind,
            message_id: None,
            user_id: None,
            only_user_id: None,
            data: None,
        }
    }

    pub fn message(mut self, id: i64) -> Self {
        self.message_id = Some(id);
        self
    }

    pub fn user(mut self, id: i64) -> Self {
        self.user_id = Some(id);
        self
    }

    /// Only this user may see it (their own archive or mute).
    pub fn only_for(mut self, id: i64) -> Self {
        self.only_user_id = Some(id);
        self
    }

    pub fn data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }
}

/// Writes `events` with the next ids. Call it last in the transaction: the
/// id counter stays locked until commit, and every other writer of events
/// waits for it. On PostgreSQL the commit also notifies every instance
/// (`origin` is the writer's, from [`EventBus::origin`]).
pub(crate) async fn record<C: ConnectionTrait>(
    db: &C,
    events: Vec<NewEvent>,
    origin: u64,
) -> Result<Vec<event::Model>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let count = events.len() as i64;
    let last = match db.get_database_backend() {
        DbBackend::Postgres => {
            let row = db
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    TAKE_IDS_AND_NOTIFY,
                    [count.into(), format!("{origin:x}").into()],
                ))
                .await?
                .ok_or(Internal::NoEventLog)?;
            row.try_get::<i64>("", "last_id")?
        }
        _ => event_log::Entity::update_many()
            .col_expr(
                event_log::Column::LastId,
                Expr::col(event_log::Column::LastId).add(count),
            )
            .filter(event_log::Column::Id.eq(1))
            .exec_with_returning(db)
            .await?
            .first()
            .map(|row| row.last_id)
            .ok_or(Internal::NoEventLog)?,
    };
    let at = now();
    let models: Vec<event::Model> = events
        .into_iter()
        .zip(last - count + 1..)
        .map(|(e, id)| event::Model {
            id,
            conversation_id: e.conversation_id,
            kind: e.kind,
            message_id: e.message_id,
            user_id: e.user_id,
            only_user_id: e.only_user_id,
            data: e.data.map(|d| d.to_string()),
            created_at: at,
        })
        .collect();
    event::Entity::insert_many(
        models
            .iter()
            .cloned()
            .map(IntoActiveModel::into_active_model),
    )
    .exec_without_returning(db)
    .await?;
    Ok(models)
}

/// The last id handed out (committed) and how far the log is pruned.
pub(crate) async fn high_water<C: ConnectionTrait>(db: &C) -> Result<event_log::Model> {
    Ok(event_log::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or(Internal::NoEventLog)?)
}

impl crate::Service {
    /// Removes events older than the retention period and records how far
    /// the log now reaches back; returns how many went. Replay from an
    /// older cursor then says the cursor expired.
    pub async fn prune_events(&self) -> Result<u64> {
        let retention = chrono::Duration::from_std(self.settings().event_retention)
            .unwrap_or(chrono::Duration::MAX);
        let cutoff = now()
            .checked_sub_signed(retention)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        // Ids follow commit order, not creation time exactly: prune by the
        // newest id old enough, so the kept part has no holes.
        let newest_old: Option<i64> = event::Entity::find()
            .select_only()
            .column(event::Column::Id)
            .filter(event::Column::CreatedAt.lt(cutoff))
            .order_by_desc(event::Column::Id)
            .limit(1)
            .into_tuple()
            .one(self.db())
            .await?;
        let Some(through) = newest_old else {
            return Ok(0);
        };
        let txn = self.write().await?;
        event_log::Entity::update_many()
            .col_expr(event_log::Column::PrunedThrough, Expr::value(through))
            .filter(event_log::Column::Id.eq(1))
            .filter(event_log::Column::PrunedThrough.lt(through))
            .exec(&*txn)
            .await?;
        let gone = event::Entity::delete_many()
            .filter(event::Column::Id.lte(through))
            .exec(&*txn)
            .await?;
        txn.commit().await?;
        Ok(gone.rows_affected)
    }
}

/// Events with ids in `(after, through]`, oldest first, at most
/// [`READ_BATCH`].
async fn read_range<C: ConnectionTrait>(
    db: &C,
    after: i64,
    through: i64,
) -> Result<Vec<event::Model>> {
    Ok(event::Entity::find()
        .filter(event::Column::Id.gt(after))
        .filter(event::Column::Id.lte(through))
        .order_by_asc(event::Column::Id)
        .limit(READ_BATCH)
        .all(db)
        .await?)
}

/// What the listener tells the sequencer: another instance committed
/// events, or this one did up to an id; and whether it listens at all.
#[derive(Default)]
pub(crate) struct Wakeups {
    notify: Notify,
    /// Another instance committed events not read yet.
    foreign: AtomicBool,
    /// The highest id this instance was notified of for its own commits.
    own_through: AtomicI64,
    /// The listener is connected and listening: no need to poll.
    listening: AtomicBool,
}

impl Wakeups {
    /// Another instance committed events.
    pub fn foreign(&self) {
        self.foreign.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    /// This instance committed events up to `id`.
    pub fn own(&self, id: i64) {
        self.own_through.fetch_max(id, Ordering::AcqRel);
        self.notify.notify_one();
    }

    /// The listener (re)connected or lost its connection. A reconnect also
    /// reads once, for whatever was committed while it was away.
    pub fn set_listening(&self, listening: bool) {
        self.listening.store(listening, Ordering::Release);
        if listening {
            self.foreign();
        }
    }
}

/// Where committed events go to be put in order; owned by the service.
#[derive(Clone)]
pub(crate) struct EventLog {
    queue: mpsc::Sender<Vec<LoggedEvent>>,
    wakeups: Arc<Wakeups>,
}

impl EventLog {
    /// Starts the sequencer, which ends when the last clone of this is
    /// dropped. Must be called inside a Tokio runtime.
    pub fn start(db: &DatabaseConnection, bus: &EventBus) -> Self {
        let (queue, committed) = mpsc::channel(QUEUE);
        let wakeups = Arc::new(Wakeups::default());
        let sequencer = Sequencer {
            db: db.clone(),
            bus: bus.clone(),
            wakeups: wakeups.clone(),
            next: None,
            pending: BTreeMap::new(),
            gap_since: None,
        };
        tokio::spawn(sequencer.run(committed));
        Self { queue, wakeups }
    }

    /// What the listener uses to wake the sequencer.
    pub fn wakeups(&self) -> &Arc<Wakeups> {
        &self.wakeups
    }

    /// Hands committed events on for delivery.
    pub fn publish(&self, events: Vec<LoggedEvent>) {
        if events.is_empty() {
            return;
        }
        // A full queue or a stopped sequencer loses nothing: the events
        // are in the table, and the sequencer reads them from there.
        if self.queue.try_send(events).is_err() {
            self.wakeups.foreign();
        }
    }
}

struct Sequencer {
    db: DatabaseConnection,
    bus: EventBus,
    wakeups: Arc<Wakeups>,
    /// The id to deliver next; unknown until the table is first read.
    next: Option<i64>,
    pending: BTreeMap<i64, LoggedEvent>,
    gap_since: Option<Instant>,
}

impl Sequencer {
    async fn run(mut self, mut committed: mpsc::Receiver<Vec<LoggedEvent>>) {
        if let Err(err) = self.catch_up().await {
            tracing::warn!(error = %err, "event log: first read failed; retrying on the timer");
        }
        let mut poll = tokio::time::interval(POLL);
        loop {
            let deadline = self.gap_since.map(|since| since + GAP_WAIT);
            tokio::select! {
                batch = committed.recv() => {
                    let Some(batch) = batch else { break };
                    for logged in batch {
                        let id = logged.event.id;
                        if self.next.is_none_or(|next| id >= next) {
                            self.pending.insert(id, logged);
                        }
                    }
                    self.deliver_ready();
                }
                () = self.wakeups.notify.notified() => {
                    if self.wakeups.foreign.swap(false, Ordering::AcqRel)
                        && let Err(err) = self.catch_up().await
                    {
                        tracing::warn!(error = %err, "event log: reading other instances' events failed");
                    }
                    // Our own commit: it should be published any moment;
                    // if not within the gap wait, it is read.
                    let own = self.wakeups.own_through.load(Ordering::Acquire);
                    if self.next.is_some_and(|next| next <= own) && self.gap_since.is_none() {
                        self.gap_since = Some(Instant::now());
                    }
                }
                _ = poll.tick() => {
                    if self.wakeups.listening.load(Ordering::Acquire) {
                        continue;
                    }
                    if let Err(err) = self.catch_up().await {
                        tracing::warn!(error = %err, "event log: reading new events failed");
                    }
                }
                _ = sleep_until(deadline.unwrap_or_else(|| Instant::now() + POLL)), if deadline.is_some() => {
                    if let Err(err) = self.catch_up().await {
                        tracing::warn!(error = %err, "event log: filling a gap failed");
                    }
                }
            }
        }
    }

    /// Delivers the pending events that follow on from `next`.
    fn deliver_ready(&mut self) {
        let Some(mut next) = self.next else { return };
        while let Some(event) = self.pending.remove(&next) {
            self.bus.deliver(Arc::new(event));
            next += 1;
        }
        self.next = Some(next);
        let own_missing = next <= self.wakeups.own_through.load(Ordering::Acquire);
        self.gap_since = match self.pending.is_empty() && !own_missing {
            true => None,
            false => self.gap_since.or_else(|| Some(Instant::now())),
        };
    }

    /// The new messages among `rows` that someone here follows with
    /// `messageAdded`, read in one statement: events read from the table
    /// (other instances', or gaps) come without them.
    async fn messages_for(&self, rows: &[event::Model]) -> Result<Vec<message::Model>> {
        let ids: Vec<i64> = rows
            .iter()
            .filter(|e| e.kind == Kind::MessageAdded)
            .filter(|e| {
                self.bus
                    .has_subscribers(Topic::Conversation(e.conversation_id))
            })
            .filter_map(|e| e.message_id)
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(message::Entity::find()
            .filter(message::Column::Id.is_in(ids))
            .all(&self.db)
            .await?)
    }

    /// Reads every committed event from `next` on from the table and
    /// delivers it; ids missing there were removed with their
    /// conversation. The first call only learns where the log stands.
    async fn catch_up(&mut self) -> Result<()> {
        let through = high_water(&self.db).await?.last_id;
        let Some(mut next) = self.next else {
            self.next = Some(through + 1);
            self.pending.retain(|id, _| *id > through);
            self.deliver_ready();
            return Ok(());
        };
        while next <= through {
            let rows = read_range(&self.db, next - 1, through).await?;
            let Some(last) = rows.last().map(|e| e.id) else {
                break;
            };
            let messages = self.messages_for(&rows).await?;
            let messages: Vec<&message::Model> = messages.iter().collect();
            for logged in LoggedEvent::attach(rows, &messages) {
                self.bus.deliver(Arc::new(logged));
            }
            next = last + 1;
        }
        // Everything up to `through` is delivered or was removed.
        let next = through + 1;
        self.next = Some(next);
        self.pending.retain(|id, _| *id >= next);
        self.gap_since = None;
        self.deliver_ready();
        Ok(())
    }
}
