//! Delivering: one supervisor per service and one task per endpoint.
//!
//! The supervisor, every `poll`, leases the endpoints no live instance
//! holds (`lease_owner`, `lease_until`: an `UPDATE ... RETURNING` that
//! PostgreSQL re-checks row by row, so two instances never both win one),
//! renews the leases it holds, and starts a task for each new one. A task
//! reads the log after its endpoint's cursor, skips what the endpoint
//! does not take, and posts the rest one at a time, in log order (so in
//! order per conversation), moving the cursor after each success. A
//! failure is retried after an exponential backoff with jitter; after
//! `max_attempts` failures in a row the endpoint pauses until resumed.
//! Every cursor write names the lease owner: an instance that lost its
//! lease stops at its next write. Delivery is at least once: a receiver
//! dedupes on the event id.
//!
//! Nothing here is on the send path: sends only write the log (and, while
//! an endpoint takes new messages, who was offline).

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

use entity::{conversation_member, event, webhook_endpoint};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use tokio::{
    sync::{Notify, broadcast, watch},
    time::Instant,
};

use super::{
    EventType, OfflineProbe, WebhookSettings,
    kinds::{direct_type, parse_list},
    outbound,
    payload::Payloads,
};
use crate::{
    db::WriteLock,
    error::Result,
    events::{EventBus, READ_BATCH},
    time::now,
};

/// How often a draining backlog writes its cursor.
const CURSOR_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

struct Inner {
    settings: WebhookSettings,
    client: reqwest::Client,
    /// This instance, as `lease_owner` says it.
    owner: String,
    /// Some endpoint takes `message.added`: sends note who was offline.
    wanted: Arc<AtomicBool>,
    /// An endpoint was created, changed or resumed here.
    wake: Notify,
    /// Endpoints with a task on this instance.
    running: Mutex<HashSet<i64>>,
}

/// The webhook deliveries of one service; clones share them.
#[derive(Clone)]
pub(crate) struct Hub {
    inner: Arc<Inner>,
    /// Dropped with the last service clone: the tasks then stop.
    _alive: Arc<watch::Sender<()>>,
    stopped: watch::Receiver<()>,
}

impl Hub {
    pub fn new(settings: &WebhookSettings, origin: u64) -> Self {
        let (alive, stopped) = watch::channel(());
        Self {
            inner: Arc::new(Inner {
                client: outbound::client(settings),
                settings: settings.clone(),
                owner: format!("{origin:016x}"),
                wanted: Arc::new(AtomicBool::new(false)),
                wake: Notify::new(),
                running: Mutex::new(HashSet::new()),
            }),
            _alive: Arc::new(alive),
            stopped,
        }
    }

    pub fn wanted(&self) -> Arc<AtomicBool> {
        self.inner.wanted.clone()
    }

    /// An endpoint was created, updated or resumed: look at once.
    pub fn changed(&self, row: &webhook_endpoint::Model) {
        if parse_list(&row.event_types).contains(&EventType::MessageAdded) {
            self.inner.wanted.store(true, Ordering::Relaxed);
        }
        self.inner.wake.notify_one();
    }

    /// Starts the supervisor; it and its tasks end with the service.
    pub fn start(
        &self,
        db: DatabaseConnection,
        lock: WriteLock,
        bus: EventBus,
        probe: OfflineProbe,
    ) {
        let ctx = Ctx {
            db,
            lock,
            bus,
            probe,
            hub: self.inner.clone(),
        };
        tokio::spawn(supervise(ctx, self.stopped.clone()));
    }
}

#[derive(Clone)]
struct Ctx {
    db: DatabaseConnection,
    lock: WriteLock,
    bus: EventBus,
    probe: OfflineProbe,
    hub: Arc<Inner>,
}

/// Resolves when the service is gone.
async fn gone(stopped: &mut watch::Receiver<()>) {
    while stopped.changed().await.is_ok() {}
}

