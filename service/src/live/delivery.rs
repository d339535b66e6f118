//! Delivery receipts: how far each member's clients have received.
//!
//! A member's delivered pointer moves when one of their clients gets
//! messages: a page of `messages`, a `messageAdded` item, or an explicit
//! `markDelivered` (clients fed through other channels). In a group of
//! 1,000 followers, every message would otherwise cost 1,000 writes, so
//! receipts are coalesced in memory per (member, conversation), keeping the
//! highest seq, and a flusher task writes each pending pair at most once
//! per `Settings::delivery_flush`: one conditional UPDATE for up to
//! [`FLUSH_BATCH`] pairs. In direct conversations it logs a
//! `DeliveryReceipt` event for each row that moved, which `Message.status`
//! and the other person's clients follow; in groups the pointer is all
//! there is (a member list shows it), so a group costs no event per member.
//! A flush locks the conversations it writes to in id order first, as sends
//! do, so it waits for them (and they for it, two statements long) instead
//! of deadlocking on PostgreSQL.
//!
//! A pending pair stays in the map until its write has committed, so the
//! API can answer with the higher of the stored and the pending value
//! without a window in which neither shows it. Receipts not yet written
//! when the process dies are lost; the next fetch or live message moves
//! the pointer again. The UPDATE only ever raises the column, so flushes
//! that overlap (the timer and an explicit [`Service::flush_deliveries`],
//! or two instances) write nothing twice.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use entity::{conversation, conversation_member, event::Kind as EventKind, message};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use serde_json::json;
use tokio::sync::mpsc;

use crate::{
    Service, Viewer,
    conversations::CONVERSATION_LOCK,
    error::{Error, Result},
    events::NewEvent,
};

/// Pairs written per transaction (one statement): keeps the conversation
/// locks and SQLite's write lock short when a flush carries thousands of
/// receipts, and the statement's parameters (three per pair) well under
/// SQLite's limit.
const FLUSH_BATCH: usize = 500;

/// `(user id, conversation id)`.
type Key = (i64, i64);

/// Receipts not yet written: the highest seq received per pair.
#[derive(Clone)]
pub(crate) struct Deliveries {
    pending: Arc<Mutex<HashMap<Key, i64>>>,
    /// Never sent on: the flusher ends, after a last flush, when every
    /// clone holding this is gone. The flusher's own clone holds `None`.
    alive: Option<mpsc::Sender<()>>,
}

impl Deliveries {
    /// The receipts, and what tells the flusher the service has gone.
    pub fn new() -> (Self, mpsc::Receiver<()>) {
        let (alive, ended) = mpsc::channel(1);
        let deliveries = Self {
            pending: Arc::default(),
            alive: Some(alive),
        };
        (deliveries, ended)
    }

    /// The same receipts, without keeping the flusher alive: for the
    /// service's own background tasks.
    pub(crate) fn detached(&self) -> Self {
        Self {
            pending: self.pending.clone(),
            alive: None,
        }
    }

    fn pending(&self) -> MutexGuard<'_, HashMap<Key, i64>> {
        // Every update is one insert, raise or remove.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn note(&self, user_id: i64, conversation_id: i64, seq: i64) {
        if seq <= 0 {
            return;
        }
        let mut pending = self.pending();
        let entry = pending.entry((user_id, conversation_id)).or_insert(seq);
        *entry = Ord::max(*entry, seq);
    }

    fn get(&self, user_id: i64, conversation_id: i64) -> Option<i64> {
        self.pending().get(&(user_id, conversation_id)).copied()
    }
}

