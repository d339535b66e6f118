//! Blocking: one person hides another.
//!
//! The one rule: a message whose sender the viewer blocks does not exist
//! for the viewer. Every read path applies it through a helper of this
//! file: [`hides_blocked`] for SQL that reads messages (history, thread
//! replies, search, the inbox's last message), [`counts_for`] for unread
//! counts, [`Service::blocked_by`] for streams that filter what passes
//! (`messageAdded`, `events`, replayed or live). Besides, a pair where
//! either blocks the other has no direct messages: opening their direct
//! conversation or sending to it is `FORBIDDEN` with the same text for
//! both people, so the blocked one does not learn who blocked whom.
//!
//! Streams read the viewer's blocked set from a small cache: a block or
//! unblock on this instance takes effect at once; other instances sharing
//! the database re-read a set older than [`CACHE_TTL`].
//!
//! This file is a leaf: it imports nothing of its siblings.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use entity::{conversation_member, message, user, user_block};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict, Query, SimpleExpr},
};

use crate::{
    Service, Viewer,
    error::{Error, Result},
    time::now,
};

/// How long another instance may serve a blocked set it read before.
pub const CACHE_TTL: Duration = Duration::from_secs(2);
/// Cached sets past which the cache starts over (a set is a few ids).
const CACHE_MAX: usize = 100_000;

/// The text both people of a blocked pair get.
pub const DIRECT_BLOCKED: &str = "direct messages with this user are not possible";

/// Each viewer's blocked users, as streams last read them.
#[derive(Clone, Default)]
pub(crate) struct BlockCache(Arc<Mutex<HashMap<i64, Cached>>>);

/// When a blocked set was read, and the set.
type Cached = (Instant, Arc<HashSet<i64>>);

impl BlockCache {
    fn get(&self, user_id: i64) -> Option<Arc<HashSet<i64>>> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&user_id)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, set)| set.clone())
    }

    fn put(&self, user_id: i64, set: Arc<HashSet<i64>>) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= CACHE_MAX {
            map.clear();
        }
        map.insert(user_id, (Instant::now(), set));
    }

    fn forget(&self, user_id: i64) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(&user_id);
    }
}

/// `NOT EXISTS` a block of `messages.sender_id` by `viewer_id`: keeps the
/// messages the viewer may see (system notices have no sender and stay).
pub(crate) fn hides_blocked(viewer_id: i64) -> SimpleExpr {
    let blocked = Query::select()
        .expr(Expr::val(1))
        .from(user_block::Entity)
        .and_where(user_block::Column::BlockerId.eq(viewer_id))
        .and_where(
            Expr::col((user_block::Entity, user_block::Column::BlockedId))
                .equals((message::Entity, message::Column::SenderId)),
        )
        .to_owned();
    Expr::exists(blocked).not()
}

/// The same rule as SQL text, for hand-written queries over `messages m`.
pub(crate) fn hides_blocked_sql(viewer_placeholder: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM user_blocks ub WHERE ub.blocker_id = {viewer_placeholder} \
         AND ub.blocked_id = m.sender_id)"
    )
}

/// True for memberships whose user blocks `sender`: a message of theirs
/// does not count as unread for them.
pub(crate) fn blocks_sender(sender: i64) -> SimpleExpr {
    let blocking = Query::select()
        .expr(Expr::val(1))
        .from(user_block::Entity)
        .and_where(user_block::Column::BlockedId.eq(sender))
        .and_where(
            Expr::col((user_block::Entity, user_block::Column::BlockerId)).equals((
                conversation_member::Entity,
                conversation_member::Column::UserId,
            )),
        )
        .to_owned();
    Expr::exists(blocking)
}

/// The condition on messages that count as unread for `user_id`: not
/// theirs, not from someone they block.
pub(crate) fn counts_for(user_id: i64) -> Condition {
    Condition::all()
        .add(message::Column::SenderId.ne(user_id))
        .add(hides_blocked(user_id))
}

/// Whether either of the pair blocks the other.
pub(crate) async fn either_blocks<C: ConnectionTrait>(db: &C, a: i64, b: i64) -> Result<bool> {
    let found = user_block::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(user_block::Column::BlockerId.eq(a))
                        .add(user_block::Column::BlockedId.eq(b)),
                )
                .add(
                    Condition::all()
                        .add(user_block::Column::BlockerId.eq(b))
                        .add(user_block::Column::BlockedId.eq(a)),
                ),
        )
        .one(db)
        .await?;
    Ok(found.is_some())
}

