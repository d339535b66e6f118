//! Streaming messages: an AI assistant (or anyone) sends a message with
//! `streaming: true`, appends text to it as it is produced, and finishes it.
//!
//! Every append reaches subscribers at once, as an ephemeral
//! [`Ephemeral::Appended`]; the database gets the text so far at most every
//! [`FLUSH_EVERY`] per message. So an append costs a couple of reads, not
//! a durable write, and the text survives its author going away: whatever
//! was appended is stored within [`FLUSH_EVERY`], and finishing writes the
//! whole text and logs `MessageFinished` in the same transaction.
//!
//! The buffer is per instance. Appends for one message should go to one
//! instance (its author's connection usually does); appends split across
//! instances each start from the text the database holds and would lose
//! each other's unflushed text. Finishing always writes the finishing
//! instance's full text, and a flush never touches a finished message.

use std::{
    collections::{HashMap, hash_map::Entry},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use entity::{event::Kind as EventKind, message};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use tokio::{sync::mpsc, time::Instant};

use crate::{
    Actor, Service, Viewer,
    conversations::lock_conversation,
    error::{Error, Result},
    events::Ephemeral,
    events::NewEvent,
    time::now,
    validate::BODY_MAX,
};

/// How often, at most, a streaming message's text is written to the
/// database while its author appends.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// Failed writes in a row before a flush task gives up: the text stays
/// buffered, and the next append or the finish tries again.
const FLUSH_ATTEMPTS: u32 = 8;

/// Text appended but perhaps not yet stored, per message; owned by the
/// service, shared by its clones.
#[derive(Clone)]
pub(crate) struct Streams {
    state: Arc<Mutex<State>>,
    /// Never sent on: the sweeper ends when every clone holding this is
    /// gone. The sweeper's own clone holds `None`.
    pub(crate) alive: Option<mpsc::Sender<()>>,
}

#[derive(Default)]
struct State {
    pending: HashMap<i64, Pending>,
    /// Bumped whenever an entry leaves `pending`. An append that read the
    /// text from the database and then finds no entry must read again if
    /// this moved meanwhile: the entry it missed may have been flushed (or
    /// finished) after its read.
    removals: u64,
}

struct Pending {
    conversation_id: i64,
    /// The whole text so far: what the database held when the entry was
    /// made, plus every append since.
    text: String,
    chars: usize,
    /// Appends so far, and how many of them the database holds.
    version: u64,
    flushed: u64,
    last_flush: Instant,
    /// A flush task is scheduled or running; there is at most one.
    flushing: bool,
    /// `finish_message` is writing it: appends are refused.
    finishing: bool,
}

impl Pending {
    fn from_stored(message: &message::Model, finishing: bool) -> Self {
        Self {
            conversation_id: message.conversation_id,
            chars: message.body.chars().count(),
            text: message.body.clone(),
            version: 0,
            flushed: 0,
            last_flush: Instant::now(),
            flushing: false,
            finishing,
        }
    }
}

impl Streams {
    /// The buffers, and what tells the sweeper the service has gone.
    pub fn new() -> (Self, mpsc::Receiver<()>) {
        let (alive, ended) = mpsc::channel(1);
        let streams = Self {
            state: Arc::default(),
            alive: Some(alive),
        };
        (streams, ended)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change below leaves the map consistent, even if a holder
        // panicked half-way through an append.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this instance got text for the message within `quiet`:
    /// the sweeper leaves it alone.
    pub(crate) fn recently_appended(&self, message_id: i64, quiet: Duration) -> bool {
        self.lock()
            .pending
            .get(&message_id)
            .is_some_and(|entry| entry.finishing || entry.last_flush.elapsed() < quiet)
    }

    fn removals(&self) -> u64 {
        self.lock().removals
    }
}

/// What `appendToMessage` answers.
#[derive(Clone, Copy, Debug)]
pub struct Appended {
    pub message_id: i64,
    /// Characters of the whole text so far.
    pub length: usize,
}

/// What a flush did.
enum Flushed {
    Stored,
    /// The message is finished (perhaps by another instance) or gone.
    Gone,
    Failed,
}

impl Service {
    /// Adds `text` to a streaming message, as is (no trimming), and shows
    /// it to subscribers at once. Returns once buffered: the database has
    /// it within [`FLUSH_EVERY`].
    #[tracing::instrument(skip(self, text), fields(chars = text.len()))]
    pub async fn append_to_message(
        &self,
        actor: &Actor,
        message_id: i64,
        text: &str,
    ) -> Result<Appended> {
        if text.is_empty() {
            return Err(Error::invalid("text", "must not be empty"));
        }
        let added = text.chars().count();
        loop {
            let seen = self.streams.removals();
            let message = self.streamed_message(actor, message_id).await?;
            let mut state = self.streams.lock();
            let State { pending, removals } = &mut *state;
            let entry = match pending.entry(message_id) {
                Entry::Occupied(entry) => entry.into_mut(),
                // Read again: the text just read may predate a flush.
                Entry::Vacant(_) if *removals != seen => continue,
                Entry::Vacant(entry) => entry.insert(Pending::from_stored(&message, false)),
            };
            if entry.finishing {
                return Err(finished());
            }
            if entry.chars + added > BODY_MAX {
                return Err(Error::invalid(
                    "text",
                    format!("the whole message must be at most {BODY_MAX} characters long"),
                ));
            }
            entry.text.push_str(text);
            entry.chars += added;
            entry.version += 1;
            // Published under the lock, so subscribers get one message's
            // pieces in the order they were appended.
            self.bus().publish_ephemeral(Ephemeral::Appended {
                conversation_id: entry.conversation_id,
                message_id,
                text: text.to_owned(),
            });
            let appended = Appended {
                message_id,
                length: entry.chars,
            };
            if !entry.flushing {
                entry.flushing = true;
                let due = entry.last_flush + FLUSH_EVERY;
                tokio::spawn(self.clone().flush_later(message_id, due));
            }
            return Ok(appended);
        }
    }

    /// Ends a streaming message: writes its whole text, marks it finished
    /// and logs `MessageFinished`, in one transaction. Its author may, and
    /// a group's owners and admins (see `conversations::may_finish_stream`).
    /// Finishing a finished message is `CONFLICT` on `id`.
    #[tracing::instrument(skip(self))]
    pub async fn finish_message(&self, actor: &Actor, message_id: i64) -> Result<message::Model> {
        let (message, text, finisher) = loop {
            let seen = self.streams.removals();
            let message = message::Entity::find_by_id(message_id)
                .one(self.db())
                .await?
                .ok_or(Error::NotFound("message"))?;
            let finisher = self.may_finish_stream(actor, &message).await?;
            if !message.streaming {
                return Err(finished());
            }
            let mut state = self.streams.lock();
            let State { pending, removals } = &mut *state;
            match pending.entry(message_id) {
                Entry::Occupied(entry) => {
                    let entry = entry.into_mut();
                    if entry.finishing {
                        return Err(finished());
                    }
                    entry.finishing = true;
                    let text = entry.text.clone();
                    break (message, text, finisher);
                }
                Entry::Vacant(_) if *removals != seen => continue,
                Entry::Vacant(entry) => {
                    entry.insert(Pending::from_stored(&message, true));
                    let text = message.body.clone();
                    break (message, text, finisher);
                }
            }
        };
        // In a task of its own: a client that gives up on the request
        // (closing the socket, cancelling the operation) drops this future,
        // and an entry left `finishing` would refuse every later append and
        // finish and keep its unflushed text from ever being stored.
        tokio::spawn(self.clone().complete_finish(message, text, finisher)).await?
    }

    /// Stores the finished text, then forgets the buffer, or, if storing
    /// failed, lets appends and flushes go on.
    async fn complete_finish(
        self,
        message: message::Model,
        text: String,
        finisher: Option<Viewer>,
    ) -> Result<message::Model> {
        let message_id = message.id;
        let result = self.store_finished(&message, text, finisher).await;
        let mut state = self.streams.lock();
        let State { pending, removals } = &mut *state;
        if let Some(entry) = pending.get_mut(&message_id) {
            match &result {
                Ok(_) => {
                    pending.remove(&message_id);
                    *removals += 1;
                }
                // Still streaming: appends may go on, and what is not
                // stored yet gets its flush.
                Err(_) => {
                    entry.finishing = false;
                    if entry.version == entry.flushed && !entry.flushing {
                        pending.remove(&message_id);
                        *removals += 1;
                    } else if !entry.flushing {
                        entry.flushing = true;
                        let due = entry.last_flush + FLUSH_EVERY;
                        tokio::spawn(self.clone().flush_later(message_id, due));
                    }
                }
            }
        }
        result
    }

    /// The message, if `actor` may add to it (see
    /// `conversations::may_stream_to`) and it is still streaming.
    async fn streamed_message(&self, actor: &Actor, message_id: i64) -> Result<message::Model> {
        let message = message::Entity::find_by_id(message_id)
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("message"))?;
        self.may_stream_to(actor, &message).await?;
        if !message.streaming {
            return Err(finished());
        }
        Ok(message)
    }

    /// `finisher`: the member whose membership the right to finish rests
    /// on, checked again under the lock (`None` for the host app).
    async fn store_finished(
        &self,
        message: &message::Model,
        text: String,
        finisher: Option<Viewer>,
    ) -> Result<message::Model> {
        let txn = self.write().await?;
        // Under the conversation's lock, like a send: a removal either
        // commits first (and the author may no longer finish) or after.
        lock_conversation(&*txn, message.conversation_id)
            .await
            .map_err(|_| Error::NotFound("message"))?;
        if let Some(finisher) = &finisher {
            self.member_conversation(&*txn, finisher, message.conversation_id)
                .await
                .map_err(|_| Error::NotFound("message"))?;
        }
        let updated = message::Entity::update_many()
            .col_expr(message::Column::Body, Expr::value(text))
            .col_expr(message::Column::Streaming, Expr::value(false))
            .filter(message::Column::Id.eq(message.id))
            .filter(message::Column::Streaming.eq(true))
            .exec_with_returning(&*txn)
            .await?;
        // Finished meanwhile, by another request or instance.
        let finished_message = updated.into_iter().next().ok_or_else(finished)?;
        self.commit_logged(txn, vec![finished_event(message)])
            .await?;
        Ok(finished_message)
    }

    /// Writes the message's text when `due`, and again every
    /// [`FLUSH_EVERY`] while appends keep coming; forgets the entry once
    /// the database holds all of it.
    async fn flush_later(self, message_id: i64, mut due: Instant) {
        let mut failures = 0;
        loop {
            tokio::time::sleep_until(due).await;
            let (text, version) = {
                let mut state = self.streams.lock();
                match state.pending.get_mut(&message_id) {
                    Some(entry) if !entry.finishing => (entry.text.clone(), entry.version),
                    // Finishing writes everything itself.
                    Some(entry) => {
                        entry.flushing = false;
                        return;
                    }
                    None => return,
                }
            };
            let flushed = match self.store_streamed_text(message_id, text).await {
                Ok(true) => Flushed::Stored,
                Ok(false) => Flushed::Gone,
                Err(err) => {
                    tracing::error!(message_id, error = %err, "storing streamed text failed; retrying");
                    Flushed::Failed
                }
            };
            let mut state = self.streams.lock();
            let State { pending, removals } = &mut *state;
            let Some(entry) = pending.get_mut(&message_id) else {
                return;
            };
            entry.last_flush = Instant::now();
            match flushed {
                Flushed::Stored => {
                    entry.flushed = version;
                    failures = 0;
                }
                Flushed::Failed => failures += 1,
                Flushed::Gone => {}
            }
            if entry.finishing || failures >= FLUSH_ATTEMPTS {
                entry.flushing = false;
                return;
            }
            let done = match flushed {
                Flushed::Gone => true,
                _ => entry.version == entry.flushed,
            };
            if done {
                pending.remove(&message_id);
                *removals += 1;
                return;
            }
            due = entry.last_flush + FLUSH_EVERY;
        }
    }

    /// Stores the text so far of a message that is still streaming;
    /// `false` when it is not (finished, or removed with its
    /// conversation).
    async fn store_streamed_text(&self, message_id: i64, text: String) -> Result<bool> {
        let txn = self.write().await?;
        let updated = message::Entity::update_many()
            .col_expr(message::Column::Body, Expr::value(text))
            .col_expr(message::Column::StreamedAt, Expr::value(now()))
            .filter(message::Column::Id.eq(message_id))
            .filter(message::Column::Streaming.eq(true))
            .exec(&*txn)
            .await?;
        txn.commit().await?;
        Ok(updated.rows_affected > 0)
    }
}

/// The `MessageFinished` event of `message`, about its author: the same
/// whoever finished it (author, admin, or the sweeper).
pub(crate) fn finished_event(message: &message::Model) -> NewEvent {
    let event =
        NewEvent::new(message.conversation_id, EventKind::MessageFinished).message(message.id);
    match message.sender_id {
        Some(author) => event.user(author),
        None => event,
    }
}

fn finished() -> Error {
    Error::conflict("id", "the message is finished")
}
