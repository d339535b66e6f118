//! Group commit for sends.
//!
//! A send is a few small statements and one durable commit, and the commit
//! (an fsync) costs more than everything else together. So sends are not
//! committed one by one: each goes to a lane, a task that takes every send
//! queued since its last commit and stores them in one transaction. Under
//! load a commit carries dozens of messages; alone, a send waits for no one.
//!
//! A conversation always maps to the same lane, so its messages keep their
//! order. SQLite takes one writer at a time and gets one lane; PostgreSQL
//! gets several, which commit in parallel. A batch locks its conversations
//! in id order, so batches of different instances sharing a PostgreSQL
//! database cannot deadlock.
//!
//! The statements of a batch are set-based (`send_batch`): a few per
//! batch, not a few per send. A send that cannot be stored (its sender is
//! not a member, its client id is taken) is found before anything is
//! written; it gets its answer and the rest are stored without it. Events
//! are published once the batch has committed.

use std::collections::{HashMap, HashSet};

use entity::{conversation_member, message, user_block};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use tokio::sync::{mpsc, oneshot};

use super::send_batch::{self, Outcome};
use crate::webhooks::OfflineProbe;
use crate::{
    Viewer,
    db::WriteLock,
    error::{Error, Internal, Result},
    events::EventBus,
    events::{self, EventLog, NewEvent},
    messages::Content,
};

/// Most sends one commit carries: enough to amortize the fsync, few enough
/// that the first of them does not wait long for the last.
const MAX_BATCH: usize = 64;
/// Sends a lane holds before new ones wait to be queued.
const QUEUE: usize = 1024;

/// Members by conversation, and (blocker, blocked) pairs of the senders.
type Recipients = (HashMap<i64, Vec<i64>>, HashSet<(i64, i64)>);

/// A validated send, ready to be stored.
pub(crate) struct Draft {
    pub viewer: Viewer,
    pub conversation_id: i64,
    pub client_message_id: Option<String>,
    /// Body, kind, attachments, metadata and streaming, validated.
    pub content: Content,
    /// Checked and joined to its thread in the batch's transaction.
    pub reply_to_id: Option<i64>,
    /// Users the client named (`mentions: [ID!]`); members among them and
    /// among the body's `@username`s are stored as mentions.
    pub mentions: Vec<i64>,
}

/// What became of a send.
// Short-lived (one per send, at most a batch at a time): boxing the
// message would cost an allocation per send to save a few hundred bytes.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(crate) enum Stored {
    Message(message::Model),
    /// Another send with the same client id was stored first (and has
    /// committed): the caller reads that one.
    DuplicateClientId,
}

struct Job {
    draft: Draft,
    reply: oneshot::Sender<Result<Stored>>,
}

/// The lanes, shared by clones of the service.
#[derive(Clone)]
pub(crate) struct Lanes {
    lanes: Vec<mpsc::Sender<Job>>,
}

impl Lanes {
    /// Starts `count` lane tasks; they end when the last clone of this is
    /// dropped. Must be called inside a Tokio runtime.
    pub fn start(
        count: usize,
        db: &DatabaseConnection,
        bus: &EventBus,
        log: &EventLog,
        lock: &WriteLock,
        probe: OfflineProbe,
    ) -> Self {
        let lanes = (0..count.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::channel(QUEUE);
                let lane = Lane {
                    db: db.clone(),
                    bus: bus.clone(),
                    log: log.clone(),
                    lock: lock.clone(),
                    probe: probe.clone(),
                };
                tokio::spawn(lane.run(rx));
                tx
            })
            .collect();
        Self { lanes }
    }

    /// Queues `draft` and waits until it is stored (or refused). A caller
    /// that goes away does not cancel it: the client may retry with its
    /// client id and find it.
    pub async fn store(&self, draft: Draft) -> Result<Stored> {
        let index = draft.conversation_id.unsigned_abs() as usize % self.lanes.len();
        let (reply, answer) = oneshot::channel();
        self.lanes[index]
            .send(Job { draft, reply })
            .await
            .map_err(|_| Internal::Stopped)?;
        answer.await.map_err(|_| Internal::Stopped)?
    }
}

struct Lane {
    db: DatabaseConnection,
    bus: EventBus,
    log: EventLog,
    lock: WriteLock,
    /// Who of the recipients is offline, for webhooks.
    probe: OfflineProbe,
}

impl Lane {
    /// The members of the conversations `stored` went to, by conversation,
    /// and who blocks which sender, when webhooks want offline recipients;
    /// `None` (and no query) when none do.
    async fn offline_members(
        &self,
        txn: &crate::db::WriteTx,
        stored: &[Stored],
    ) -> Result<Option<Recipients>> {
        if !self.probe.wanted() {
            return Ok(None);
        }
        let ids: HashSet<i64> = stored
            .iter()
            .filter_map(|s| match s {
                Stored::Message(m) => Some(m.conversation_id),
                Stored::DuplicateClientId => None,
            })
            .collect();
        let rows = conversation_member::Entity::find()
            .select_only()
            .column(conversation_member::Column::ConversationId)
            .column(conversation_member::Column::UserId)
            .filter(conversation_member::Column::ConversationId.is_in(ids))
            .into_tuple::<(i64, i64)>()
            .all(&**txn)
            .await?;
        let mut members: HashMap<i64, Vec<i64>> = HashMap::new();
        for (conversation_id, user_id) in rows {
            members.entry(conversation_id).or_default().push(user_id);
        }
        // Someone who blocks the sender is never told of their message.
        let senders: HashSet<i64> = stored
            .iter()
            .filter_map(|s| match s {
                Stored::Message(m) => m.sender_id,
                Stored::DuplicateClientId => None,
            })
            .collect();
        let blocks: HashSet<(i64, i64)> = user_block::Entity::find()
            .select_only()
            .column(user_block::Column::BlockerId)
            .column(user_block::Column::BlockedId)
            .filter(user_block::Column::BlockedId.is_in(senders))
            .into_tuple::<(i64, i64)>()
            .all(&**txn)
            .await?
            .into_iter()
            .collect();
        Ok(Some((members, blocks)))
    }

