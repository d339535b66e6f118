//! A conversation's life: deletion, restoring and purging, and the
//! viewer's totals.

use super::{
    open::direct_key,
    unread::{recount_unread, zero_unread},
};
use chrono::{DateTime, Utc};
use entity::{
    conversation::{self, Kind},
    conversation_member,
    event::Kind as EventKind,
    message,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter,
    QuerySelect, RelationTrait, Set,
};
use serde_json::json;

use super::access::{may_delete, may_restore_condition, role_of};
use crate::{
    Actor, Service, Viewer,
    conversations::lock_conversation,
    db,
    error::{Error, Result, is_unique_violation},
    events::Event,
    events::NewEvent,
    time::now,
};

/// The viewer's totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub active: u64,
    pub archived: u64,
    pub deleted: u64,
    pub messages_sent: u64,
    pub unread: i64,
}

impl Service {
    /// Deletes a conversation for everyone at once; its owner (either
    /// person, in a direct conversation) can restore it within the
    /// retention period. Open streams on it end.
    #[tracing::instrument(skip(self), fields(actor = ?actor))]
    pub async fn delete_conversation(&self, actor: &Actor, conversation_id: i64) -> Result<()> {
        self.group_for(actor, conversation_id).await?;
        let txn = self.write().await?;
        let current = lock_conversation(&*txn, conversation_id).await?;
        may_delete(&*txn, actor, &current).await?;
        conversation::Entity::update(conversation::ActiveModel {
            id: Set(conversation_id),
            deleted_at: Set(Some(now())),
            // Frees the pair (and context) for a new direct conversation.
            direct_key: Set(None),
            ..Default::default()
        })
        .exec(&*txn)
        .await?;
        zero_unread(&*txn, conversation_id).await?;
        let deleted = NewEvent::new(conversation_id, EventKind::ConversationUpdated)
            .data(json!({ "actorId": actor.user_id(), "fields": ["deletedAt"], "deleted": true }));
        self.commit_logged(txn, vec![deleted]).await?;
        self.bus()
            .publish(Event::ConversationChanged { conversation_id });
        Ok(())
    }

    /// Brings a deleted conversation back, within the retention period.
    #[tracing::instrument(skip(self), fields(actor = ?actor))]
    pub async fn restore_conversation(
        &self,
        actor: &Actor,
        conversation_id: i64,
    ) -> Result<conversation::Model> {
        let txn = self.write().await?;
        let current = self
            .deleted_conversation(&*txn, actor, conversation_id)
            .await?;
        may_delete(&*txn, actor, &current).await?;
        let key = match current.kind {
            Kind::Direct => {
                let members = conversation_member::Entity::find()
                    .filter(conversation_member::Column::ConversationId.eq(conversation_id))
                    .all(&*txn)
                    .await?;
                match members.as_slice() {
                    [a, b] => Some(direct_key(a.user_id, b.user_id, current.context.as_deref())),
                    _ => None,
                }
            }
            Kind::Group => None,
        };
        let restored = conversation::Entity::update(conversation::ActiveModel {
            id: Set(conversation_id),
            deleted_at: Set(None),
            direct_key: Set(key),
            ..Default::default()
        })
        .exec(&*txn)
        .await;
        let restored = match restored {
            Ok(restored) => restored,
            Err(err) if is_unique_violation(&err) => {
                return Err(Error::conflict(
                    "id",
                    "these people have opened a new conversation about this since",
                ));
            }
            Err(err) => return Err(err.into()),
        };
        recount_unread(&*txn, conversation_id).await?;
        let back = NewEvent::new(conversation_id, EventKind::ConversationUpdated)
            .data(json!({ "actorId": actor.user_id(), "fields": ["deletedAt"], "deleted": false }));
        self.commit_logged(txn, vec![back]).await?;
        self.bus()
            .publish(Event::ConversationChanged { conversation_id });
        Ok(restored)
    }

