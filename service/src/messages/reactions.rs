//! Reactions: one per user, message and emoji.
//!
//! Adding a reaction that exists, or removing one that does not, changes
//! nothing and logs nothing, so clients may retry freely. Reading them is
//! one grouped query for any number of messages.

use std::collections::HashMap;

use entity::{event::Kind as EventKind, reaction};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Set,
    TryInsertResult,
    sea_query::{Expr, ExprTrait, Func},
};
use serde_json::json;

use crate::{
    Actor, Service, Viewer,
    error::{Error, Result},
    events::NewEvent,
    messages::{Locked, lock_message, require_live_text},
    time::now,
    validate::{self, EMOJI_PER_MESSAGE, EMOJI_PER_PERSON},
};

/// One emoji's reactions to a message, as one viewer sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReactionGroup {
    pub emoji: String,
    pub count: i64,
    pub reacted_by_me: bool,
}

/// Refuses a new emoji group past [`EMOJI_PER_PERSON`] or
/// [`EMOJI_PER_MESSAGE`]; an emoji already on the message passes, whoever
/// put it there (joining never adds a group). Runs under the message's lock.
async fn make_room(
    db: &impl ConnectionTrait,
    message_id: i64,
    user_id: i64,
    emoji: &str,
) -> Result<()> {
    let emojis = |mine: bool| {
        let mut query = reaction::Entity::find()
            .select_only()
            .column(reaction::Column::Emoji)
            .distinct()
            .filter(reaction::Column::MessageId.eq(message_id));
        if mine {
            query = query.filter(reaction::Column::UserId.eq(user_id));
        }
        query.into_tuple::<String>().all(db)
    };
    // Joining an emoji that is already on the message (someone else's, or
    // one's own) adds no new group, so neither limit applies to it.
    let all = emojis(false).await?;
    if all.iter().any(|e| e == emoji) {
        return Ok(());
    }
    if all.len() >= EMOJI_PER_MESSAGE {
        return Err(Error::conflict(
            "emoji",
            format!("a message may carry at most {EMOJI_PER_MESSAGE} different emoji"),
        ));
    }
    let mine = emojis(true).await?;
    if mine.len() >= EMOJI_PER_PERSON {
        return Err(Error::conflict(
            "emoji",
            format!("one person may add at most {EMOJI_PER_PERSON} different emoji to a message"),
        ));
    }
    Ok(())
}

impl Service {
    /// Adds (`add`) or removes the viewer's reaction with `emoji` to a
    /// message of a conversation they are in. Returns the message.
    #[tracing::instrument(skip(self), fields(user_id = viewer.user_id))]
    pub async fn set_reaction(
        &self,
        viewer: &Viewer,
        message_id: i64,
        emoji: &str,
        add: bool,
    ) -> Result<entity::message::Model> {
        validate::emoji(emoji)?;
        let txn = self.write().await?;
        let Locked { message, .. } = lock_message(&*txn, &Actor::User(*viewer), message_id).await?;
        require_live_text(&message, "messageId")?;
        let changed = if add {
            make_room(&*txn, message.id, viewer.user_id, emoji).await?;
            let inserted = reaction::Entity::insert(reaction::ActiveModel {
                message_id: Set(message.id),
                user_id: Set(viewer.user_id),
                emoji: Set(emoji.to_owned()),
                created_at: Set(now()),
                ..Default::default()
            })
            .on_conflict_do_nothing_on([
                reaction::Column::MessageId,
                reaction::Column::Emoji,
                reaction::Column::UserId,
            ])
            .exec_without_returning(&*txn)
            .await?;
            matches!(inserted, TryInsertResult::Inserted(n) if n > 0)
        } else {
            reaction::Entity::delete_many()
                .filter(reaction::Column::MessageId.eq(message.id))
                .filter(reaction::Column::UserId.eq(viewer.user_id))
                .filter(reaction::Column::Emoji.eq(emoji))
                .exec(&*txn)
                .await?
                .rows_affected
                > 0
        };
        if !changed {
            // Nothing to log: the transaction rolls back on drop.
            return Ok(message);
        }
        let event = NewEvent::new(message.conversation_id, EventKind::ReactionChanged)
            .message(message.id)
            .user(viewer.user_id)
            .data(json!({ "emoji": emoji, "added": add }));
        self.commit_logged(txn, vec![event]).await?;
        Ok(message)
    }

    /// Each message's reactions grouped by emoji, in order of first use,
    /// with whether `viewer_id` is among them: one query for all of
    /// `message_ids`. Messages without reactions are missing. The caller
    /// must already have checked that the viewer may see the messages.
    pub async fn reactions(
        &self,
        viewer_id: i64,
        message_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<ReactionGroup>>> {
        let mine = Expr::case(reaction::Column::UserId.eq(viewer_id), 1).finally(0);
        // PostgreSQL counts and sums into BIGINT and NUMERIC; the casts
        // make both backends answer BIGINT.
        let rows: Vec<(i64, String, i64, i64)> = reaction::Entity::find()
            .select_only()
            .column(reaction::Column::MessageId)
            .column(reaction::Column::Emoji)
            .column_as(
                Expr::col(reaction::Column::Id).count().cast_as("BIGINT"),
                "count",
            )
            .column_as(Expr::expr(Func::sum(mine)).cast_as("BIGINT"), "mine")
            .filter(reaction::Column::MessageId.is_in(message_ids.iter().copied()))
            .group_by(reaction::Column::MessageId)
            .group_by(reaction::Column::Emoji)
            .order_by(
                Expr::expr(Func::min(Expr::col(reaction::Column::Id))),
                Order::Asc,
            )
            .into_tuple()
            .all(self.db())
            .await?;
        let mut out: HashMap<i64, Vec<ReactionGroup>> = HashMap::new();
        for (message_id, emoji, count, mine) in rows {
            out.entry(message_id).or_default().push(ReactionGroup {
                emoji,
                count,
                reacted_by_me: mine > 0,
            });
        }
        Ok(out)
    }
}
