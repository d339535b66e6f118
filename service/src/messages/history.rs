//! Reading messages: one, a page of history, the newest of each
//! conversation, and following new ones live (`messageAdded`).

use std::collections::HashMap;

use entity::{conversation, message, user};
use futures_util::Stream;
use sea_orm::{
    ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    Service, Viewer,
    accounts::hides_blocked,
    conversations::history_floor,
    error::{Error, Result},
    events::{Event, Received, Topic},
    page::{Page, PageArgs, Window},
};

/// Rows a live stream reads per query while catching up.
const CATCH_UP_BATCH: u64 = 100;

impl Service {
    /// One message, if the viewer is a member of its conversation (and,
    /// in a group whose history is visible since joining, it came after
    /// their latest join). To anyone else it does not exist, whether or
    /// not it does.
    pub async fn message(&self, viewer: &Viewer, id: i64) -> Result<message::Model> {
        let message = message::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("message"))?;
        let conversation = self
            .conversation(viewer, message.conversation_id)
            .await
            .map_err(|_| Error::NotFound("message"))?;
        // A blocked sender's message does not exist for the blocker.
        if !self
            .sees_history(&conversation, viewer, message.seq)
            .await?
            || !self.sees_sender(viewer.user_id, &message).await?
        {
            return Err(Error::NotFound("message"));
        }
        Ok(message)
    }

    /// A page of the conversation's history in seq order. Seqs are dense,
    /// so whether there is more on either side follows from the page itself.
    pub async fn messages(
        &self,
        viewer: &Viewer,
        conversation: &conversation::Model,
        args: PageArgs<i64>,
    ) -> Result<Page<message::Model>> {
        // Re-checked here because a connection field may be reached from a
        // conversation loaded earlier in the request.
        let conversation = self.conversation(viewer, conversation.id).await?;
        // Since-joined history starts at the viewer's latest join, and
        // messages of people the viewer blocks are left out, so seqs on a
        // page may skip: the extra row says whether there is more in the
        // direction read, the seqs say it for the other.
        let floor = history_floor(self.db(), &conversation, viewer.user_id).await?;
        let query = message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation.id))
            .filter(message::Column::Seq.gte(floor))
            .filter(hides_blocked(viewer.user_id));
        let (items, has_previous_page, has_next_page) = match args.window(true)? {
            Window::Forward { after, limit } => {
                let mut rows = query
                    .filter(message::Column::Seq.gt(after.unwrap_or(0)))
                    .order_by_asc(message::Column::Seq)
                    .limit(limit + 1)
                    .all(self.db())
                    .await?;
                let more = rows.len() as u64 > limit;
                rows.truncate(limit as usize);
                let earlier = rows.first().is_some_and(|m| m.seq > Ord::max(1, floor));
                (rows, earlier, more)
            }
            Window::Backward { before, limit } => {
                let mut rows = query
                    .filter(message::Column::Seq.lt(before.unwrap_or(i64::MAX)))
                    .order_by_desc(message::Column::Seq)
                    .limit(limit + 1)
                    .all(self.db())
                    .await?;
                let more = rows.len() as u64 > limit;
                rows.truncate(limit as usize);
                rows.reverse();
                let later = rows.last().is_some_and(|m| m.seq < conversation.last_seq);
                (rows, more, later)
            }
        };
        // The page reaches the viewer's client: delivered up to its end.
        if let Some(last) = items.last() {
            self.note_delivered(viewer.user_id, conversation.id, last.seq);
        }
        Ok(Page {
            items,
            has_previous_page,
            has_next_page,
        })
    }

    /// The newest message of each conversation with its sender, for batch
    /// loading. The caller must already have checked that the viewer may
    /// see them.
    pub async fn last_messages(
        &self,
        viewer_id: Option<i64>,
        conversation_ids: &[i64],
    ) -> Result<HashMap<i64, (message::Model, Option<user::Model>)>> {
        let rows = message::Entity::find()
            .find_also_related(user::Entity)
            .join(JoinType::InnerJoin, message::Relation::Conversation.def())
            .filter(conversation::Column::Id.is_in(conversation_ids.iter().copied()))
            .filter(
                Expr::col((message::Entity, message::Column::Seq))
                    .equals((conversation::Entity, conversation::Column::LastSeq)),
            )
            .all(self.db())
            .await?;
        let mut last: HashMap<i64, (message::Model, Option<user::Model>)> = rows
            .into_iter()
            .map(|(m, sender)| (m.conversation_id, (m, sender)))
            .collect();
        // Where the newest is from someone the viewer blocks, the preview
        // is the newest message the viewer may see (rare: one query each).
        let Some(viewer_id) = viewer_id else {
            return Ok(last);
        };
        let blocked = self.blocked_by(viewer_id).await?;
        if blocked.is_empty() {
            return Ok(last);
        }
        let hidden: Vec<i64> = last
            .iter()
            .filter(|(_, (m, _))| m.sender_id.is_some_and(|s| blocked.contains(&s)))
            .map(|(id, _)| *id)
            .collect();
        for id in hidden {
            last.remove(&id);
            if let Some(found) = message::Entity::find()
                .find_also_related(user::Entity)
                .filter(message::Column::ConversationId.eq(id))
                .filter(hides_blocked(viewer_id))
                .order_by_desc(message::Column::Seq)
                .one(self.db())
                .await?
            {
                last.insert(id, found);
            }
        }
        Ok(last)
    }

    /// Up to `limit` messages after `after_seq`, if the viewer is a member.
    async fn messages_after(
        &self,
        viewer: &Viewer,
        conversation_id: i64,
        after_seq: i64,
        limit: u64,
    ) -> Result<Vec<message::Model>> {
        let conversation = self.conversation(viewer, conversation_id).await?;
        let floor = history_floor(self.db(), &conversation, viewer.user_id).await?;
        Ok(message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id))
            .filter(message::Column::Seq.gt(after_seq))
            .filter(message::Column::Seq.gte(floor))
            .order_by_asc(message::Column::Seq)
            .limit(limit)
            .all(self.db())
            .await?)
    }

    /// New messages of a conversation as they are committed. With
    /// `after_seq`, the stored messages after it come first; the stream then
    /// continues live with no gap and no duplicate between the two.
    ///
    /// The stream subscribes to the bus before it reads, and tracks the
    /// last seq it delivered. Live messages come from the event log's
    /// sequencer (on every instance, in id order, which is seq order within
    /// a conversation). A live message that skips ahead (a subscriber that
    /// started mid-way), or a lagged receiver, makes it re-read the
    /// missing range from the database; a message it already delivered is
    /// dropped. Membership is re-checked on every read and before every
    /// `system` notice (which is how removals reach the timeline), and the
    /// stream ends with an error once the viewer can no longer see the
    /// conversation. Messages after a removal come after its notice (seqs
    /// are dense and delivered in order), so none slips through. Each
    /// message it yields counts as delivered to the viewer.
    pub async fn follow_messages(
        &self,
        viewer: Viewer,
        conversation_id: i64,
        after_seq: Option<i64>,
    ) -> Result<impl Stream<Item = Result<message::Model>> + Send + use<>> {
        if after_seq.is_some_and(|seq| seq < 0) {
            return Err(Error::invalid("afterSeq", "must not be negative"));
        }
        let mut subscription = self.bus().subscribe(Topic::Conversation(conversation_id));
        let conversation = self.conversation(&viewer, conversation_id).await?;
        let service = self.clone();
        // A client cannot have seen past the newest message; clamping keeps
        // a bad afterSeq from silently swallowing the next live messages.
        let mut cursor = after_seq.map_or(conversation.last_seq, |seq| {
            Ord::min(seq, conversation.last_seq)
        });
        let mut catch_up = after_seq.is_some();
        Ok(async_stream::try_stream! {
            loop {
                while catch_up {
                    let batch = service
                        .messages_after(&viewer, conversation_id, cursor, CATCH_UP_BATCH)
                        .await?;
                    catch_up = batch.len() as u64 == CATCH_UP_BATCH;
                    for message in batch {
                        cursor = message.seq;
                        service.note_delivered(viewer.user_id, conversation_id, cursor);
                        if service.sees_sender(viewer.user_id, &message).await? {
                            yield message;
                        }
                    }
                }
                match subscription.recv().await {
                    Received::Event(event) => match &*event {
                        Event::MessageAdded(message) => {
                            if message.seq <= cursor {
                                continue;
                            }
                            if message.seq != cursor + 1 {
                                catch_up = true;
                                continue;
                            }
                            // A notice may say the viewer was removed: from
                            // then on they get nothing, so check first.
                            if message.kind == message::Kind::System {
                                service.conversation(&viewer, conversation_id).await?;
                            }
                            cursor = message.seq;
                            service.note_delivered(viewer.user_id, conversation_id, cursor);
                            if service.sees_sender(viewer.user_id, message).await? {
                                yield message.clone();
                            }
                        }
                        Event::ConversationChanged { .. } => {
                            service.conversation(&viewer, conversation_id).await?;
                        }
                    },
                    Received::Lagged(missed) => {
                        tracing::debug!(conversation_id, missed, "subscriber lagged; re-reading");
                        catch_up = true;
                    }
                    Received::Closed => break,
                }
            }
        })
    }
}
