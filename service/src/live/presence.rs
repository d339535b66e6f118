//! Who is online: a user is while at least one authenticated WebSocket of
//! theirs is open, on this instance or on another sharing the database.
//!
//! The WebSocket layer takes a [`PresenceGuard`] when a socket signs in and
//! drops it when the socket ends, however it ends. The first socket of a
//! user on this instance and the last one tell the other instances
//! ([`Roster::Online`], [`Roster::Offline`]); the last one also writes
//! `last_seen_at`, so "last seen" is exact for someone who just left.
//!
//! Each instance keeps the users online on every other one, and publishes
//! `online: true` to its own subscribers when a user becomes online
//! anywhere and `online: false` when they are online nowhere, so a
//! subscriber gets each change once, wherever the sockets are. Instances
//! send a heartbeat every third of `Settings::presence_expiry` with their
//! count of users; a count that does not match asks for a snapshot, and
//! an instance not heard from for `presence_expiry` (it died) is
//! forgotten, its users going offline. A new or reconnected listener asks
//! everyone for a snapshot. On SQLite (one instance) there is no one to
//! tell, and none of this runs.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, MutexGuard, PoisonError, Weak},
    time::Duration,
};

use entity::{conversation_member, user};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr};
use tokio::{sync::broadcast::error::RecvError, time::Instant};

use crate::{
    Service,
    accounts::live_conversations_of,
    error::Result,
    events::{Ephemeral, EventBus, Roster},
    time::now,
};

/// Who is online here and elsewhere.
#[derive(Default)]
struct Roll {
    /// Open authenticated sockets per user on this instance; users with
    /// none are absent.
    local: HashMap<i64, usize>,
    /// The users online on each other instance.
    remote: HashMap<u64, Remote>,
}

struct Remote {
    users: HashSet<i64>,
    /// When the instance was last heard from.
    seen: Instant,
}

impl Roll {
    fn elsewhere(&self, user_id: i64) -> bool {
        self.remote.values().any(|r| r.users.contains(&user_id))
    }

    fn online(&self, user_id: i64) -> bool {
        self.local.contains_key(&user_id) || self.elsewhere(user_id)
    }

    fn remote(&mut self, origin: u64) -> &mut Remote {
        let remote = self.remote.entry(origin).or_insert_with(|| Remote {
            users: HashSet::new(),
            seen: Instant::now(),
        });
        remote.seen = Instant::now();
        remote
    }
}

/// The presence of one service; clones share it.
#[derive(Clone, Default)]
pub(crate) struct Presence {
    roll: Arc<Mutex<Roll>>,
}

fn said(bus: &EventBus, user_id: i64, online: bool) {
    bus.publish_ephemeral_local(Ephemeral::Presence { user_id, online });
}

impl Presence {
    /// Presence for `bus`; when it is linked to other instances, also the
    /// task that keeps their rosters, which ends with the service.
    pub fn start(bus: &EventBus, expiry: Duration) -> Self {
        let presence = Self::default();
        if bus.is_linked() {
            tokio::spawn(keep_rosters(
                Arc::downgrade(&presence.roll),
                bus.clone(),
                expiry,
            ));
        }
        presence
    }

    fn roll(&self) -> MutexGuard<'_, Roll> {
        // Every update leaves the maps consistent.
        self.roll.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn is_online(&self, user_id: i64) -> bool {
        self.roll().online(user_id)
    }

    /// One more socket; true when it is the user's first here.
    fn connect(&self, bus: &EventBus, user_id: i64) -> bool {
        let mut roll = self.roll();
        let count = roll.local.entry(user_id).or_insert(0);
        *count += 1;
        let first = *count == 1;
        if first {
            // Published under the lock, so that a quick disconnect and
            // reconnect cannot publish out of order.
            bus.send_roster(Roster::Online(user_id));
            if !roll.elsewhere(user_id) {
                said(bus, user_id, true);
            }
        }
        first
    }

    /// One socket fewer; true when it was the user's last here.
    fn disconnect(&self, bus: &EventBus, user_id: i64) -> bool {
        let mut roll = self.roll();
        let Some(count) = roll.local.get_mut(&user_id) else {
            return false;
        };
        *count = count.saturating_sub(1);
        if *count > 0 {
            return false;
        }
        roll.local.remove(&user_id);
        bus.send_roster(Roster::Offline(user_id));
        if !roll.elsewhere(user_id) {
            said(bus, user_id, false);
        }
        true
    }
}

