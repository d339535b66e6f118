//! Mentions: `@username` in a body, or ids the client resolved itself,
//! stored as mentions of members of the message's conversation.
//!
//! Only members count: a name or id of anyone else is ignored (an id of a
//! non-member is not an error, so a client cannot probe who is in a
//! conversation), and the sender naming themself does not count. Each
//! mentioned member gets one `Mention` event, visible to them only, in the
//! message's transaction, and one more in `unread_mentions` while the
//! message is after their read pointer. Muting a conversation hides its
//! unread count from the total, not its mentions.
//!
//! A send whose body has no `@` and that names no ids costs nothing here.

use std::collections::{HashMap, HashSet};

use entity::{conversation_member, event::Kind as EventKind, message, message_mention, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    Service,
    error::Result,
    events::NewEvent,
    validate::{MENTIONS_MAX, mention_names},
};

/// A member a message mentions, and whether by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mentioned {
    pub user_id: i64,
    pub explicit: bool,
}

/// Whom `body` and `explicit` mention among `members` (the conversation's
/// members' ids), leaving out `sender`: explicit ids first, then names in
/// the order they appear, at most [`MENTIONS_MAX`]. One query, and only
/// when the body has an `@`.
pub(crate) async fn resolve<C: ConnectionTrait>(
    db: &C,
    members: &HashSet<i64>,
    sender: Option<i64>,
    body: &str,
    explicit: &[i64],
) -> Result<Vec<Mentioned>> {
    let mut out: Vec<Mentioned> = Vec::new();
    let add = |user_id: i64, explicit: bool, out: &mut Vec<Mentioned>| {
        if Some(user_id) != sender
            && members.contains(&user_id)
            && out.len() < MENTIONS_MAX
            && !out.iter().any(|m| m.user_id == user_id)
        {
            out.push(Mentioned { user_id, explicit });
        }
    };
    for id in explicit {
        add(*id, true, &mut out);
    }
    if !body.contains('@') {
        return Ok(out);
    }
    let names = mention_names(body);
    if names.is_empty() {
        return Ok(out);
    }
    let found: HashMap<String, i64> = user::Entity::find()
        .select_only()
        .column(user::Column::UsernameKey)
        .column(user::Column::Id)
        .filter(user::Column::UsernameKey.is_in(names.iter().cloned()))
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    for name in &names {
        if let Some(id) = found.get(name) {
            add(*id, false, &mut out);
        }
    }
    Ok(out)
}

/// Stores `mentioned` for `message`, counts them unread for members whose
/// pointer is before it, and returns their `Mention` events.
pub(crate) async fn store<C: ConnectionTrait>(
    db: &C,
    message: &message::Model,
    mentioned: &[Mentioned],
) -> Result<Vec<NewEvent>> {
    if mentioned.is_empty() {
        return Ok(Vec::new());
    }
    message_mention::Entity::insert_many(mentioned.iter().map(|m| message_mention::ActiveModel {
        message_id: Set(message.id),
        user_id: Set(m.user_id),
        conversation_id: Set(message.conversation_id),
        seq: Set(message.seq),
        explicit: Set(m.explicit),
    }))
    .exec_without_returning(db)
    .await?;
    let ids: Vec<i64> = mentioned.iter().map(|m| m.user_id).collect();
    count_unread(db, message, &ids, 1).await?;
    Ok(ids
        .into_iter()
        .map(|user_id| {
            NewEvent::new(message.conversation_id, EventKind::Mention)
                .message(message.id)
                .user(user_id)
                .only_for(user_id)
        })
        .collect())
}

/// Adds `delta` to the unread mentions of `users` who have not read
/// `message` (never below zero).
async fn count_unread<C: ConnectionTrait>(
    db: &C,
    message: &message::Model,
    users: &[i64],
    delta: i64,
) -> Result<()> {
    if users.is_empty() {
        return Ok(());
    }
    let mut update = conversation_member::Entity::update_many()
        .col_expr(
            conversation_member::Column::UnreadMentions,
            Expr::col(conversation_member::Column::UnreadMentions).add(delta),
        )
        .filter(conversation_member::Column::ConversationId.eq(message.conversation_id))
        .filter(conversation_member::Column::UserId.is_in(users.iter().copied()))
        .filter(conversation_member::Column::LastReadSeq.lt(message.seq));
    if delta < 0 {
        update = update.filter(conversation_member::Column::UnreadMentions.gt(0));
    }
    update.exec(db).await?;
    Ok(())
}