impl Service {
    /// Blocks `user_id` for the viewer (again: no change). Their unread
    /// counts in shared conversations are counted afresh without the
    /// blocked person's messages.
    #[tracing::instrument(skip(self), fields(user_id = viewer.user_id))]
    pub async fn block_user(&self, viewer: &Viewer, user_id: i64) -> Result<user::Model> {
        if user_id == viewer.user_id {
            return Err(Error::invalid("userId", "you cannot block yourself"));
        }
        let blocked = user::Entity::find_by_id(user_id)
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("user"))?;
        let count = user_block::Entity::find()
            .filter(user_block::Column::BlockerId.eq(viewer.user_id))
            .count(self.db())
            .await?;
        if count >= self.settings().max_blocks as u64 {
            return Err(Error::invalid(
                "userId",
                format!("at most {} blocked users", self.settings().max_blocks),
            ));
        }
        let txn = self.write().await?;
        let row = user_block::ActiveModel {
            blocker_id: sea_orm::Set(viewer.user_id),
            blocked_id: sea_orm::Set(user_id),
            created_at: sea_orm::Set(now()),
        };
        // Already blocked: nothing to insert (a failed insert would spoil
        // the transaction on PostgreSQL).
        user_block::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([user_block::Column::BlockerId, user_block::Column::BlockedId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&*txn)
            .await?;
        self.recount_for_blocks(&*txn, viewer.user_id, user_id)
            .await?;
        txn.commit().await?;
        self.blocks.forget(viewer.user_id);
        Ok(blocked)
    }

    /// Lifts the viewer's block of `user_id` (none: no change).
    #[tracing::instrument(skip(self), fields(user_id = viewer.user_id))]
    pub async fn unblock_user(&self, viewer: &Viewer, user_id: i64) -> Result<user::Model> {
        let blocked = user::Entity::find_by_id(user_id)
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("user"))?;
        let txn = self.write().await?;
        user_block::Entity::delete_many()
            .filter(user_block::Column::BlockerId.eq(viewer.user_id))
            .filter(user_block::Column::BlockedId.eq(user_id))
            .exec(&*txn)
            .await?;
        self.recount_for_blocks(&*txn, viewer.user_id, user_id)
            .await?;
        txn.commit().await?;
        self.blocks.forget(viewer.user_id);
        Ok(blocked)
    }

    /// The users the viewer blocks, most recently blocked first.
    pub async fn blocked_users(&self, viewer: &Viewer) -> Result<Vec<user::Model>> {
        let rows = user_block::Entity::find()
            .filter(user_block::Column::BlockerId.eq(viewer.user_id))
            .order_by_desc(user_block::Column::CreatedAt)
            .all(self.db())
            .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.blocked_id).collect();
        let mut users = self.users_by_ids(&ids).await?;
        Ok(ids.iter().filter_map(|id| users.remove(id)).collect())
    }

    /// Whom `user_id` blocks, for streams (see the module's notes).
    pub(crate) async fn blocked_by(&self, user_id: i64) -> Result<Arc<HashSet<i64>>> {
        if let Some(set) = self.blocks.get(user_id) {
            return Ok(set);
        }
        let ids: Vec<i64> = user_block::Entity::find()
            .select_only()
            .column(user_block::Column::BlockedId)
            .filter(user_block::Column::BlockerId.eq(user_id))
            .into_tuple()
            .all(self.db())
            .await?;
        let set = Arc::new(ids.into_iter().collect::<HashSet<i64>>());
        self.blocks.put(user_id, set.clone());
        Ok(set)
    }

    /// Whether the viewer may see `message`: not when they block its sender.
    pub(crate) async fn sees_sender(
        &self,
        viewer_id: i64,
        message: &message::Model,
    ) -> Result<bool> {
        Ok(match message.sender_id {
            Some(sender) if sender != viewer_id => {
                !self.blocked_by(viewer_id).await?.contains(&sender)
            }
            _ => true,
        })
    }

    /// The blocker's unread counts, counted afresh in every conversation
    /// they share with `other`.
    async fn recount_for_blocks<C: ConnectionTrait>(
        &self,
        db: &C,
        blocker: i64,
        other: i64,
    ) -> Result<()> {
        let theirs = Query::select()
            .column(conversation_member::Column::ConversationId)
            .from(conversation_member::Entity)
            .and_where(conversation_member::Column::UserId.eq(other))
            .to_owned();
        let shared = conversation_member::Entity::find()
            .filter(conversation_member::Column::UserId.eq(blocker))
            .filter(conversation_member::Column::ConversationId.in_subquery(theirs))
            .all(db)
            .await?;
        for member in shared {
            let unread = message::Entity::find()
                .filter(message::Column::ConversationId.eq(member.conversation_id))
                .filter(message::Column::Seq.gt(member.last_read_seq))
                .filter(counts_for(blocker))
                .filter(message::Column::ExternalId.is_null())
                .filter(message::Column::DeletedAt.is_null())
                .count(db)
                .await?;
            conversation_member::Entity::update_many()
                .col_expr(
                    conversation_member::Column::UnreadCount,
                    Expr::value(unread as i64),
                )
                .filter(conversation_member::Column::ConversationId.eq(member.conversation_id))
                .filter(conversation_member::Column::UserId.eq(blocker))
                .exec(db)
                .await?;
        }
        Ok(())
    }
}
