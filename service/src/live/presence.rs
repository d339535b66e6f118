//! Who is online: a user is while at least one authenticated WebSocket of
//! theirs is open on this instance.
//!
//! The WebSocket layer takes a [`PresenceGuard`] when a socket signs in and
//! drops it when the socket ends, however it ends. The first socket of a
//! user publishes `online: true`, the last one `online: false` and writes
//! `last_seen_at`, so "last seen" is exact for someone who just left.
//!
//! Presence is per instance for now: behind a load balancer, a user whose
//! sockets are all on another instance looks offline here.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use entity::{conversation, conversation_member, user};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Query, SelectStatement},
};

use crate::{
    Service,
    error::Result,
    events::{Ephemeral, EventBus},
    time::now,
};

/// Open authenticated sockets per user; users with none are absent.
#[derive(Clone, Default)]
pub(crate) struct Presence {
    sockets: Arc<Mutex<HashMap<i64, usize>>>,
}

impl Presence {
    fn sockets(&self) -> MutexGuard<'_, HashMap<i64, usize>> {
        // Every update is one insert, change or remove.
        self.sockets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_online(&self, user_id: i64) -> bool {
        self.sockets().contains_key(&user_id)
    }

    /// One more socket; true when it is the user's first.
    fn connect(&self, bus: &EventBus, user_id: i64) -> bool {
        let mut sockets = self.sockets();
        let count = sockets.entry(user_id).or_insert(0);
        *count += 1;
        let first = *count == 1;
        if first {
            // Published under the lock, so that a quick disconnect and
            // reconnect cannot publish out of order.
            bus.publish_ephemeral(Ephemeral::Presence {
                user_id,
                online: true,
            });
        }
        first
    }

    /// One socket fewer; true when it was the user's last.
    fn disconnect(&self, bus: &EventBus, user_id: i64) -> bool {
        let mut sockets = self.sockets();
        let Some(count) = sockets.get_mut(&user_id) else {
            return false;
        };
        *count = count.saturating_sub(1);
        if *count > 0 {
            return false;
        }
        sockets.remove(&user_id);
        bus.publish_ephemeral(Ephemeral::Presence {
            user_id,
            online: false,
        });
        true
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
    /// instance.
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

/// The ids of the conversations `user_id` is a member of, deleted ones
/// left out.
fn live_conversations_of(user_id: i64) -> SelectStatement {
    Query::select()
        .column((
            conversation_member::Entity,
            conversation_member::Column::ConversationId,
        ))
        .from(conversation_member::Entity)
        .inner_join(
            conversation::Entity,
            Expr::col((conversation::Entity, conversation::Column::Id)).equals((
                conversation_member::Entity,
                conversation_member::Column::ConversationId,
            )),
        )
        .and_where(
            Expr::col((
                conversation_member::Entity,
                conversation_member::Column::UserId,
            ))
            .eq(user_id),
        )
        .and_where(Expr::col((conversation::Entity, conversation::Column::DeletedAt)).is_null())
        .to_owned()
}
