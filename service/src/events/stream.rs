//! Following everything a viewer may see: the `events` stream.
//!
//! A stream subscribes to the bus first, then replays from the event log
//! every event after the client's cursor that the viewer may see, then
//! continues live. Logged events reach the bus in id order (the sequencer
//! in [`crate::events`] sees to it) and ids are dense, so the stream knows
//! exactly which ids it has covered: live events at or below that point
//! are dropped as duplicates, and a lagged receiver replays the range it
//! missed from the table. Nothing is lost and nothing comes twice.
//!
//! Rights are checked when an event is delivered, not when it happened:
//! the stream keeps the set of conversations the viewer is in, updated by
//! the membership events it passes through. A member who is removed gets
//! the event of their own removal and nothing of that conversation after
//! it; on a one-conversation stream, the stream ends there.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use entity::{
    conversation_member,
    event::{self, Kind},
    message,
};
use futures_util::Stream;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};
use tokio::sync::broadcast::error::RecvError;

use crate::{
    Service, Viewer,
    accounts::Audience,
    conversations::{UnreadNow, member_ids},
    error::Result,
    events::{Ephemeral, LoggedEvent},
    events::{READ_BATCH, high_water},
};

/// What an `events` stream yields.
#[derive(Clone, Debug)]
pub enum Followed {
    /// A logged event the viewer may see, with the message it is about
    /// (as it is now, or as it was stored when new); its id is the cursor
    /// after it.
    Logged(Arc<LoggedEvent>),
    /// The viewer's unread counts changed: the conversation's and the total
    /// over unmuted conversations, and its and all their unread mentions.
    Unread {
        conversation_id: i64,
        counts: UnreadNow,
    },
    /// Typing, presence or streamed text: live only, never replayed.
    Ephemeral(Arc<Ephemeral>),
    /// Replay is over (or there was none); events from here are live.
    /// `cursor` resumes from this point.
    Live { cursor: i64 },
    /// The cursor is older than the log keeps: the client should reload
    /// what it shows, then continue from `cursor`.
    CursorExpired { cursor: i64 },
}

