//! Replies and threads.
//!
//! A reply is a normal message of the timeline (it takes the next seq) that
//! also names the message it answers (`reply_to_id`) and the root of its
//! thread (`thread_root_id`). A reply to a reply joins its target's thread,
//! so threads are one level deep however people reply, and a thread is
//! read with one index range: `(thread_root_id, seq)`. The root keeps the
//! count of its live replies and the time of the newest, so a page of
//! messages shows them without counting.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::message::{self, Kind};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    Service, Viewer,
    accounts::hides_blocked,
    conversations::history_floor,
    error::{Error, Result},
    page::{Page, PageArgs, Window},
};

/// Checks that `target` may be replied to in `conversation_id` and counts
/// a reply sent at `at` in its thread; returns the thread's root. Runs in
/// the send's transaction, under the conversation's lock, so the target
/// cannot be deleted in between.
pub(crate) async fn join_thread<C: ConnectionTrait>(
    db: &C,
    conversation_id: i64,
    target: i64,
    at: DateTime<Utc>,
) -> Result<i64> {
    // A message of another conversation looks the same as a missing one.
    let target = message::Entity::find_by_id(target)
        .filter(message::Column::ConversationId.eq(conversation_id))
        .one(db)
        .await?
        .ok_or_else(|| Error::invalid("replyToId", "is not a message of this conversation"))?;
    if target.kind == Kind::System {
        return Err(Error::invalid(
            "replyToId",
            "system messages cannot be replied to",
        ));
    }
    if target.deleted_at.is_some() {
        return Err(Error::invalid(
            "replyToId",
            "deleted messages cannot be replied to",
        ));
    }
    let root = target.thread_root_id.unwrap_or(target.id);
    message::Entity::update_many()
        .col_expr(
            message::Column::ReplyCount,
            Expr::col(message::Column::ReplyCount).add(1),
        )
        .col_expr(message::Column::LastReplyAt, Expr::value(at))
        .filter(message::Column::Id.eq(root))
        .exec(db)
        .await?;
    Ok(root)
}

/// Takes a deleted reply out of its thread's count, and moves the thread's
/// last reply time back to the newest live reply. Call it after the reply
/// became a tombstone, in the same transaction.
pub(crate) async fn leave_thread<C: ConnectionTrait>(db: &C, root: i64) -> Result<()> {
    let newest = message::Entity::find()
        .filter(message::Column::ThreadRootId.eq(root))
        .filter(message::Column::DeletedAt.is_null())
        .order_by_desc(message::Column::Seq)
        .one(db)
        .await?;
    message::Entity::update_many()
        .col_expr(
            message::Column::ReplyCount,
            Expr::col(message::Column::ReplyCount).sub(1),
        )
        .col_expr(
            message::Column::LastReplyAt,
            Expr::value(newest.map(|m| m.created_at)),
        )
        .filter(message::Column::Id.eq(root))
        .filter(message::Column::ReplyCount.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

impl Service {
    /// The replies in `root`'s thread, oldest first, tombstones in their
    /// place. A message that is not a thread's root has none.
    pub async fn replies(
        &self,
        viewer: &Viewer,
        root: &message::Model,
        args: PageArgs<i64>,
    ) -> Result<Page<message::Model>> {
        // Re-checked for the same reason as `messages`: the root may have
        // been loaded earlier in the request.
        let conversation = self
            .conversation(viewer, root.conversation_id)
            .await
            .map_err(|_| Error::NotFound("message"))?;
        let Window::Forward { after, limit } = args.window(false)? else {
            return Err(Error::invalid("last", "replies are paged forward only"));
        };
        let floor = history_floor(self.db(), &conversation, viewer.user_id).await?;
        let rows = message::Entity::find()
            .filter(message::Column::ThreadRootId.eq(root.id))
            .filter(message::Column::Seq.gte(floor))
            .filter(hides_blocked(viewer.user_id))
            .filter(message::Column::Seq.gt(after.unwrap_or(0)))
            .order_by_asc(message::Column::Seq)
            .limit(limit + 1)
            .all(self.db())
            .await?;
        Ok(Page::forward(rows, limit, after.is_some()))
    }

    /// Messages by id that `viewer_id` may see (not from someone they
    /// block), for batch loading (reply targets). The caller must already
    /// have checked that the viewer may see their conversations.
    pub async fn visible_messages_by_ids(
        &self,
        viewer_id: Option<i64>,
        ids: &[i64],
    ) -> Result<HashMap<i64, message::Model>> {
        let mut found = self.messages_by_ids(ids).await?;
        if let Some(viewer_id) = viewer_id {
            let blocked = self.blocked_by(viewer_id).await?;
            found.retain(|_, m| m.sender_id.is_none_or(|s| !blocked.contains(&s)));
        }
        Ok(found)
    }

    /// Messages by id, for batch loading. The caller must already have
    /// checked that the viewer may see them.
    pub async fn messages_by_ids(&self, ids: &[i64]) -> Result<HashMap<i64, message::Model>> {
        Ok(message::Entity::find()
            .filter(message::Column::Id.is_in(ids.iter().copied()))
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect())
    }
}
