//! The statements of one batch of sends, set-based.
//!
//! A batch of n sends used to cost 3n statements (the seq bump, every
//! member's row, the insert), each a round trip and a parse, plan and
//! execute in PostgreSQL, which is most of what a send costs once commits
//! are shared. Here a batch costs the same handful of statements whatever
//! its size: lock its conversations, check senders and client ids, bump
//! every seq, update every membership, insert every message.
//!
//! Every check is made under the conversations' locks, before the first
//! write: a send that cannot be stored (its sender is not a member, its
//! client id is taken, its conversation is gone) is answered without
//! spoiling the others. Only a reply whose target turns out wrong fails
//! after writes have begun; the lane then stores the batch again without
//! it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{
    conversation::{self, Kind},
    conversation_member, message, user_block,
};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{CaseStatement, Expr, ExprTrait, SimpleExpr},
};

use crate::{
    accounts::{DIRECT_BLOCKED, blocks_sender},
    conversations::{CONVERSATION_LOCK, member_ids, title_from},
    db::WriteTx,
    error::{Error, Internal, Result},
    events::NewEvent,
    messages::{Draft, Stored, join_thread, mentions},
    time::now,
};

/// What became of each draft of a batch, in order.
pub(crate) enum Outcome {
    /// Stored as this message (or a copy of an earlier draft of the batch
    /// with the same client id), with the events of the mentions stored
    /// beside them, by message.
    Stored(Vec<Stored>, HashMap<i64, Vec<NewEvent>>),
    /// These drafts must be answered so and left out; nothing was written.
    Refused(Vec<(usize, Result<Stored>)>),
}

/// One conversation's share of the batch.
struct Share {
    /// The drafts stored in it, in order.
    drafts: Vec<usize>,
    last_seq: i64,
    at: DateTime<Utc>,
    /// Set when the batch names an untitled group.
    title: Option<String>,
}

/// Stores `drafts` (sorted by conversation) in `txn`, or says which of them
/// must be refused first.
pub(crate) async fn store(txn: &WriteTx, drafts: &[&Draft]) -> Result<Outcome> {
    // Retries of one client id inside the batch store one message.
    let mut first_of: HashMap<(i64, i64, &str), usize> = HashMap::new();
    let mut copy_of: HashMap<usize, usize> = HashMap::new();
    for (index, d) in drafts.iter().enumerate() {
        if let Some(key) = d.client_message_id.as_deref() {
            let key = (d.conversation_id, d.viewer.user_id, key);
            match first_of.get(&key) {
                Some(first) => {
                    copy_of.insert(index, *first);
                }
                None => {
                    first_of.insert(key, index);
                }
            }
        }
    }
    let own: Vec<usize> = (0..drafts.len())
        .filter(|i| !copy_of.contains_key(i))
        .collect();

    let (locked, refused) = check(txn, drafts, &own, &first_of).await?;
    if !refused.is_empty() {
        return Ok(Outcome::Refused(refused));
    }

    // Seqs, in draft order per conversation.
    let at = now();
    let mut shares: Vec<(conversation::Model, Share)> = locked
        .into_iter()
        .map(|c| {
            let share = Share {
                drafts: Vec::new(),
                last_seq: c.last_seq,
                at: Ord::max(c.last_activity_at, at),
                title: None,
            };
            (c, share)
        })
        .collect();
    let mut seq_of: HashMap<usize, i64> = HashMap::new();
    for &index in &own {
        let d = drafts[index];
        let Some((c, share)) = shares.iter_mut().find(|(c, _)| c.id == d.conversation_id) else {
            continue;
        };
        share.last_seq += 1;
        seq_of.insert(index, share.last_seq);
        share.drafts.push(index);
        // A group created without a title is named by its first message
        // with words (a bare image or an empty streamed start leaves it to
        // the next one).
        if c.kind == Kind::Group
            && c.title.is_none()
            && share.title.is_none()
            && !d.content.body.is_empty()
        {
            share.title = Some(title_from(&d.content.body));
        }
    }

    // Replies: checked and counted in their threads.
    let mut thread_of: HashMap<usize, i64> = HashMap::new();
    for &index in &own {
        let d = drafts[index];
        if let Some(target) = d.reply_to_id {
            let created_at = share_of(&shares, d.conversation_id)?.at;
            match join_thread(&**txn, d.conversation_id, target, created_at).await {
                Ok(root) => {
                    thread_of.insert(index, root);
                }
                Err(err) => return Ok(Outcome::Refused(vec![(index, Err(err))])),
            }
        }
    }

    bump_conversations(txn, &shares).await?;
    update_members(txn, drafts, &shares, &seq_of).await?;

    let mut models = Vec::with_capacity(own.len());
    for &index in &own {
        let d = drafts[index];
        models.push(message::ActiveModel {
            conversation_id: Set(d.conversation_id),
            seq: Set(seq_of[&index]),
            sender_id: Set(Some(d.viewer.user_id)),
            body: Set(d.content.body.clone()),
            client_message_id: Set(d.client_message_id.clone()),
            // Taken under the lock, so creation times follow seq order.
            created_at: Set(share_of(&shares, d.conversation_id)?.at),
            kind: Set(d.content.kind),
            metadata: Set(d.content.metadata.clone()),
            attachments: Set(d.content.attachments.clone()),
            streaming: Set(d.content.streaming),
            streamed_at: Set(d
                .content
                .streaming
                .then_some(share_of(&shares, d.conversation_id)?.at)),
            reply_to_id: Set(d.reply_to_id),
            thread_root_id: Set(thread_of.get(&index).copied()),
            ..Default::default()
        });
    }
    let inserted = message::Entity::insert_many(models)
        .exec_with_returning(&**txn)
        .await?;
    let mut by_seq: HashMap<(i64, i64), message::Model> = inserted
        .into_iter()
        .map(|m| ((m.conversation_id, m.seq), m))
        .collect();
    let mentioned = store_mentions(txn, drafts, &own, &seq_of, &by_seq).await?;
    let mut stored: Vec<Stored> = Vec::with_capacity(drafts.len());
    for index in 0..drafts.len() {
        let answer = match copy_of.get(&index) {
            Some(first) => stored[*first].clone(),
            None => {
                let key = (drafts[index].conversation_id, seq_of[&index]);
                let message = by_seq.remove(&key).ok_or(Internal::BatchFailed)?;
                Stored::Message(message)
            }
        };
        stored.push(answer);
    }
    Ok(Outcome::Stored(stored, mentioned))
}