impl Service {
    /// Starts the flusher: it writes pending receipts every
    /// `Settings::delivery_flush`, and once more when the service goes
    /// away. Must be called inside a Tokio runtime.
    pub(crate) fn spawn_flusher(&self, mut ended: mpsc::Receiver<()>) {
        // A zero interval would make `interval` panic.
        let every = Ord::max(self.settings().delivery_flush, Duration::from_millis(1));
        // The flusher's clone must not keep itself alive; it keeps the
        // event log running until its last flush is logged.
        let mut service = self.clone();
        service.deliveries.alive = None;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let last = tokio::select! {
                    _ = tick.tick() => false,
                    _ = ended.recv() => true,
                };
                if let Err(err) = service.flush_deliveries().await {
                    tracing::warn!(error = %err, "delivery receipts: flush failed; kept for the next");
                }
                if last {
                    break;
                }
            }
        });
    }

    /// Notes that one of `user_id`'s clients has received the messages of
    /// a conversation up to `seq`: no query, for streams that already know
    /// the user is a member and that `seq` exists ([`Self::mark_delivered`]
    /// checks both).
    pub fn note_delivered(&self, user_id: i64, conversation_id: i64, seq: i64) {
        self.deliveries.note(user_id, conversation_id, seq);
    }

    /// How far a member's clients have received: the stored pointer, or a
    /// higher one not yet written.
    pub fn delivered_seq(&self, member: &conversation_member::Model) -> i64 {
        let pending = self
            .deliveries
            .get(member.user_id, member.conversation_id)
            .unwrap_or(0);
        Ord::max(member.last_delivered_seq, pending)
    }

    /// Says the viewer's client has received the conversation's messages
    /// up to `up_to_seq` (clamped to the newest); the pointer never moves
    /// back. Written with the next flush, shown at once.
    #[tracing::instrument(skip(self), fields(user_id = viewer.user_id))]
    pub async fn mark_delivered(
        &self,
        viewer: &Viewer,
        conversation_id: i64,
        up_to_seq: i64,
    ) -> Result<conversation::Model> {
        if up_to_seq < 0 {
            return Err(Error::invalid("upToSeq", "must not be negative"));
        }
        let conversation = self.conversation(viewer, conversation_id).await?;
        self.note_delivered(
            viewer.user_id,
            conversation_id,
            Ord::min(up_to_seq, conversation.last_seq),
        );
        Ok(conversation)
    }

    /// Writes every pending receipt now: one UPDATE per chunk of pairs,
    /// and, in direct conversations, a `DeliveryReceipt` event for each
    /// pointer that moved. The flusher calls it on its timer; tests call
    /// it to skip the wait.
    pub async fn flush_deliveries(&self) -> Result<()> {
        let mut snapshot: Vec<(Key, i64)> = self
            .deliveries
            .pending()
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect();
        snapshot.sort_by_key(|((user_id, conversation_id), _)| (*conversation_id, *user_id));
        for batch in snapshot.chunks(FLUSH_BATCH) {
            let txn = self.write().await?;
            // Sends and reads lock a conversation's row before its members'
            // rows, and send batches take conversations in id order. Doing
            // the same here keeps a flush from deadlocking with them on
            // PostgreSQL (SQLite's write lock is already held). The locks
            // are held for two statements: sends wait a few milliseconds
            // at most.
            let mut conversation_ids: Vec<i64> = batch.iter().map(|((_, c), _)| *c).collect();
            conversation_ids.dedup();
            let direct: HashSet<i64> = conversation::Entity::find()
                .select_only()
                .column(conversation::Column::Id)
                .column(conversation::Column::Kind)
                .filter(conversation::Column::Id.is_in(conversation_ids))
                .order_by_asc(conversation::Column::Id)
                .lock(CONVERSATION_LOCK)
                .into_tuple::<(i64, conversation::Kind)>()
                .all(&*txn)
                .await?
                .into_iter()
                .filter(|(_, kind)| *kind == conversation::Kind::Direct)
                .map(|(id, _)| id)
                .collect();
            let moved = raise_delivered(&*txn, batch).await?;
            // In a group nobody is shown who has received what: the
            // pointer is enough, and a receipt per member per flush would
            // make a 1,000-member group cost 1,000 events a second.
            let receipts = moved
                .into_iter()
                .filter(|(conversation_id, _, _)| direct.contains(conversation_id))
                .map(|(conversation_id, user_id, seq)| {
                    NewEvent::new(conversation_id, EventKind::DeliveryReceipt)
                        .user(user_id)
                        .data(json!({ "seq": seq }))
                })
                .collect();
            self.commit_logged(txn, receipts).await?;
            // Written: drop what has not been raised since the snapshot.
            let mut pending = self.deliveries.pending();
            for (key, seq) in batch {
                if pending.get(key) == Some(seq) {
                    pending.remove(key);
                }
            }
        }
        Ok(())
    }
}