impl Service {
    /// Everything the viewer may see, in all their conversations or in
    /// `only` (which must be one of theirs), after `after` if given.
    pub async fn follow_events(
        &self,
        viewer: Viewer,
        after: Option<i64>,
        only: Option<i64>,
    ) -> Result<impl Stream<Item = Result<Followed>> + Send + use<>> {
        // Subscribing before reading anything: whatever commits from here
        // on is in these receivers.
        let mut log = self.bus().subscribe_log();
        let mut ephemeral = self.bus().subscribe_ephemeral();
        // The mark before the scope: a membership change that commits in
        // between is then after the mark, and passes through the scope
        // (applying one twice changes nothing). The other way round, it
        // would be skipped as covered and the scope would keep a
        // conversation its viewer left, for the life of the stream.
        let mark = high_water(self.db()).await?;
        let mut scope = Scope::load(self, viewer, only).await?;
        let service = self.clone();
        let mut covered = mark.last_id;
        let mut replay = None;
        let mut expired = false;
        if let Some(after) = after {
            if after < mark.pruned_through || after > mark.last_id {
                // Older than the log keeps, or not a cursor this log gave
                // out: the client cannot be brought up to date by replay.
                expired = true;
            } else {
                covered = after;
                replay = Some(mark.last_id);
            }
        }
        Ok(async_stream::try_stream! {
            if expired {
                yield Followed::CursorExpired { cursor: covered };
            }
            loop {
                if let Some(through) = replay.take() {
                    // Replays (covered, through], then whatever committed
                    // while it ran.
                    let mut through = through;
                    loop {
                        let rows = service.visible_after(&scope, covered, through).await?;
                        let now = high_water(service.db()).await?;
                        if now.pruned_through > covered {
                            // Pruned while replaying: the rows may have
                            // holes. The client reloads, as for an old
                            // cursor, and the stream goes on from now with
                            // the viewer's scope as it is now.
                            covered = now.last_id;
                            let announced = scope.live_announced;
                            scope = Scope::load(&service, viewer, only).await?;
                            scope.live_announced = announced;
                            yield Followed::CursorExpired { cursor: covered };
                            break;
                        }
                        let full = rows.len() as u64 == READ_BATCH;
                        let last_row = rows.last().map(|e| e.id);
                        for event in service.with_messages(rows).await? {
                            for item in scope.pass(&service, Arc::new(event)).await? {
                                yield item;
                            }
                            if scope.ended {
                                return;
                            }
                        }
                        if full {
                            covered = last_row.unwrap_or(through);
                            continue;
                        }
                        covered = through;
                        if now.last_id == through {
                            break;
                        }
                        through = now.last_id;
                    }
                }
                if !scope.live_announced {
                    scope.live_announced = true;
                    yield Followed::Live { cursor: covered };
                }
                let next = tokio::select! {
                    got = log.recv() => Next::Logged(got),
                    got = ephemeral.recv() => Next::Ephemeral(got),
                };
                match next {
                    Next::Logged(Ok(event)) => {
                        let id = event.event.id;
                        if id <= covered {
                            continue;
                        }
                        if id != covered + 1 {
                            // Ids are dense: something is missing.
                            replay = Some(id);
                            continue;
                        }
                        covered = id;
                        for item in scope.pass(&service, event).await? {
                            yield item;
                        }
                        if scope.ended {
                            return;
                        }
                    }
                    Next::Logged(Err(RecvError::Lagged(missed))) => {
                        tracing::debug!(missed, "events stream lagged; replaying");
                        replay = Some(high_water(service.db()).await?.last_id);
                    }
                    Next::Ephemeral(Ok(event)) => {
                        if scope.sees_ephemeral(&event) && service.sees_ephemeral(viewer.user_id, &event).await? {
                            yield Followed::Ephemeral(event);
                        }
                    }
                    // Typing and presence are momentary: missing some under
                    // load is harmless.
                    Next::Ephemeral(Err(RecvError::Lagged(_))) => {}
                    Next::Logged(Err(RecvError::Closed)) | Next::Ephemeral(Err(RecvError::Closed)) => return,
                }
            }
        })
    }

    /// Logged events in `(after, through]` the scope's viewer may see now,
    /// oldest first, at most [`READ_BATCH`].
    async fn visible_after(
        &self,
        scope: &Scope,
        after: i64,
        through: i64,
    ) -> Result<Vec<event::Model>> {
        let me = scope.viewer.user_id;
        let member = Query::select()
            .expr(Expr::val(1))
            .from(conversation_member::Entity)
            .and_where(
                Expr::col((
                    conversation_member::Entity,
                    conversation_member::Column::ConversationId,
                ))
                .equals((event::Entity, event::Column::ConversationId)),
            )
            .and_where(conversation_member::Column::UserId.eq(me))
            .to_owned();
        let own_exit = Condition::all()
            .add(event::Column::Kind.is_in([Kind::MemberRemoved, Kind::MemberLeft]))
            .add(event::Column::UserId.eq(me));
        let mut query = event::Entity::find()
            .filter(event::Column::Id.gt(after))
            .filter(event::Column::Id.lte(through))
            .filter(
                Condition::any()
                    .add(event::Column::OnlyUserId.is_null())
                    .add(event::Column::OnlyUserId.eq(me)),
            )
            .filter(Condition::any().add(Expr::exists(member)).add(own_exit));
        if let Some(only) = scope.only {
            query = query.filter(event::Column::ConversationId.eq(only));
        }
        Ok(query
            .order_by_asc(event::Column::Id)
            .limit(READ_BATCH)
            .all(self.db())
            .await?)
    }
}

/// What woke a stream up.
enum Next {
    Logged(std::result::Result<Arc<LoggedEvent>, RecvError>),
    Ephemeral(std::result::Result<Arc<Ephemeral>, RecvError>),
}