/// The mentions of the drafts that name someone (`@` in the body, or ids):
/// stored as mentions of members, with their events, by message. Nothing
/// is read for the others.
async fn store_mentions(
    txn: &WriteTx,
    drafts: &[&Draft],
    own: &[usize],
    seq_of: &HashMap<usize, i64>,
    by_seq: &HashMap<(i64, i64), message::Model>,
) -> Result<HashMap<i64, Vec<NewEvent>>> {
    let mut events = HashMap::new();
    let mut members: HashMap<i64, HashSet<i64>> = HashMap::new();
    for &index in own {
        let d = drafts[index];
        if d.mentions.is_empty() && !d.content.body.contains('@') {
            continue;
        }
        let Some(message) = by_seq.get(&(d.conversation_id, seq_of[&index])) else {
            continue;
        };
        let in_conversation = match members.entry(d.conversation_id) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => slot.insert(
                member_ids(&**txn, d.conversation_id)
                    .await?
                    .into_iter()
                    .collect(),
            ),
        };
        let named = mentions::resolve(
            &**txn,
            in_conversation,
            Some(d.viewer.user_id),
            &d.content.body,
            &d.mentions,
        )
        .await?;
        events.insert(message.id, mentions::store(&**txn, message, &named).await?);
    }
    Ok(events)
}