/// Raises the delivered pointers of `pairs` in one statement, where they
/// are lower; the `(conversation, user, seq)` of each row that moved.
async fn raise_delivered<C: ConnectionTrait>(
    db: &C,
    pairs: &[(Key, i64)],
) -> Result<Vec<(i64, i64, i64)>> {
    let backend = db.get_database_backend();
    let mut values = Vec::with_capacity(pairs.len() * 3);
    let mut rows = Vec::with_capacity(pairs.len());
    for ((user_id, conversation_id), seq) in pairs {
        let n = values.len();
        rows.push(match backend {
            DbBackend::Postgres => format!(
                "(${}::bigint, ${}::bigint, ${}::bigint)",
                n + 1,
                n + 2,
                n + 3
            ),
            _ => "(?, ?, ?)".to_owned(),
        });
        values.extend([(*conversation_id).into(), (*user_id).into(), (*seq).into()]);
    }
    // `UPDATE ... FROM` joins the pairs in: PostgreSQL, and SQLite since
    // 3.33.
    let sql = format!(
        "WITH pending (conversation_id, user_id, seq) AS (VALUES {}) \
         UPDATE conversation_members SET last_delivered_seq = pending.seq \
         FROM pending \
         WHERE conversation_members.conversation_id = pending.conversation_id \
         AND conversation_members.user_id = pending.user_id \
         AND conversation_members.last_delivered_seq < pending.seq \
         RETURNING conversation_members.conversation_id, conversation_members.user_id, \
         conversation_members.last_delivered_seq",
        rows.join(", ")
    );
    let moved = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    moved
        .iter()
        .map(|row| {
            Ok((
                row.try_get_by_index::<i64>(0)?,
                row.try_get_by_index::<i64>(1)?,
                row.try_get_by_index::<i64>(2)?,
            ))
        })
        .collect()
}

/// How far a message has got, as its author sees it in a direct
/// conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Stored; the other person's clients have not received it yet.
    Sent,
    /// One of the other person's clients has received it.
    Delivered,
    /// The other person has read it.
    Read,
}

impl Service {
    /// The members of those of `conversation_ids` that are direct, by
    /// conversation (one query however many); groups are missing. The
    /// caller must already have checked that the viewer may see them.
    pub async fn direct_members(
        &self,
        conversation_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<conversation_member::Model>>> {
        let rows = conversation_member::Entity::find()
            .inner_join(conversation::Entity)
            .filter(
                conversation_member::Column::ConversationId.is_in(conversation_ids.iter().copied()),
            )
            .filter(conversation::Column::Kind.eq(conversation::Kind::Direct))
            .all(self.db())
            .await?;
        let mut by_conversation: HashMap<i64, Vec<_>> = HashMap::new();
        for member in rows {
            by_conversation
                .entry(member.conversation_id)
                .or_default()
                .push(member);
        }
        Ok(by_conversation)
    }

    /// A message's status for `viewer_id`, given the members of its
    /// conversation if it is direct: `None` unless the viewer wrote it in a
    /// direct conversation.
    pub fn message_status(
        &self,
        viewer_id: i64,
        message: &message::Model,
        direct_members: Option<&[conversation_member::Model]>,
    ) -> Option<Status> {
        if message.sender_id != Some(viewer_id) {
            return None;
        }
        let other = direct_members?.iter().find(|m| m.user_id != viewer_id)?;
        Some(if other.last_read_seq >= message.seq {
            Status::Read
        } else if self.delivered_seq(other) >= message.seq {
            Status::Delivered
        } else {
            Status::Sent
        })
    }
}