/// What one stream's viewer may see, kept current as events pass.
struct Scope {
    viewer: Viewer,
    only: Option<i64>,
    /// Conversations the viewer is in.
    conversations: HashSet<i64>,
    /// People who share a conversation with the viewer (for presence).
    contacts: HashSet<i64>,
    /// `PARLEY_PRESENCE_VISIBILITY=everyone`: presence of anyone.
    presence_of_everyone: bool,
    /// The first seq the viewer may see in each conversation (0 unless
    /// its history is visible since joining): events about older messages
    /// are not theirs to see.
    floors: HashMap<i64, i64>,
    live_announced: bool,
    /// A one-conversation stream whose viewer left it.
    ended: bool,
}

impl Scope {
    async fn load(service: &Service, viewer: Viewer, only: Option<i64>) -> Result<Self> {
        if let Some(id) = only {
            // Not a member: the same `NotFound` as a missing id.
            service.conversation(&viewer, id).await?;
        }
        let mut mine = conversation_member::Entity::find()
            .select_only()
            .column(conversation_member::Column::ConversationId)
            .filter(conversation_member::Column::UserId.eq(viewer.user_id));
        if let Some(id) = only {
            mine = mine.filter(conversation_member::Column::ConversationId.eq(id));
        }
        let conversations: HashSet<i64> = mine
            .into_tuple::<i64>()
            .all(service.db())
            .await?
            .into_iter()
            .collect();
        let ids: Vec<i64> = conversations.iter().copied().collect();
        let floors = service.history_floors(viewer.user_id, &ids).await?;
        let contacts: HashSet<i64> = match only {
            // Presence belongs to the all-conversations stream.
            Some(_) => HashSet::new(),
            None => service.contacts_of(viewer.user_id).await?,
        };
        Ok(Self {
            viewer,
            only,
            conversations,
            contacts,
            presence_of_everyone: service.settings().presence_visibility == Audience::Everyone,
            floors,
            live_announced: false,
            ended: false,
        })
    }

    /// What the viewer gets of `event`, updating the scope: nothing, the
    /// event, and the viewer's new unread counts when they changed.
    async fn pass(&mut self, service: &Service, logged: Arc<LoggedEvent>) -> Result<Vec<Followed>> {
        let me = self.viewer.user_id;
        let event = &logged.event;
        let conversation = event.conversation_id;
        if self.only.is_some_and(|only| only != conversation) {
            return Ok(Vec::new());
        }
        if event.only_user_id.is_some_and(|only| only != me) {
            return Ok(Vec::new());
        }
        let about_me = event.user_id == Some(me);
        match event.kind {
            Kind::MemberJoined if about_me => {
                self.conversations.insert(conversation);
                self.reload_floor(service, conversation).await?;
                if self.only.is_none() {
                    self.contacts
                        .extend(member_ids(service.db(), conversation).await?);
                }
            }
            Kind::MemberJoined => {
                if let Some(user) = event.user_id
                    && self.conversations.contains(&conversation)
                {
                    self.contacts.insert(user);
                }
            }
            Kind::MemberRemoved | Kind::MemberLeft if about_me => {
                // They see their own exit, then nothing more of it.
                let was_member = self.conversations.remove(&conversation);
                self.ended = self.only.is_some();
                let mut out = vec![Followed::Logged(logged.clone())];
                if was_member && self.only.is_none() {
                    out.extend(self.unread(service, conversation).await?);
                }
                return Ok(out);
            }
            // Perhaps its history visibility changed.
            Kind::ConversationUpdated if self.conversations.contains(&conversation) => {
                self.reload_floor(service, conversation).await?;
            }
            _ => {}
        }
        if !self.conversations.contains(&conversation) {
            return Ok(Vec::new());
        }
        let counts_changed = match event.kind {
            Kind::MessageAdded => !about_me && event.user_id.is_some(),
            Kind::ReadReceipt => about_me,
            // Only to the mentioned member (`only_user_id`).
            Kind::Mention => true,
            Kind::MessageDeleted | Kind::ConversationUpdated => true,
            _ => false,
        };
        let logged = match (&logged.message, event.message_id) {
            // Changed messages are read as they are now; new ones come
            // with the message as stored.
            (None, Some(id)) => Arc::new(LoggedEvent {
                event: event.clone(),
                message: service.messages_by_ids(&[id]).await?.remove(&id),
            }),
            _ => logged.clone(),
        };
        // Every message event comes with its message (the schema promises
        // it); one whose message no longer exists (its conversation was
        // purged) has nothing left to show.
        if event.message_id.is_some() && logged.message.is_none() {
            return Ok(Vec::new());
        }
        // Nothing about messages from before the viewer's latest join into
        // a since-joined group.
        let floor = self.floors.get(&conversation).copied().unwrap_or(0);
        if logged.message.as_ref().is_some_and(|m| m.seq < floor) {
            return Ok(Vec::new());
        }
        // Nothing about a message of someone the viewer blocks: not its
        // arrival, edits, deletion or reactions.
        if let Some(message) = &logged.message
            && !service.sees_sender(me, message).await?
        {
            return Ok(Vec::new());
        }
        // A message that reaches the viewer's client is delivered to them.
        if event.kind == Kind::MessageAdded
            && let Some(message) = &logged.message
        {
            service.note_delivered(me, conversation, message.seq);
        }
        let mut out = vec![Followed::Logged(logged)];
        if counts_changed {
            out.extend(self.unread(service, conversation).await?);
        }
        Ok(out)
    }