/// The checks made before anything is written: the conversation exists,
/// the sender is a member (both read under the conversations' locks, so a
/// member removed a moment ago is refused), and the client id is not taken
/// (only a send to the same conversation could take it, and that waits for
/// the lock).
async fn check(
    txn: &WriteTx,
    drafts: &[&Draft],
    own: &[usize],
    first_of: &HashMap<(i64, i64, &str), usize>,
) -> Result<(Vec<conversation::Model>, Vec<(usize, Result<Stored>)>)> {
    let conversation_ids: Vec<i64> = dedup(own.iter().map(|i| drafts[*i].conversation_id));
    // Locked in id order, as every writer that takes several does, so
    // batches of different instances cannot deadlock.
    let locked = conversation::Entity::find()
        .filter(conversation::Column::Id.is_in(conversation_ids.iter().copied()))
        .filter(conversation::Column::DeletedAt.is_null())
        .order_by_asc(conversation::Column::Id)
        .lock(CONVERSATION_LOCK)
        .all(&**txn)
        .await?;
    let live: HashSet<i64> = locked.iter().map(|c| c.id).collect();
    let senders: HashSet<i64> = own.iter().map(|i| drafts[*i].viewer.user_id).collect();
    let direct: Vec<i64> = locked
        .iter()
        .filter(|c| c.kind == Kind::Direct)
        .map(|c| c.id)
        .collect();
    // The senders' memberships, and both of every direct conversation's.
    let members: HashSet<(i64, i64)> = conversation_member::Entity::find()
        .select_only()
        .column(conversation_member::Column::ConversationId)
        .column(conversation_member::Column::UserId)
        .filter(conversation_member::Column::ConversationId.is_in(conversation_ids.iter().copied()))
        .filter(
            Condition::any()
                .add(conversation_member::Column::UserId.is_in(senders.iter().copied()))
                .add(conversation_member::Column::ConversationId.is_in(direct.iter().copied())),
        )
        .into_tuple::<(i64, i64)>()
        .all(&**txn)
        .await?
        .into_iter()
        .collect();
    // A pair where either blocks the other has no direct messages.
    let blocked_pairs: HashSet<(i64, i64)> = if direct.is_empty() {
        HashSet::new()
    } else {
        let people: HashSet<i64> = members
            .iter()
            .filter(|(c, _)| direct.contains(c))
            .map(|(_, u)| *u)
            .collect();
        user_block::Entity::find()
            .select_only()
            .column(user_block::Column::BlockerId)
            .column(user_block::Column::BlockedId)
            .filter(user_block::Column::BlockerId.is_in(people.iter().copied()))
            .filter(user_block::Column::BlockedId.is_in(people.iter().copied()))
            .into_tuple::<(i64, i64)>()
            .all(&**txn)
            .await?
            .into_iter()
            .collect()
    };
    let blocked_direct = |c: i64, me: i64| {
        direct.contains(&c)
            && members.iter().any(|&(mc, other)| {
                mc == c
                    && other != me
                    && (blocked_pairs.contains(&(me, other))
                        || blocked_pairs.contains(&(other, me)))
            })
    };
    let taken: HashSet<(i64, i64, String)> = if first_of.is_empty() {
        HashSet::new()
    } else {
        message::Entity::find()
            .select_only()
            .column(message::Column::ConversationId)
            .column(message::Column::SenderId)
            .column(message::Column::ClientMessageId)
            .filter(message::Column::ConversationId.is_in(conversation_ids.iter().copied()))
            .filter(
                message::Column::ClientMessageId
                    .is_in(first_of.keys().map(|(_, _, key)| (*key).to_owned())),
            )
            .into_tuple::<(i64, Option<i64>, Option<String>)>()
            .all(&**txn)
            .await?
            .into_iter()
            .filter_map(|(c, sender, key)| Some((c, sender?, key?)))
            .collect()
    };
    let mut refused = Vec::new();
    for &index in own {
        let d = drafts[index];
        let (c, me) = (d.conversation_id, d.viewer.user_id);
        // A non-member learns nothing about the target.
        if !live.contains(&c) || !members.contains(&(c, me)) {
            refused.push((index, Err(Error::NotFound("conversation"))));
        } else if blocked_direct(c, me) {
            refused.push((index, Err(Error::Forbidden(DIRECT_BLOCKED))));
        } else if let Some(key) = &d.client_message_id
            && taken.contains(&(c, me, key.clone()))
        {
            // Stored and committed by an earlier send: the caller reads it.
            refused.push((index, Ok(Stored::DuplicateClientId)));
        }
    }
    Ok((locked, refused))
}

/// The share of a stored draft's conversation (every one has one: drafts
/// of conversations that are gone were refused).
fn share_of(shares: &[(conversation::Model, Share)], conversation_id: i64) -> Result<&Share> {
    shares
        .iter()
        .find(|(c, _)| c.id == conversation_id)
        .map(|(_, share)| share)
        .ok_or_else(|| Internal::BatchFailed.into())
}

/// One statement: every conversation's new last seq and activity time,
/// and the title of groups the batch names.
async fn bump_conversations(txn: &WriteTx, shares: &[(conversation::Model, Share)]) -> Result<()> {
    let by_id = |value: &dyn Fn(&Share) -> Option<SimpleExpr>, column: conversation::Column| {
        let mut case = CaseStatement::new();
        for (c, share) in shares {
            if let Some(v) = value(share) {
                case = case.case(Expr::col(conversation::Column::Id).eq(c.id), v);
            }
        }
        case.finally(Expr::col(column)).into()
    };
    let mut update = conversation::Entity::update_many()
        .col_expr(
            conversation::Column::LastSeq,
            by_id(
                &|s| Some(Expr::value(s.last_seq)),
                conversation::Column::LastSeq,
            ),
        )
        .col_expr(
            conversation::Column::LastActivityAt,
            by_id(
                &|s| Some(Expr::value(s.at)),
                conversation::Column::LastActivityAt,
            ),
        );
    if shares.iter().any(|(_, s)| s.title.is_some()) {
        update = update.col_expr(
            conversation::Column::Title,
            by_id(
                &|s| s.title.clone().map(Expr::value),
                conversation::Column::Title,
            ),
        );
    }
    update
        .filter(conversation::Column::Id.is_in(shares.iter().map(|(c, _)| c.id)))
        .exec(&**txn)
        .await?;
    Ok(())
}

