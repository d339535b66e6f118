//! A conversation's settings and life: renaming and metadata, each
//! member's archive and mute, deletion, restoring and purging, and the
//! viewer's totals.

use chrono::{DateTime, Utc};
use entity::{
    conversation::{self, Kind},
    conversation_member,
    event::Kind as EventKind,
    message,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter,
    QuerySelect, RelationTrait, Set, sea_query::Expr,
};
use serde_json::json;

use super::access::{may_change_settings, may_delete, role_of};
use crate::{
    Actor, Service, Viewer,
    conversations::{Change, append_system, lock_conversation},
    conversations::{direct_key, unread_after},
    error::{Error, Result, is_unique_violation},
    events::Event,
    events::NewEvent,
    time::now,
    validate,
};

/// Changes to a conversation's settings. For each field, `None` leaves it
/// alone and `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct UpdateConversation {
    pub title: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    pub metadata: Option<Option<serde_json::Value>>,
}

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
    /// Renames a conversation or changes what the host app attached to it.
    /// In a group, owners and admins may; in a direct conversation, either
    /// person. The change is recorded in the timeline.
    #[tracing::instrument(skip(self, input), fields(actor = ?actor))]
    pub async fn update_conversation(
        &self,
        actor: &Actor,
        conversation_id: i64,
        input: UpdateConversation,
    ) -> Result<conversation::Model> {
        let title = input.title.map(validate::title).transpose()?;
        let description = input.description.map(validate::description).transpose()?;
        let avatar_url = input
            .avatar_url
            .map(validate::optional_avatar_url)
            .transpose()?;
        let metadata = input.metadata.map(validate::metadata).transpose()?;
        self.group_for(actor, conversation_id).await?;

        let txn = self.write().await?;
        let current = lock_conversation(&*txn, conversation_id).await?;
        may_change_settings(&*txn, actor, &current).await?;
        let mut fields = Vec::new();
        let mut update = conversation::ActiveModel {
            id: Set(conversation_id),
            updated_at: Set(now()),
            ..Default::default()
        };
        let mut renamed = None;
        if let Some(title) = title
            && title != current.title
        {
            fields.push("title");
            renamed.clone_from(&title);
            update.title = Set(title);
        }
        if let Some(description) = description
            && description != current.description
        {
            fields.push("description");
            update.description = Set(description);
        }
        if let Some(avatar_url) = avatar_url
            && avatar_url != current.avatar_url
        {
            fields.push("avatarUrl");
            update.avatar_url = Set(avatar_url);
        }
        if let Some(metadata) = metadata
            && metadata != current.metadata
        {
            fields.push("metadata");
            update.metadata = Set(metadata);
        }
        if fields.is_empty() {
            drop(txn);
            return self.group_for(actor, conversation_id).await;
        }
        conversation::Entity::update(update).exec(&*txn).await?;
        let (conversation, notice, logged) = append_system(
            &*txn,
            conversation_id,
            actor.user_id(),
            &Change::Updated {
                fields,
                title: renamed,
            },
        )
        .await?;
        self.commit_logged_with(txn, logged, &[&notice]).await?;
        self.bus().publish(Event::MessageAdded(notice));
        Ok(conversation)
    }

    /// Hides a conversation from the viewer's inbox (or brings it back).
    /// The next message brings it back by itself.
    pub async fn set_archived(
        &self,
        viewer: &Viewer,
        conversation_id: i64,
        archived: bool,
    ) -> Result<conversation::Model> {
        self.update_own_membership(viewer, conversation_id, |m| {
            m.archived = Set(archived);
        })
        .await
    }

    /// Mutes a conversation for the viewer, for good or until `until`:
    /// it stops counting in their total unread count.
    pub async fn set_muted(
        &self,
        viewer: &Viewer,
        conversation_id: i64,
        muted: bool,
        until: Option<DateTime<Utc>>,
    ) -> Result<conversation::Model> {
        if muted && until.is_some_and(|t| t <= now()) {
            return Err(Error::invalid("until", "must be in the future"));
        }
        self.update_own_membership(viewer, conversation_id, |m| {
            m.muted = Set(muted);
            m.muted_until = Set(if muted { until } else { None });
        })
        .await
    }

    async fn update_own_membership(
        &self,
        viewer: &Viewer,
        conversation_id: i64,
        change: impl FnOnce(&mut conversation_member::ActiveModel),
    ) -> Result<conversation::Model> {
        let conversation = self.conversation(viewer, conversation_id).await?;
        let mut update = conversation_member::ActiveModel {
            conversation_id: Set(conversation_id),
            user_id: Set(viewer.user_id),
            ..Default::default()
        };
        change(&mut update);
        let txn = self.write().await?;
        let row = conversation_member::Entity::update(update)
            .exec(&*txn)
            .await?;
        let mine = NewEvent::new(conversation_id, EventKind::ConversationUpdated)
            .only_for(viewer.user_id)
            .data(json!({ "fields": ["archived", "muted"], "archived": row.archived, "muted": row.muted }));
        self.commit_logged(txn, vec![mine]).await?;
        Ok(conversation)
    }

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
        // Hidden conversations count nothing; restoring recounts.
        conversation_member::Entity::update_many()
            .col_expr(conversation_member::Column::UnreadCount, Expr::value(0))
            .filter(conversation_member::Column::ConversationId.eq(conversation_id))
            .exec(&*txn)
            .await?;
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
        // Its messages and memberships (with their read state) go with it,
        // in this transaction: ON DELETE CASCADE, which `db::connect` turns
        // on for SQLite.
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
    fn restorable_since(&self) -> DateTime<Utc> {
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
        // Only what can still be restored: past the retention period a
        // deleted conversation waits for the purge and counts as gone.
        let deleted = memberships()
            .filter(conversation::Column::DeletedAt.gt(self.restorable_since()))
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

/// Memberships whose mute is off or has run out at `at`.
pub(crate) fn not_muted(at: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(conversation_member::Column::Muted.eq(false))
        .add(conversation_member::Column::MutedUntil.lte(at))
}

/// Each member's unread count, counted afresh (after a restore).
async fn recount_unread<C: ConnectionTrait>(db: &C, conversation_id: i64) -> Result<()> {
    let members = conversation_member::Entity::find()
        .filter(conversation_member::Column::ConversationId.eq(conversation_id))
        .all(db)
        .await?;
    for member in members {
        let unread =
            unread_after(db, member.user_id, conversation_id, member.last_read_seq).await?;
        conversation_member::Entity::update_many()
            .col_expr(
                conversation_member::Column::UnreadCount,
                Expr::value(unread),
            )
            .filter(conversation_member::Column::ConversationId.eq(conversation_id))
            .filter(conversation_member::Column::UserId.eq(member.user_id))
            .exec(db)
            .await?;
    }
    Ok(())
}