    async fn reload_floor(&mut self, service: &Service, conversation_id: i64) -> Result<()> {
        let floors = service
            .history_floors(self.viewer.user_id, &[conversation_id])
            .await?;
        match floors.get(&conversation_id) {
            Some(floor) => self.floors.insert(conversation_id, *floor),
            None => self.floors.remove(&conversation_id),
        };
        Ok(())
    }

    async fn unread(&self, service: &Service, conversation_id: i64) -> Result<Option<Followed>> {
        let counts = service
            .unread_now(self.viewer.user_id, conversation_id)
            .await?;
        Ok(Some(Followed::Unread {
            conversation_id,
            counts,
        }))
    }

    fn sees_ephemeral(&self, event: &Ephemeral) -> bool {
        let me = self.viewer.user_id;
        match event {
            Ephemeral::Typing {
                conversation_id,
                user_id,
                ..
            } => *user_id != me && self.conversations.contains(conversation_id),
            Ephemeral::Appended {
                conversation_id, ..
            } => self.conversations.contains(conversation_id),
            Ephemeral::Read {
                conversation_id,
                user_id,
                ..
            } => *user_id != me && self.conversations.contains(conversation_id),
            Ephemeral::Presence { user_id, .. } => {
                self.only.is_none()
                    && *user_id != me
                    && (self.presence_of_everyone || self.contacts.contains(user_id))
            }
        }
    }
}

impl Service {
    /// Whether a live event's person is someone the viewer does not block
    /// (typing; streamed text is checked against its message's author).
    async fn sees_ephemeral(&self, viewer_id: i64, event: &Ephemeral) -> Result<bool> {
        match event {
            Ephemeral::Typing { user_id, .. } | Ephemeral::Read { user_id, .. } => {
                Ok(!self.blocked_by(viewer_id).await?.contains(user_id))
            }
            Ephemeral::Appended { message_id, .. } => {
                let blocked = self.blocked_by(viewer_id).await?;
                if blocked.is_empty() {
                    return Ok(true);
                }
                let message = self.messages_by_ids(&[*message_id]).await?;
                Ok(message
                    .values()
                    .all(|m| m.sender_id.is_none_or(|s| !blocked.contains(&s))))
            }
            Ephemeral::Presence { .. } => Ok(true),
        }
    }

    /// Pairs replayed events with their messages, read in one statement.
    async fn with_messages(&self, events: Vec<event::Model>) -> Result<Vec<LoggedEvent>> {
        let ids: Vec<i64> = events.iter().filter_map(|e| e.message_id).collect();
        let messages = match ids.is_empty() {
            true => Default::default(),
            false => self.messages_by_ids(&ids).await?,
        };
        let refs: Vec<&message::Model> = messages.values().collect();
        Ok(LoggedEvent::attach(events, &refs))
    }
}