    async fn run(self, mut queue: mpsc::Receiver<Job>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
            // Stable: a conversation's sends keep their order.
            batch.sort_by_key(|job: &Job| job.draft.conversation_id);
            self.commit(std::mem::take(&mut batch)).await;
        }
    }

    /// Stores `jobs` in one transaction, dropping those that fail until the
    /// rest commit, then answers every job.
    async fn commit(&self, mut jobs: Vec<Job>) {
        let mut refused: Vec<(Job, Result<Stored>)> = Vec::new();
        let (stored, logged) = loop {
            if jobs.is_empty() {
                break (Vec::new(), Vec::new());
            }
            match self.try_commit(&jobs).await {
                Ok(done) => break done,
                Err(Failure::Jobs(mut answers)) => {
                    // Highest index first, so the others stay put.
                    answers.sort_by_key(|(index, _)| std::cmp::Reverse(*index));
                    for (index, answer) in answers {
                        refused.push((jobs.remove(index), answer));
                    }
                }
                Err(Failure::Batch(err)) => {
                    tracing::error!(error = %err, sends = jobs.len(), "a batch of sends failed");
                    for job in jobs.drain(..) {
                        refused.push((job, Err(Internal::BatchFailed.into())));
                    }
                    break (Vec::new(), Vec::new());
                }
            }
        };
        let messages: Vec<&message::Model> = stored
            .iter()
            .filter_map(|s| match s {
                Stored::Message(m) => Some(m),
                Stored::DuplicateClientId => None,
            })
            .collect();
        self.log
            .publish(crate::events::LoggedEvent::attach(logged, &messages));
        // Answers go out only now: a duplicate's first copy has committed.
        // `messageAdded` subscribers get them from the sequencer, in order.
        for (job, message) in jobs.into_iter().zip(stored) {
            let _ = job.reply.send(Ok(message));
        }
        for (job, answer) in refused {
            let _ = job.reply.send(answer);
        }
    }

    /// The stored messages, and the events logged for them.
    async fn try_commit(
        &self,
        jobs: &[Job],
    ) -> Result<(Vec<Stored>, Vec<entity::event::Model>), Failure> {
        let txn = self.lock.begin(&self.db).await.map_err(Failure::Batch)?;
        let drafts: Vec<&Draft> = jobs.iter().map(|job| &job.draft).collect();
        let (stored, mut mentioned) = match send_batch::store(&txn, &drafts).await {
            Ok(Outcome::Stored(stored, mentioned)) => (stored, mentioned),
            Ok(Outcome::Refused(refused)) => {
                txn.rollback().await.map_err(Failure::Batch)?;
                return Err(Failure::Jobs(refused));
            }
            Err(Error::Internal(Internal::Db(db))) => return Err(Failure::Batch(db)),
            Err(err) => return Err(Failure::Batch(db_error(err))),
        };
        // Who of each conversation has no live socket, when webhooks want
        // to know (read under the batch's locks, so it is the membership
        // the message was stored in).
        let offline = self
            .offline_members(&txn, &stored)
            .await
            .map_err(|err| Failure::Batch(db_error(err)))?;
        // One event per message stored, not per answer; its mentions'
        // right after it.
        let mut seen = HashSet::new();
        let mut added = Vec::with_capacity(stored.len());
        for s in &stored {
            if let Stored::Message(m) = s
                && seen.insert(m.id)
            {
                let mut event = NewEvent::new(m.conversation_id, entity::event::Kind::MessageAdded)
                    .message(m.id)
                    .user(m.sender_id.unwrap_or_default());
                if let Some((members, blocks)) = &offline
                    && let Some(members) = members.get(&m.conversation_id)
                {
                    let sender = m.sender_id.unwrap_or_default();
                    let away = self.probe.offline_now(
                        m.sender_id,
                        members
                            .iter()
                            .copied()
                            .filter(|member| !blocks.contains(&(*member, sender))),
                    );
                    event = event.data(serde_json::json!({ "offline": away }));
                }
                added.push(event);
                added.extend(mentioned.remove(&m.id).unwrap_or_default());
            }
        }
        let logged = events::record(&*txn, added, self.bus.origin())
            .await
            .map_err(|err| Failure::Batch(db_error(err)))?;
        txn.commit().await.map_err(Failure::Batch)?;
        Ok((stored, logged))
    }
}

/// The database error inside a service error, for a batch that failed.
fn db_error(err: Error) -> sea_orm::DbErr {
    match err {
        Error::Internal(Internal::Db(db)) => db,
        other => sea_orm::DbErr::Custom(other.to_string()),
    }
}

// Lives only while a batch is retried; see `Stored`.
#[allow(clippy::large_enum_variant)]
enum Failure {
    /// These sends cannot be stored (their answers); the others may be.
    Jobs(Vec<(usize, Result<Stored>)>),
    /// Nothing can be stored now (the database is gone, a commit failed).
    Batch(sea_orm::DbErr),
}