/// One statement for every membership of the batch's conversations: a
/// sender has read (and received) up to their own last message and has
/// unread only what came after it; everyone else has the conversation's
/// new messages unread; all get the new inbox key, and the conversation
/// leaves everyone's archive.
async fn update_members(
    txn: &WriteTx,
    drafts: &[&Draft],
    shares: &[(conversation::Model, Share)],
    seq_of: &HashMap<usize, i64>,
) -> Result<()> {
    use conversation_member::Column as M;
    // (conversation, sender) -> their last seq, and the batch's messages
    // after it by each other sender.
    let mut senders: Vec<(Key, SenderShare)> = Vec::new();
    // conversation -> the batch's messages by each sender.
    let mut by_sender: HashMap<i64, HashMap<i64, i64>> = HashMap::new();
    for (c, share) in shares {
        for &index in &share.drafts {
            let me = drafts[index].viewer.user_id;
            let seq = seq_of[&index];
            *by_sender.entry(c.id).or_default().entry(me).or_default() += 1;
            match senders.iter_mut().find(|(key, _)| *key == (c.id, me)) {
                Some((_, last)) => *last = (seq, HashMap::new()),
                None => senders.push(((c.id, me), (seq, HashMap::new()))),
            }
            for ((conversation_id, user_id), (_, after)) in senders.iter_mut() {
                if *conversation_id == c.id && *user_id != me {
                    *after.entry(me).or_default() += 1;
                }
            }
        }
    }
    // `counts` messages by each sender, except those the member whose row
    // it is blocks (they do not count as unread for them).
    let unblocked = |base: Expr, counts: &HashMap<i64, i64>| {
        counts.iter().fold(base, |sum, (sender, n)| {
            let term: Expr = Expr::case(blocks_sender(*sender), Expr::value(0i64))
                .finally(Expr::value(*n))
                .into();
            sum.add(term)
        })
    };
    let is = |(c, u): (i64, i64)| {
        Expr::col(M::ConversationId)
            .eq(c)
            .and(Expr::col(M::UserId).eq(u))
    };
    let mut unread = CaseStatement::new();
    for (key, (_, after)) in &senders {
        unread = unread.case(is(*key), unblocked(Expr::value(0i64), after));
    }
    for (c, counts) in &by_sender {
        unread = unread.case(
            Expr::col(M::ConversationId).eq(*c),
            unblocked(Expr::col(M::UnreadCount), counts),
        );
    }
    let unread: Expr = unread.finally(Expr::col(M::UnreadCount)).into();
    let per_sender = |value: &dyn Fn(i64) -> i64, otherwise: SimpleExpr| {
        let mut case = CaseStatement::new();
        for (key, (last, _)) in &senders {
            case = case.case(is(*key), Expr::value(value(*last)));
        }
        case.finally(otherwise).into()
    };
    let per_conversation = |value: &dyn Fn(&Share) -> SimpleExpr, otherwise: SimpleExpr| {
        let mut case = CaseStatement::new();
        for (c, share) in shares {
            case = case.case(Expr::col(M::ConversationId).eq(c.id), value(share));
        }
        case.finally(otherwise).into()
    };
    conversation_member::Entity::update_many()
        .col_expr(
            M::LastReadSeq,
            per_sender(&|seq| seq, Expr::col(M::LastReadSeq)),
        )
        .col_expr(
            M::LastDeliveredSeq,
            per_sender(&|seq| seq, Expr::col(M::LastDeliveredSeq)),
        )
        .col_expr(M::UnreadCount, unread)
        // Read up to their own message: the sender's mentions too.
        .col_expr(
            M::UnreadMentions,
            per_sender(&|_| 0, Expr::col(M::UnreadMentions)),
        )
        .col_expr(
            M::LastActivityAt,
            per_conversation(&|s| Expr::value(s.at), Expr::col(M::LastActivityAt)),
        )
        .col_expr(M::Archived, Expr::value(false))
        .filter(M::ConversationId.is_in(shares.iter().map(|(c, _)| c.id)))
        .exec(&**txn)
        .await?;
    Ok(())
}

/// `(conversation id, user id)`.
type Key = (i64, i64);

/// A sender's last seq in a batch, and how many of the batch's messages
/// after it each other sender wrote.
type SenderShare = (i64, HashMap<i64, i64>);

/// The distinct values of a sorted sequence.
fn dedup(values: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut out: Vec<i64> = values.collect();
    out.dedup();
    out
}