async fn supervise(ctx: Ctx, mut stopped: watch::Receiver<()>) {
    let mut tick = tokio::time::interval(
        ctx.hub
            .settings
            .poll
            .max(std::time::Duration::from_millis(10)),
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = ctx.hub.wake.notified() => {}
            () = gone(&mut stopped) => break,
        }
        if let Err(err) = ctx.lease_and_start(&stopped).await {
            tracing::warn!(error = %err, "webhooks: leasing endpoints failed");
        }
    }
    // Let another instance (or this one restarted) take over at once.
    if let Err(err) = ctx.release().await {
        tracing::debug!(error = %err, "webhooks: releasing leases failed");
    }
}

/// Removes the endpoint from `running` when its task ends, however.
struct Running(Arc<Inner>, i64);

impl Drop for Running {
    fn drop(&mut self) {
        self.0
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.1);
    }
}

/// What an attempt at an event came to.
enum Outcome {
    Delivered,
    /// Paused, deleted, or the lease lost.
    Stop,
    /// The endpoint changed during the backoff: read it again.
    Reload,
}

impl Ctx {
    fn owner(&self) -> &str {
        &self.hub.owner
    }

    fn settings(&self) -> &WebhookSettings {
        &self.hub.settings
    }

    async fn lease_and_start(&self, stopped: &watch::Receiver<()>) -> Result<()> {
        let at = now();
        let until = at + chrono::Duration::from_std(self.settings().lease).unwrap_or_default();
        let txn = self.lock.begin(&self.db).await?;
        let leased = webhook_endpoint::Entity::update_many()
            .col_expr(
                webhook_endpoint::Column::LeaseOwner,
                Expr::value(self.owner()),
            )
            .col_expr(webhook_endpoint::Column::LeaseUntil, Expr::value(until))
            .filter(webhook_endpoint::Column::PausedAt.is_null())
            .filter(
                Condition::any()
                    .add(webhook_endpoint::Column::LeaseOwner.is_null())
                    .add(webhook_endpoint::Column::LeaseOwner.eq(self.owner()))
                    .add(webhook_endpoint::Column::LeaseUntil.lt(at)),
            )
            .exec_with_returning(&*txn)
            .await?;
        txn.commit().await?;
        let types: Vec<String> = webhook_endpoint::Entity::find()
            .select_only()
            .column(webhook_endpoint::Column::EventTypes)
            .filter(webhook_endpoint::Column::PausedAt.is_null())
            .into_tuple()
            .all(&self.db)
            .await?;
        let wanted = types
            .iter()
            .any(|t| parse_list(t).contains(&EventType::MessageAdded));
        self.hub.wanted.store(wanted, Ordering::Relaxed);
        for row in leased {
            let new = self
                .hub
                .running
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(row.id);
            if new {
                let running = Running(self.hub.clone(), row.id);
                tokio::spawn(self.clone().run(running, stopped.clone()));
            }
        }
        Ok(())
    }

