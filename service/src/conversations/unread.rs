//! Each member's read state: unread counts, read pointers and muting's
//! effect on the total.
//!
//! Every read and write of unread counts is here but one: a send adds one
//! for every other member in the statement that also moves their inbox
//! (`messages::send_lanes`, the hot path). Each write runs under the
//! conversation's lock, so the counts stay exact: `mark_read` moves the
//! read pointer, [`uncount_deleted`] takes a deleted message out,
//! [`zero_unread`] empties a deleted conversation's counts and
//! [`recount_unread`] counts them afresh when it is restored.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{conversation, conversation_member, event::Kind as EventKind, message};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;

use crate::{
    Service, Viewer,
    error::{Error, Result},
    events::{Ephemeral, NewEvent},
    messages::unread_mentions_after,
    time::now,
};

/// A member's counts in one conversation and in total, as
/// [`Service::unread_now`] reads them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnreadNow {
    pub unread: i64,
    /// Over conversations that are not muted.
    pub total: i64,
    pub mentions: i64,
    /// Over every conversation, muted ones too.
    pub total_mentions: i64,
}

impl Service {
    /// A user's unread count in each of `conversation_ids`: other people's
    /// messages after the user's read pointer. Conversations the user is not
    /// in are missing.
    pub async fn unread_counts(
        &self,
        user_id: i64,
        conversation_ids: &[i64],
    ) -> Result<HashMap<i64, i64>> {
        self.membership_counts(
            conversation_member::Column::UnreadCount,
            user_id,
            conversation_ids,
        )
        .await
    }

    /// One count column of a user's memberships in `conversation_ids`, by
    /// conversation.
    async fn membership_counts(
        &self,
        column: conversation_member::Column,
        user_id: i64,
        conversation_ids: &[i64],
    ) -> Result<HashMap<i64, i64>> {
        let rows: Vec<(i64, i64)> = conversation_member::Entity::find()
            .select_only()
            .column(conversation_member::Column::ConversationId)
            .column(column)
            .filter(conversation_member::Column::UserId.eq(user_id))
            .filter(
                conversation_member::Column::ConversationId.is_in(conversation_ids.iter().copied()),
            )
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// The viewer's unread count across all their conversations but the
    /// muted ones. (A deleted conversation's counts are zeroed when it is
    /// deleted, so it needs no join here.)
    pub async fn total_unread(&self, viewer: &Viewer) -> Result<i64> {
        // PostgreSQL sums BIGINTs into NUMERIC; the cast brings it back.
        let sum = Expr::col(conversation_member::Column::UnreadCount)
            .sum()
            .cast_as("BIGINT");
        let total: Option<Option<i64>> = conversation_member::Entity::find()
            .select_only()
            .column_as(sum, "total")
            .filter(conversation_member::Column::UserId.eq(viewer.user_id))
            .filter(crate::conversations::not_muted(now()))
            .into_tuple()
            .one(self.db())
            .await?;
        Ok(total.flatten().unwrap_or(0))
    }

    /// A user's unread mentions in each of `conversation_ids` (missing:
    /// not a member).
    pub async fn unread_mention_counts(
        &self,
        user_id: i64,
        conversation_ids: &[i64],
    ) -> Result<HashMap<i64, i64>> {
        self.membership_counts(
            conversation_member::Column::UnreadMentions,
            user_id,
            conversation_ids,
        )
        .await
    }

    /// The viewer's unread mentions across all their conversations, muted
    /// ones included (a mention is meant to reach them).
    pub async fn total_unread_mentions(&self, viewer: &Viewer) -> Result<i64> {
        Ok(self.unread_now(viewer.user_id, 0).await?.total_mentions)
    }

    /// The viewer's unread count and mentions in one conversation and their
    /// totals (as [`Self::total_unread`] and
    /// [`Self::total_unread_mentions`]), in one statement.
    pub async fn unread_now(&self, user_id: i64, conversation_id: i64) -> Result<UnreadNow> {
        let this_one = || conversation_member::Column::ConversationId.eq(conversation_id);
        let count = Expr::col(conversation_member::Column::UnreadCount);
        let mentions = Expr::col(conversation_member::Column::UnreadMentions);
        let this = Expr::case(this_one(), count.clone())
            .finally(0)
            .sum()
            .cast_as("BIGINT");
        let total = Expr::case(crate::conversations::not_muted(now()), count)
            .finally(0)
            .sum()
            .cast_as("BIGINT");
        let this_mentions = Expr::case(this_one(), mentions.clone())
            .finally(0)
            .sum()
            .cast_as("BIGINT");
        let total_mentions = mentions.sum().cast_as("BIGINT");
        type Sums = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);
        let row: Option<Sums> = conversation_member::Entity::find()
            .select_only()
            .column_as(this, "this")
            .column_as(total, "total")
            .column_as(this_mentions, "this_mentions")
            .column_as(total_mentions, "total_mentions")
            .filter(conversation_member::Column::UserId.eq(user_id))
            .into_tuple()
            .one(self.db())
            .await?;
        let (this, total, this_mentions, total_mentions) = row.unwrap_or_default();
        Ok(UnreadNow {
            unread: this.unwrap_or(0),
            total: total.unwrap_or(0),
            mentions: this_mentions.unwrap_or(0),
            total_mentions: total_mentions.unwrap_or(0),
        })
    }