/// The mentions of a message being deleted go, and with them their unread
/// counts.
pub(crate) async fn forget<C: ConnectionTrait>(db: &C, message: &message::Model) -> Result<()> {
    let users = mentioned_users(db, message.id).await?;
    let ids: Vec<i64> = users.iter().map(|m| m.user_id).collect();
    count_unread(db, message, &ids, -1).await?;
    message_mention::Entity::delete_many()
        .filter(message_mention::Column::MessageId.eq(message.id))
        .exec(db)
        .await?;
    Ok(())
}

/// After an edit: the names in the new body (and the explicit ids, which
/// stay) are the mentions now. Removed ones go; added ones are stored and
/// returned as events.
pub(crate) async fn reparse<C: ConnectionTrait>(
    db: &C,
    message: &message::Model,
) -> Result<Vec<NewEvent>> {
    let before = mentioned_users(db, message.id).await?;
    if before.is_empty() && !message.body.contains('@') {
        return Ok(Vec::new());
    }
    let members: HashSet<i64> = conversation_member::Entity::find()
        .select_only()
        .column(conversation_member::Column::UserId)
        .filter(conversation_member::Column::ConversationId.eq(message.conversation_id))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let explicit: Vec<i64> = before
        .iter()
        .filter(|m| m.explicit)
        .map(|m| m.user_id)
        .collect();
    let now = resolve(db, &members, message.sender_id, &message.body, &explicit).await?;
    let gone: Vec<i64> = before
        .iter()
        .filter(|b| !now.iter().any(|n| n.user_id == b.user_id))
        .map(|b| b.user_id)
        .collect();
    if !gone.is_empty() {
        count_unread(db, message, &gone, -1).await?;
        message_mention::Entity::delete_many()
            .filter(message_mention::Column::MessageId.eq(message.id))
            .filter(message_mention::Column::UserId.is_in(gone.iter().copied()))
            .exec(db)
            .await?;
    }
    let added: Vec<Mentioned> = now
        .into_iter()
        .filter(|n| !before.iter().any(|b| b.user_id == n.user_id))
        .collect();
    store(db, message, &added).await
}

async fn mentioned_users<C: ConnectionTrait>(db: &C, message_id: i64) -> Result<Vec<Mentioned>> {
    Ok(message_mention::Entity::find()
        .filter(message_mention::Column::MessageId.eq(message_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| Mentioned {
            user_id: m.user_id,
            explicit: m.explicit,
        })
        .collect())
}

/// A member's messages after `seq` that mention them: their unread
/// mentions with the read pointer at `seq`.
pub(crate) async fn unread_mentions_after<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    conversation_id: i64,
    seq: i64,
) -> Result<i64> {
    use sea_orm::PaginatorTrait;
    Ok(message_mention::Entity::find()
        .filter(message_mention::Column::UserId.eq(user_id))
        .filter(message_mention::Column::ConversationId.eq(conversation_id))
        .filter(message_mention::Column::Seq.gt(seq))
        .count(db)
        .await? as i64)
}

impl Service {
    /// The users each of `message_ids` mentions, by user id: one query. The caller must already have checked that the
    /// viewer may see the messages.
    pub async fn mentions_of(&self, message_ids: &[i64]) -> Result<HashMap<i64, Vec<i64>>> {
        let rows: Vec<(i64, i64)> = message_mention::Entity::find()
            .select_only()
            .column(message_mention::Column::MessageId)
            .column(message_mention::Column::UserId)
            .filter(message_mention::Column::MessageId.is_in(message_ids.iter().copied()))
            .order_by_asc(message_mention::Column::MessageId)
            .order_by_asc(message_mention::Column::UserId)
            .into_tuple()
            .all(self.db())
            .await?;
        let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
        for (message, user) in rows {
            out.entry(message).or_default().push(user);
        }
        Ok(out)
    }
}