    async fn release(&self) -> Result<()> {
        let txn = self.lock.begin(&self.db).await?;
        webhook_endpoint::Entity::update_many()
            .col_expr(
                webhook_endpoint::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .filter(webhook_endpoint::Column::LeaseOwner.eq(self.owner()))
            .exec(&*txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// One endpoint's task.
    async fn run(self, running: Running, mut stopped: watch::Receiver<()>) {
        let id = running.1;
        let mut log = self.bus.subscribe_log();
        loop {
            let step = tokio::select! {
                step = self.step(id, &mut log) => step,
                () = gone(&mut stopped) => return,
            };
            match step {
                Ok(true) => {}
                Ok(false) => return,
                Err(err) => {
                    tracing::warn!(error = %err, endpoint = id, "webhooks: delivery step failed");
                    tokio::select! {
                        () = tokio::time::sleep(self.settings().poll) => {}
                        () = gone(&mut stopped) => return,
                    }
                }
            }
        }
    }

    /// The endpoint, while it exists, is not paused and is ours.
    async fn owned(&self, id: i64) -> Result<Option<webhook_endpoint::Model>> {
        Ok(webhook_endpoint::Entity::find_by_id(id)
            .filter(webhook_endpoint::Column::PausedAt.is_null())
            .filter(webhook_endpoint::Column::LeaseOwner.eq(self.owner()))
            .one(&self.db)
            .await?)
    }

    /// Delivers what follows the cursor; false when the task should end.
    async fn step(
        &self,
        id: i64,
        log: &mut broadcast::Receiver<Arc<crate::events::LoggedEvent>>,
    ) -> Result<bool> {
        // Emptied before reading: whatever commits after the read wakes.
        while let Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) = log.try_recv() {}
        let Some(row) = self.owned(id).await? else {
            return Ok(false);
        };
        let events = event::Entity::find()
            .filter(event::Column::Id.gt(row.cursor))
            .order_by_asc(event::Column::Id)
            .limit(READ_BATCH)
            .all(&self.db)
            .await?;
        if events.is_empty() {
            tokio::select! {
                received = log.recv() => {
                    if let Err(broadcast::error::RecvError::Closed) = received {
                        return Ok(false);
                    }
                }
                () = tokio::time::sleep(self.settings().poll) => {}
            }
            return Ok(true);
        }
        let types = parse_list(&row.event_types);
        let mut cursor = row.cursor;
        let mut stored = (row.cursor, Instant::now());
        for event in &events {
            let Some((ty, body)) = self.prepare(&row, &types, event).await? else {
                cursor = event.id;
                continue;
            };
            match self.deliver(&row, cursor, event.id, ty, body).await? {
                Outcome::Delivered => {
                    cursor = event.id;
                    // Written at most every CURSOR_EVERY while a backlog
                    // drains (a crash resends that much, with the same
                    // ids), and always at the end of a batch.
                    if stored.1.elapsed() >= CURSOR_EVERY {
                        if !self.advance(id, cursor).await? {
                            return Ok(false);
                        }
                        stored = (cursor, Instant::now());
                    }
                }
                Outcome::Stop => return Ok(false),
                Outcome::Reload => return Ok(true),
            }
        }
        if cursor != stored.0 && !self.advance(id, cursor).await? {
            return Ok(false);
        }
        Ok(true)
    }

    /// The webhook type and body of `event` for this endpoint, or `None`
    /// when it does not take it.
    async fn prepare(
        &self,
        row: &webhook_endpoint::Model,
        types: &[EventType],
        event: &event::Model,
    ) -> Result<Option<(EventType, Vec<u8>)>> {
        let Some(mut ty) = direct_type(event) else {
            return Ok(None);
        };
        let mut members = Vec::new();
        if ty == EventType::MemberAdded {
            if !types.contains(&EventType::MemberAdded)
                && !types.contains(&EventType::ConversationCreated)
            {
                return Ok(None);
            }
            match self.creation(event).await? {
                Creation::Join => {}
                Creation::Later => return Ok(None),
                Creation::First(ids) => {
                    ty = EventType::ConversationCreated;
                    members = ids;
                }
            }
        }
        if !types.contains(&ty) {
            return Ok(None);
        }
        let mut offline = Vec::new();
        if ty == EventType::MessageAdded {
            offline = self.offline(event).await?;
            if row.only_offline && offline.is_empty() {
                return Ok(None);
            }
        }
        let payloads = Payloads {
            db: &self.db,
            settings: self.settings(),
        };
        let body = payloads.body(event, ty, &offline, &members).await?;
        Ok(Some((ty, serde_json::to_vec(&body).unwrap_or_default())))
    }

    /// The offline recipients of a new message: as noted when it was
    /// stored, or, when nobody wanted them then (or for a system notice),
    /// the members offline now.
    async fn offline(&self, event: &event::Model) -> Result<Vec<i64>> {
        let data: serde_json::Value = event
            .data
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default();
        if let Some(ids) = data["offline"].as_array() {
            return Ok(ids.iter().filter_map(serde_json::Value::as_i64).collect());
        }
        let members: Vec<i64> = conversation_member::Entity::find()
            .select_only()
            .column(conversation_member::Column::UserId)
            .filter(conversation_member::Column::ConversationId.eq(event.conversation_id))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(self.probe.offline_now(event.user_id, members.into_iter()))
    }

    /// Whether a `member_joined` is someone joining, or part of the
    /// conversation's creation: a creation logs only joins, a later
    /// addition logs its notice first.
    async fn creation(&self, event: &event::Model) -> Result<Creation> {
        let earlier = event::Entity::find()
            .filter(event::Column::ConversationId.eq(event.conversation_id))
            .filter(event::Column::Id.lt(event.id));
        let other = earlier
            .clone()
            .filter(event::Column::Kind.ne(event::Kind::MemberJoined))
            .one(&self.db)
            .await?;
        if other.is_some() {
            return Ok(Creation::Join);
        }
        if earlier.one(&self.db).await?.is_some() {
            return Ok(Creation::Later);
        }
        // The creation's events share its transaction's time.
        let members: Vec<Option<i64>> = event::Entity::find()
            .select_only()
            .column(event::Column::UserId)
            .filter(event::Column::ConversationId.eq(event.conversation_id))
            .filter(event::Column::Kind.eq(event::Kind::MemberJoined))
            .filter(event::Column::CreatedAt.eq(event.created_at))
            .order_by_asc(event::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(Creation::First(members.into_iter().flatten().collect()))
    }

    /// Posts until it succeeds or the endpoint pauses or changes.
    async fn deliver(
        &self,
        row: &webhook_endpoint::Model,
        cursor: i64,
        event_id: i64,
        ty: EventType,
        body: Vec<u8>,
    ) -> Result<Outcome> {
        let settings = self.settings();
        let mut failures = row.attempts.max(0) as u32;
        loop {
            let result = outbound::post(
                &self.hub.client,
                settings,
                &row.url,
                &row.secret,
                event_id,
                ty.name(),
                body.clone(),
            )
            .await;
            let reason = match result {
                Ok(()) => return Ok(Outcome::Delivered),
                Err(reason) => reason,
            };
            failures += 1;
            let pause = failures >= settings.max_attempts.max(1);
            tracing::info!(endpoint = row.id, event_id, failures, pause, %reason, "webhooks: delivery failed");
            if !self
                .failed(row.id, cursor, failures, &reason, pause)
                .await?
                || pause
            {
                return Ok(Outcome::Stop);
            }
            // The task's caller stops it here when the service goes.
            tokio::time::sleep(settings.backoff(failures)).await;
            let Some(now) = self.owned(row.id).await? else {
                return Ok(Outcome::Stop);
            };
            let same = now.url == row.url
                && now.secret == row.secret
                && now.event_types == row.event_types
                && now.only_offline == row.only_offline;
            if !same {
                return Ok(Outcome::Reload);
            }
        }
    }

    /// Moves the cursor; false when the endpoint is no longer ours.
    async fn advance(&self, id: i64, cursor: i64) -> Result<bool> {
        let txn = self.lock.begin(&self.db).await?;
        let done = webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::Cursor, Expr::value(cursor))
            .col_expr(webhook_endpoint::Column::Attempts, Expr::value(0))
            .filter(webhook_endpoint::Column::Id.eq(id))
            .filter(webhook_endpoint::Column::LeaseOwner.eq(self.owner()))
            .exec(&*txn)
            .await?;
        txn.commit().await?;
        Ok(done.rows_affected == 1)
    }

    /// Notes a failure (and the pause); false when no longer ours.
    async fn failed(
        &self,
        id: i64,
        cursor: i64,
        failures: u32,
        reason: &str,
        pause: bool,
    ) -> Result<bool> {
        let at = now();
        let txn = self.lock.begin(&self.db).await?;
        let mut update = webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::Cursor, Expr::value(cursor))
            .col_expr(
                webhook_endpoint::Column::Attempts,
                Expr::value(failures as i32),
            )
            .col_expr(webhook_endpoint::Column::LastError, Expr::value(reason))
            .col_expr(webhook_endpoint::Column::LastErrorAt, Expr::value(at));
        if pause {
            update = update
                .col_expr(webhook_endpoint::Column::PausedAt, Expr::value(at))
                .col_expr(
                    webhook_endpoint::Column::LeaseOwner,
                    Expr::value(Option::<String>::None),
                );
        }
        let done = update
            .filter(webhook_endpoint::Column::Id.eq(id))
            .filter(webhook_endpoint::Column::LeaseOwner.eq(self.owner()))
            .exec(&*txn)
            .await?;
        txn.commit().await?;
        Ok(done.rows_affected == 1)
    }
}

enum Creation {
    /// Someone joined later.
    Join,
    /// Another member of the creation: the first one stands for it.
    Later,
    /// The first event of the conversation: it was created, with these.
    First(Vec<i64>),
}