    /// Moves the viewer's read pointer forward to `up_to_seq` (the newest
    /// message when `None`); never back.
    #[tracing::instrument(skip(self), fields(user_id = viewer.user_id))]
    pub async fn mark_read(
        &self,
        viewer: &Viewer,
        conversation_id: i64,
        up_to_seq: Option<i64>,
    ) -> Result<conversation::Model> {
        if up_to_seq.is_some_and(|seq| seq < 0) {
            return Err(Error::invalid("upToSeq", "must not be negative"));
        }
        let txn = self.write().await?;
        // Locks the conversation's row on PostgreSQL (SQLite's write lock
        // is already held), so no send slips in between the count below and
        // the update: the unread count stays exact.
        // A deleted conversation is not read into anyone's counts.
        let conversation = crate::conversations::lock_conversation(&*txn, conversation_id).await?;
        let target = up_to_seq.map_or(conversation.last_seq, |seq| {
            Ord::min(seq, conversation.last_seq)
        });
        let remaining = unread_after(&*txn, viewer.user_id, conversation_id, target).await?;
        let mentions =
            unread_mentions_after(&*txn, viewer.user_id, conversation_id, target).await?;
        let updated = conversation_member::Entity::update_many()
            .col_expr(
                conversation_member::Column::LastReadSeq,
                Expr::value(target),
            )
            .col_expr(
                conversation_member::Column::UnreadCount,
                Expr::value(remaining),
            )
            .col_expr(
                conversation_member::Column::UnreadMentions,
                Expr::value(mentions),
            )
            // Reading implies receiving: the delivered pointer follows.
            .col_expr(
                conversation_member::Column::LastDeliveredSeq,
                Expr::case(
                    Expr::col(conversation_member::Column::LastDeliveredSeq).lt(target),
                    Expr::value(target),
                )
                .finally(Expr::col(conversation_member::Column::LastDeliveredSeq))
                .into(),
            )
            .filter(conversation_member::Column::ConversationId.eq(conversation_id))
            .filter(conversation_member::Column::UserId.eq(viewer.user_id))
            .filter(conversation_member::Column::LastReadSeq.lt(target))
            .exec(&*txn)
            .await?;
        if updated.rows_affected == 0 {
            // Either already read that far, or not a member at all.
            drop(txn);
            return self.conversation(viewer, conversation_id).await;
        }
        self.commit_read(txn, &conversation, viewer, target, remaining)
            .await?;
        Ok(conversation)
    }
}

impl Service {
    /// Moves the viewer's read pointer back on purpose, to just before
    /// `from_seq`, so that message and everything after it (other people's)
    /// count as unread again, mentions included. Logs the `ReadReceipt`
    /// that brings the viewer's other clients (and the other members) up to
    /// date; a pointer already there changes nothing and logs nothing.
    #[tracing::instrument(skip(self), fields(user_id = viewer.user_id))]
    pub async fn mark_unread(
        &self,
        viewer: &Viewer,
        conversation_id: i64,
        from_seq: i64,
    ) -> Result<conversation::Model> {
        if from_seq < 1 {
            return Err(Error::invalid("fromSeq", "must be at least 1"));
        }
        let txn = self.write().await?;
        // Under the conversation's lock, as `mark_read` and sends: the
        // counts below stay exact until commit.
        let conversation = crate::conversations::lock_conversation(&*txn, conversation_id).await?;
        let member = conversation_member::Entity::find_by_id((conversation_id, viewer.user_id))
            .one(&*txn)
            .await?
            .ok_or(Error::NotFound("conversation"))?;
        if from_seq > conversation.last_seq {
            return Err(Error::invalid(
                "fromSeq",
                "must not be after the conversation's newest message",
            ));
        }
        // Nothing before a since-joined member's history counts for them.
        let floor = super::access::history_floor(&*txn, &conversation, viewer.user_id).await?;
        let target = Ord::max(from_seq, floor) - 1;
        if member.last_read_seq == target {
            return Ok(conversation);
        }
        let remaining = unread_after(&*txn, viewer.user_id, conversation_id, target).await?;
        let mentions =
            unread_mentions_after(&*txn, viewer.user_id, conversation_id, target).await?;
        conversation_member::Entity::update_many()
            .col_expr(
                conversation_member::Column::LastReadSeq,
                Expr::value(target),
            )
            .col_expr(
                conversation_member::Column::UnreadCount,
                Expr::value(remaining),
            )
            .col_expr(
                conversation_member::Column::UnreadMentions,
                Expr::value(mentions),
            )
            .filter(conversation_member::Column::ConversationId.eq(conversation_id))
            .filter(conversation_member::Column::UserId.eq(viewer.user_id))
            .exec(&*txn)
            .await?;
        self.commit_read(txn, &conversation, viewer, target, remaining)
            .await?;
        Ok(conversation)
    }
}