/// Applies other instances' roster messages, sends heartbeats and forgets
/// instances that stopped sending them.
async fn keep_rosters(roll: Weak<Mutex<Roll>>, bus: EventBus, expiry: Duration) {
    let mut messages = bus.subscribe_roster();
    let mut beat = tokio::time::interval((expiry / 3).max(Duration::from_millis(100)));
    loop {
        tokio::select! {
            message = messages.recv() => {
                let Some(roll) = roll.upgrade() else { return };
                let mut roll = roll.lock().unwrap_or_else(PoisonError::into_inner);
                match message {
                    Ok(message) => apply(&mut roll, &bus, message.0, &message.1),
                    Err(RecvError::Lagged(_)) => bus.send_roster(Roster::Hello { to: None }),
                    Err(RecvError::Closed) => return,
                }
            }
            _ = beat.tick() => {
                let Some(roll) = roll.upgrade() else { return };
                let mut roll = roll.lock().unwrap_or_else(PoisonError::into_inner);
                bus.send_roster(Roster::Beat { users: roll.local.len() });
                let now = Instant::now();
                let dead: Vec<u64> = roll
                    .remote
                    .iter()
                    .filter(|(_, r)| now.duration_since(r.seen) > expiry)
                    .map(|(origin, _)| *origin)
                    .collect();
                for origin in dead {
                    let Some(gone) = roll.remote.remove(&origin) else { continue };
                    tracing::warn!(instance = format!("{origin:x}"), users = gone.users.len(), "an instance stopped sending heartbeats; its users are offline");
                    for user_id in gone.users {
                        if !roll.online(user_id) {
                            said(&bus, user_id, false);
                        }
                    }
                }
            }
        }
    }
}

/// One roster message from instance `origin`.
fn apply(roll: &mut Roll, bus: &EventBus, origin: u64, message: &Roster) {
    match message {
        Roster::Online(user_id) => {
            let was = roll.online(*user_id);
            roll.remote(origin).users.insert(*user_id);
            if !was {
                said(bus, *user_id, true);
            }
        }
        Roster::Offline(user_id) => {
            roll.remote(origin).users.remove(user_id);
            if !roll.online(*user_id) {
                said(bus, *user_id, false);
            }
        }
        Roster::Beat { users } => {
            if roll.remote(origin).users.len() != *users {
                bus.send_roster(Roster::Hello { to: Some(origin) });
            }
        }
        Roster::Hello { to } => {
            if to.is_none_or(|to| to == bus.origin()) {
                let users = roll.local.keys().copied().collect();
                bus.send_roster(Roster::Snapshot { users });
            }
        }
        Roster::Snapshot { users } => {
            let new: HashSet<i64> = users.iter().copied().collect();
            let old = std::mem::take(&mut roll.remote(origin).users);
            let changed: Vec<i64> = old.symmetric_difference(&new).copied().collect();
            let was: Vec<bool> = changed
                .iter()
                .map(|u| roll.online(*u) || old.contains(u))
                .collect();
            roll.remote(origin).users = new;
            for (user_id, was) in changed.into_iter().zip(was) {
                let now = roll.online(user_id);
                if now != was {
                    said(bus, user_id, now);
                }
            }
        }
    }
}

/// Keeps its user online while it lives; held by an authenticated socket.
pub struct PresenceGuard {
    service: Service,
    user_id: i64,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        if !self
            .service
            .presence
            .disconnect(self.service.bus(), self.user_id)
        {
            return;
        }
        // The write cannot be awaited in `drop`; a socket ending during
        // shutdown may have no runtime left to run it, and then "last
        // seen" keeps the time the user last authenticated.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let service = self.service.clone();
        let user_id = self.user_id;
        runtime.spawn(async move { service.went_offline(user_id).await });
    }
}

impl Service {
    /// Marks `user_id` online until the guard is dropped.
    pub fn connect_presence(&self, user_id: i64) -> PresenceGuard {
        self.presence.connect(self.bus(), user_id);
        PresenceGuard {
            service: self.clone(),
            user_id,
        }
    }

    /// True while the user has an authenticated WebSocket open on this
    /// instance or another one sharing the database.
    pub fn is_online(&self, user_id: i64) -> bool {
        self.presence.is_online(user_id)
    }

    /// Writes `last_seen_at` when the last socket closed; best effort, like
    /// every "last seen" write.
    async fn went_offline(&self, user_id: i64) {
        let at = now();
        let result: Result<()> = async {
            let txn = self.write().await?;
            user::Entity::update_many()
                .col_expr(user::Column::LastSeenAt, Expr::value(at))
                .filter(user::Column::Id.eq(user_id))
                // Never back (a clock step, or a later write that won).
                .filter(
                    Condition::any()
                        .add(user::Column::LastSeenAt.is_null())
                        .add(user::Column::LastSeenAt.lt(at)),
                )
                .exec(&*txn)
                .await?;
            Ok(txn.commit().await?)
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, user_id, "could not note when the user went offline");
        }
    }

    /// Everyone who shares a conversation (not deleted) with `user_id`,
    /// not the user themselves: who may see their presence and typing.
    pub async fn contacts_of(&self, user_id: i64) -> Result<HashSet<i64>> {
        let ids: Vec<i64> = conversation_member::Entity::find()
            .select_only()
            .distinct()
            .column(conversation_member::Column::UserId)
            .filter(
                conversation_member::Column::ConversationId
                    .in_subquery(live_conversations_of(user_id)),
            )
            .filter(conversation_member::Column::UserId.ne(user_id))
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(ids.into_iter().collect())
    }
}
