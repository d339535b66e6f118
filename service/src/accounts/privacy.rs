//! Who may see a person's presence and find them: the privacy settings
//! `PARLEY_PRESENCE_VISIBILITY` and `PARLEY_USER_SEARCH`.
//!
//! A contact is someone who shares a conversation (not deleted) with the
//! viewer; everyone is their own contact here.

use std::collections::HashSet;

use entity::{conversation, conversation_member};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Query, SelectStatement},
};

use crate::{Service, Viewer, error::Result};

/// Who sees something about a person: only their contacts, or anyone
/// signed in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Audience {
    /// People who share a conversation with them (the default).
    #[default]
    Contacts,
    /// Anyone signed in.
    Everyone,
}

impl Service {
    /// Of `user_ids`, those whose presence (`online`, `lastSeenAt`) the
    /// viewer may see: themselves and, under [`Audience::Contacts`], the
    /// people they share a conversation with; under
    /// [`Audience::Everyone`], all of them.
    pub async fn presence_visible(
        &self,
        viewer: &Viewer,
        user_ids: &[i64],
    ) -> Result<HashSet<i64>> {
        if self.settings().presence_visibility == Audience::Everyone {
            return Ok(user_ids.iter().copied().collect());
        }
        let others: Vec<i64> = user_ids
            .iter()
            .copied()
            .filter(|id| *id != viewer.user_id)
            .collect();
        let mut visible: HashSet<i64> = match others.is_empty() {
            true => HashSet::new(),
            false => conversation_member::Entity::find()
                .select_only()
                .distinct()
                .column(conversation_member::Column::UserId)
                .filter(
                    conversation_member::Column::ConversationId
                        .in_subquery(live_conversations_of(viewer.user_id)),
                )
                .filter(conversation_member::Column::UserId.is_in(others))
                .into_tuple::<i64>()
                .all(self.db())
                .await?
                .into_iter()
                .collect(),
        };
        if user_ids.contains(&viewer.user_id) {
            visible.insert(viewer.user_id);
        }
        Ok(visible)
    }
}

/// The ids of the conversations `user_id` is a member of, deleted ones
/// left out.
pub(crate) fn live_conversations_of(user_id: i64) -> SelectStatement {
    Query::select()
        .column((
            conversation_member::Entity,
            conversation_member::Column::ConversationId,
        ))
        .from(conversation_member::Entity)
        .inner_join(
            conversation::Entity,
            Expr::col((conversation::Entity, conversation::Column::Id)).equals((
                conversation_member::Entity,
                conversation_member::Column::ConversationId,
            )),
        )
        .and_where(
            Expr::col((
                conversation_member::Entity,
                conversation_member::Column::UserId,
            ))
            .eq(user_id),
        )
        .and_where(Expr::col((conversation::Entity, conversation::Column::DeletedAt)).is_null())
        .to_owned()
}

/// The ids of everyone sharing a live conversation with `user_id`
/// (themselves included), for filtering a user query.
pub(crate) fn contacts_of_query(user_id: i64) -> SelectStatement {
    Query::select()
        .column((
            conversation_member::Entity,
            conversation_member::Column::UserId,
        ))
        .from(conversation_member::Entity)
        .and_where(
            Expr::col((
                conversation_member::Entity,
                conversation_member::Column::ConversationId,
            ))
            .in_subquery(live_conversations_of(user_id)),
        )
        .to_owned()
}