impl Service {
    /// Commits a move of the viewer's read pointer to `seq` with its
    /// receipt. In a direct conversation the other person's clients follow
    /// the logged receipt (`Message.status`). In a group, logging it for
    /// every member would make each read cost a delivery to each of them, a
    /// message read by a 1,000-member group a million: only the reader's
    /// own clients get it from the log (their unread counts stay exact
    /// across reconnects), the others' live clients get it as a live event,
    /// and the member list keeps each pointer.
    async fn commit_read(
        &self,
        txn: crate::db::WriteTx,
        conversation: &conversation::Model,
        viewer: &Viewer,
        seq: i64,
        unread: i64,
    ) -> Result<()> {
        let mut receipt = NewEvent::new(conversation.id, EventKind::ReadReceipt)
            .user(viewer.user_id)
            .data(json!({ "seq": seq, "unreadCount": unread }));
        let group = conversation.kind == conversation::Kind::Group;
        if group {
            receipt = receipt.only_for(viewer.user_id);
        }
        self.commit_logged(txn, vec![receipt]).await?;
        if group {
            self.bus().publish_ephemeral(Ephemeral::Read {
                conversation_id: conversation.id,
                user_id: viewer.user_id,
                seq,
            });
        }
        Ok(())
    }
}

/// Other people's messages in a conversation after `seq`: what a member
/// whose read pointer is at `seq` has not read. `<>` is never true for
/// NULL, so messages without a sender (system notices) never count;
/// imported history (with an external id) and deleted messages
/// (tombstones) never count either.
pub(crate) async fn unread_after<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    conversation_id: i64,
    seq: i64,
) -> Result<i64> {
    let count = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::Seq.gt(seq))
        .filter(crate::accounts::counts_for(user_id))
        .filter(message::Column::ExternalId.is_null())
        .filter(message::Column::DeletedAt.is_null())
        .count(db)
        .await?;
    Ok(count as i64)
}

/// Memberships whose mute is off or has run out at `at`.
pub(crate) fn not_muted(at: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(conversation_member::Column::Muted.eq(false))
        .add(conversation_member::Column::MutedUntil.lte(at))
}

/// Each member's unread count, counted afresh (after a restore).
pub(crate) async fn recount_unread<C: ConnectionTrait>(db: &C, conversation_id: i64) -> Result<()> {
    let members = conversation_member::Entity::find()
        .filter(conversation_member::Column::ConversationId.eq(conversation_id))
        .all(db)
        .await?;
    for member in members {
        let unread =
            unread_after(db, member.user_id, conversation_id, member.last_read_seq).await?;
        let mentions =
            unread_mentions_after(db, member.user_id, conversation_id, member.last_read_seq)
                .await?;
        conversation_member::Entity::update_many()
            .col_expr(
                conversation_member::Column::UnreadCount,
                Expr::value(unread),
            )
            .col_expr(
                conversation_member::Column::UnreadMentions,
                Expr::value(mentions),
            )
            .filter(conversation_member::Column::ConversationId.eq(conversation_id))
            .filter(conversation_member::Column::UserId.eq(member.user_id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// One unread fewer for exactly the members who counted `message`, which
/// is being deleted: not its sender, and read pointers before it. Imported
/// history never counted (see [`unread_after`]). The guard keeps a count
/// that drifted from going negative.
pub(crate) async fn uncount_deleted<C: ConnectionTrait>(
    db: &C,
    message: &message::Model,
) -> Result<()> {
    if let Some(sender) = message.sender_id
        && message.external_id.is_none()
    {
        conversation_member::Entity::update_many()
            .col_expr(
                conversation_member::Column::UnreadCount,
                Expr::col(conversation_member::Column::UnreadCount).sub(1),
            )
            .filter(conversation_member::Column::ConversationId.eq(message.conversation_id))
            .filter(conversation_member::Column::UserId.ne(sender))
            .filter(crate::accounts::blocks_sender(sender).not())
            .filter(conversation_member::Column::LastReadSeq.lt(message.seq))
            .filter(conversation_member::Column::UnreadCount.gt(0))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Every member's count zeroed: a deleted conversation counts nothing
/// (restoring recounts, with [`recount_unread`]).
pub(crate) async fn zero_unread<C: ConnectionTrait>(db: &C, conversation_id: i64) -> Result<()> {
    conversation_member::Entity::update_many()
        .col_expr(conversation_member::Column::UnreadCount, Expr::value(0))
        .col_expr(conversation_member::Column::UnreadMentions, Expr::value(0))
        .filter(conversation_member::Column::ConversationId.eq(conversation_id))
        .exec(db)
        .await?;
    Ok(())
}