    /// Removes a conversation (live or deleted) with all its messages,
    /// members and read state, in one transaction. Only its owner may.
    #[tracing::instrument(skip(self), fields(actor = ?actor))]
    pub async fn delete_conversation_permanently(
        &self,
        actor: &Actor,
        conversation_id: i64,
    ) -> Result<()> {
        let txn = self.write().await?;
        let current = match lock_conversation(&*txn, conversation_id).await {
            Ok(live) => {
                // Non-members must not learn that it exists.
                if let Actor::User(viewer) = actor {
                    role_of(&*txn, conversation_id, viewer.user_id)
                        .await?
                        .ok_or(Error::NotFound("conversation"))?;
                }
                live
            }
            Err(Error::NotFound(_)) => {
                self.deleted_conversation(&*txn, actor, conversation_id)
                    .await?
            }
            Err(err) => return Err(err),
        };
        may_delete(&*txn, actor, &current).await?;
        self.remove_conversation(txn, conversation_id).await
    }

    /// Removes a conversation in the caller's transaction and commits. Its
    /// messages and memberships (with their read state) go with it, in
    /// this transaction: ON DELETE CASCADE, which `db::connect` turns on
    /// for SQLite. Streams still open on it end.
    pub(crate) async fn remove_conversation(
        &self,
        txn: db::WriteTx,
        conversation_id: i64,
    ) -> Result<()> {
        conversation::Entity::delete_by_id(conversation_id)
            .exec(&*txn)
            .await?;
        txn.commit().await?;
        self.bus()
            .publish(Event::ConversationChanged { conversation_id });
        Ok(())
    }

    /// Permanently removes conversations deleted longer ago than the
    /// retention period; returns how many. Run periodically by the server.
    pub async fn purge_deleted(&self) -> Result<u64> {
        let txn = self.write().await?;
        let purged = conversation::Entity::delete_many()
            .filter(conversation::Column::DeletedAt.lt(self.restorable_since()))
            .exec(&*txn)
            .await?;
        txn.commit().await?;
        Ok(purged.rows_affected)
    }

    /// Conversations deleted after this time can still be restored; older
    /// ones wait for the purge.
    pub(crate) fn restorable_since(&self) -> DateTime<Utc> {
        chrono::Duration::from_std(self.settings().delete_retention)
            .map(|retention| now() - retention)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// A deleted conversation still in its restore window, if the actor
    /// took part in it (the host app: any).
    async fn deleted_conversation<C: ConnectionTrait>(
        &self,
        db: &C,
        actor: &Actor,
        conversation_id: i64,
    ) -> Result<conversation::Model> {
        let mut query = conversation::Entity::find_by_id(conversation_id)
            .filter(conversation::Column::DeletedAt.gt(self.restorable_since()));
        if let Actor::User(viewer) = actor {
            query = query
                .join(
                    JoinType::InnerJoin,
                    conversation::Relation::ConversationMember.def(),
                )
                .filter(conversation_member::Column::UserId.eq(viewer.user_id));
        }
        query.one(db).await?.ok_or(Error::NotFound("conversation"))
    }

    /// The viewer's totals: conversations by state, messages sent, unread.
    pub async fn my_stats(&self, viewer: &Viewer) -> Result<Stats> {
        let memberships = || {
            conversation_member::Entity::find()
                .join(
                    JoinType::InnerJoin,
                    conversation_member::Relation::Conversation.def(),
                )
                .filter(conversation_member::Column::UserId.eq(viewer.user_id))
        };
        let live = Condition::all().add(conversation::Column::DeletedAt.is_null());
        let active = memberships()
            .filter(live.clone())
            .filter(conversation_member::Column::Archived.eq(false))
            .count(self.db())
            .await?;
        let archived = memberships()
            .filter(live)
            .filter(conversation_member::Column::Archived.eq(true))
            .count(self.db())
            .await?;
        // Only what the viewer can still restore: past the retention period
        // a deleted conversation waits for the purge and counts as gone, and
        // a group's members other than its owner cannot bring it back.
        let deleted = memberships()
            .filter(conversation::Column::DeletedAt.gt(self.restorable_since()))
            .filter(may_restore_condition())
            .count(self.db())
            .await?;
        let messages_sent = message::Entity::find()
            .filter(message::Column::SenderId.eq(viewer.user_id))
            .count(self.db())
            .await?;
        Ok(Stats {
            active,
            archived,
            deleted,
            messages_sent,
            unread: self.total_unread(viewer).await?,
        })
    }
}
