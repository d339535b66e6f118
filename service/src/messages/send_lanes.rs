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
//! A send that fails (its sender is not a member, its client id is taken)
//! rolls the batch back; it gets its error and the rest are stored again
//! without it. Events are published once the batch has committed.

use std::collections::HashMap;

use entity::{
    conversation::{self, Kind},
    conversation_member, message,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};
use tokio::sync::{mpsc, oneshot};

use crate::{
    Viewer,
    conversations::next_seq,
    conversations::title_from,
    db::WriteLock,
    error::{Error, Internal, Result, is_unique_violation},
    events::EventBus,
    events::{self, EventLog, NewEvent},
    messages::Content,
    messages::join_thread,
    time::now,
    webhooks::OfflineProbe,
};

/// Most sends one commit carries: enough to amortize the fsync, few enough
/// that the first of them does not wait long for the last.
const MAX_BATCH: usize = 64;
/// Sends a lane holds before new ones wait to be queued.
const QUEUE: usize = 1024;

/// A validated send, ready to be stored.
pub(crate) struct Draft {
    pub viewer: Viewer,
    pub conversation_id: i64,
    pub client_message_id: Option<String>,
    /// Body, kind, attachments, metadata and streaming, validated.
    pub content: Content,
    /// Checked and joined to its thread in the batch's transaction.
    pub reply_to_id: Option<i64>,
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
                Err(Failure::Job(index, err)) => {
                    let job = jobs.remove(index);
                    refused.push((job, err));
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
        let mut stored: Vec<Stored> = Vec::with_capacity(jobs.len());
        // Retries of one client id inside the batch store one message.
        let mut by_client_id: HashMap<(i64, i64, &str), usize> = HashMap::new();
        // One event per message stored, not per answer.
        let mut added = Vec::with_capacity(jobs.len());
        for (index, job) in jobs.iter().enumerate() {
            let d = &job.draft;
            if let Some(key) = d.client_message_id.as_deref() {
                let key = (d.conversation_id, d.viewer.user_id, key);
                if let Some(first) = by_client_id.get(&key) {
                    let same = stored[*first].clone();
                    stored.push(same);
                    continue;
                }
                by_client_id.insert(key, index);
            }
            match store_one(&txn, d, &self.probe).await {
                Ok((message, offline)) => {
                    let mut event =
                        NewEvent::new(message.conversation_id, entity::event::Kind::MessageAdded)
                            .message(message.id)
                            .user(d.viewer.user_id);
                    if let Some(offline) = offline {
                        event = event.data(serde_json::json!({ "offline": offline }));
                    }
                    added.push(event);
                    stored.push(Stored::Message(message));
                }
                Err(err) => {
                    let answer = match err {
                        Error::Internal(Internal::Db(db))
                            if d.client_message_id.is_some() && is_unique_violation(&db) =>
                        {
                            Ok(Stored::DuplicateClientId)
                        }
                        err => Err(err),
                    };
                    // On PostgreSQL a failed statement spoils the whole
                    // transaction, so the batch starts over without it.
                    txn.rollback().await.map_err(Failure::Batch)?;
                    return Err(Failure::Job(index, answer));
                }
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
    /// One send cannot be stored; the others may be.
    Job(usize, Result<Stored>),
    /// Nothing can be stored now (the database is gone, a commit failed).
    Batch(sea_orm::DbErr),
}

/// The statements of one send, inside the batch's transaction; with the
/// recipients who are offline, when webhooks want them.
async fn store_one(
    txn: &crate::db::WriteTx,
    d: &Draft,
    probe: &OfflineProbe,
) -> Result<(message::Model, Option<Vec<i64>>)> {
    // The seq bump comes first: it takes the conversation's lock, so
    // concurrent senders get consecutive seqs, and a message with seq n
    // commits only after n-1.
    let conversation = next_seq(&**txn, d.conversation_id).await?;
    let seq = conversation.last_seq;
    let at = conversation.last_activity_at;
    // One statement for every membership: the sender has read up to their
    // own message, everyone else has one more unread, all get the new inbox
    // key, and the conversation leaves everyone's archive. The rows it
    // returns are the membership check, made under the conversation's
    // lock: a member removed a moment ago is not among them.
    let me = d.viewer.user_id;
    let is_sender = || Expr::col(conversation_member::Column::UserId).eq(me);
    let members = conversation_member::Entity::update_many()
        .col_expr(
            conversation_member::Column::LastReadSeq,
            Expr::case(is_sender(), Expr::value(seq))
                .finally(Expr::col(conversation_member::Column::LastReadSeq))
                .into(),
        )
        // The sender's client has its own message: delivered, too.
        .col_expr(
            conversation_member::Column::LastDeliveredSeq,
            Expr::case(is_sender(), Expr::value(seq))
                .finally(Expr::col(conversation_member::Column::LastDeliveredSeq))
                .into(),
        )
        .col_expr(
            conversation_member::Column::UnreadCount,
            Expr::case(is_sender(), Expr::value(0))
                .finally(Expr::col(conversation_member::Column::UnreadCount).add(1))
                .into(),
        )
        .col_expr(conversation_member::Column::LastActivityAt, Expr::value(at))
        .col_expr(conversation_member::Column::Archived, Expr::value(false))
        .filter(conversation_member::Column::ConversationId.eq(d.conversation_id))
        .exec_with_returning(&**txn)
        .await?;
    if !members.iter().any(|m| m.user_id == me) {
        return Err(Error::NotFound("conversation"));
    }
    let offline = probe.offline(me, members.iter().map(|m| m.user_id));
    // A group created without a title is named by its first message
    // with words (a bare image or an empty streamed start leaves it to
    // the next one).
    let body = &d.content.body;
    if conversation.kind == Kind::Group && conversation.title.is_none() && !body.is_empty() {
        conversation::Entity::update_many()
            .col_expr(conversation::Column::Title, Expr::value(title_from(body)))
            .filter(conversation::Column::Id.eq(d.conversation_id))
            .exec(&**txn)
            .await?;
    }
    // Taken under the lock, so creation times follow seq order.
    let created_at = Ord::max(now(), at);
    // After the membership check: a non-member learns nothing about the
    // target.
    let thread_root_id = match d.reply_to_id {
        Some(target) => Some(join_thread(&**txn, d.conversation_id, target, created_at).await?),
        None => None,
    };
    let message = message::ActiveModel {
        conversation_id: Set(d.conversation_id),
        seq: Set(seq),
        sender_id: Set(Some(d.viewer.user_id)),
        body: Set(body.clone()),
        client_message_id: Set(d.client_message_id.clone()),
        // Taken under the lock, so creation times follow seq order.
        created_at: Set(created_at),
        kind: Set(d.content.kind),
        metadata: Set(d.content.metadata.clone()),
        attachments: Set(d.content.attachments.clone()),
        streaming: Set(d.content.streaming),
        reply_to_id: Set(d.reply_to_id),
        thread_root_id: Set(thread_root_id),
        ..Default::default()
    }
    .insert(&**txn)
    .await?;
    Ok((message, offline))
}
