//! A conversation's settings: renaming and metadata, and each member's
//! archive and mute.

use chrono::{DateTime, Utc};
use entity::{
    conversation::{self, HistoryVisibility, Kind},
    conversation_member,
    event::Kind as EventKind,
};
use sea_orm::{EntityTrait, Set};
use serde_json::json;

use super::access::may_change_settings;
use crate::{
    Actor, Service, Viewer,
    conversations::{Change, append_system, lock_conversation},
    error::{Error, Result},
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
    /// Groups only: what members see of the time before they joined.
    pub history_visibility: Option<HistoryVisibility>,
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
        let visible = self.group_for(actor, conversation_id).await?;
        if input.history_visibility.is_some() && visible.kind != Kind::Group {
            return Err(Error::invalid(
                "historyVisibility",
                "only groups have a history visibility",
            ));
        }

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
        if let Some(history) = input.history_visibility
            && history != current.history_visibility
        {
            fields.push("historyVisibility");
            update.history_visibility = Set(history);
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
}
