//! A person's own data, for `exportMyData`: their profile, sessions,
//! memberships, the messages they sent and the reactions they made, and
//! nothing of anyone else's. Messages and reactions come in pages (by id),
//! so that a long history is fetched in as many requests as it needs.

use entity::{conversation, conversation_member, message, reaction, session, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{
    Service, Viewer,
    error::{Error, Result},
};

/// Most messages (and most reactions) in one page of an export.
pub const EXPORT_PAGE_MAX: u64 = 1000;
/// Messages (and reactions) in a page when the caller does not say.
pub const EXPORT_PAGE_DEFAULT: u64 = 500;

/// Where a page of an export starts: after these message and reaction ids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportCursor {
    pub message: i64,
    pub reaction: i64,
}

/// One page of a person's data. The profile, sessions and memberships
/// come with the first page only (`after` unset).
#[derive(Clone, Debug)]
pub struct Export {
    pub profile: Option<user::Model>,
    pub sessions: Vec<session::Model>,
    pub memberships: Vec<(conversation_member::Model, conversation::Model)>,
    pub messages: Vec<message::Model>,
    pub reactions: Vec<(reaction::Model, i64)>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<ExportCursor>,
}

impl Service {
    /// A page of the viewer's own data: up to `first` of their messages
    /// (oldest first) and of their reactions after `after`.
    #[tracing::instrument(skip(self), fields(user_id = viewer.user_id))]
    pub async fn export_my_data(
        &self,
        viewer: &Viewer,
        after: Option<ExportCursor>,
        first: Option<i64>,
    ) -> Result<Export> {
        let limit = match first {
            None => EXPORT_PAGE_DEFAULT,
            Some(n) if (1..=EXPORT_PAGE_MAX as i64).contains(&n) => n as u64,
            Some(_) => {
                return Err(Error::invalid(
                    "first",
                    format!("must be between 1 and {EXPORT_PAGE_MAX}"),
                ));
            }
        };
        let me = self.me(viewer).await?;
        let (profile, sessions, memberships) = match after {
            Some(_) => (None, Vec::new(), Vec::new()),
            None => {
                let sessions = session::Entity::find()
                    .filter(session::Column::UserId.eq(me.id))
                    .order_by_asc(session::Column::Id)
                    .all(self.db())
                    .await?;
                let memberships = conversation_member::Entity::find()
                    .find_also_related(conversation::Entity)
                    .filter(conversation_member::Column::UserId.eq(me.id))
                    .order_by_asc(conversation_member::Column::ConversationId)
                    .all(self.db())
                    .await?
                    .into_iter()
                    .filter_map(|(m, c)| c.map(|c| (m, c)))
                    .collect();
                (Some(me), sessions, memberships)
            }
        };
        let after = after.unwrap_or_default();
        let messages = message::Entity::find()
            .filter(message::Column::SenderId.eq(viewer.user_id))
            .filter(message::Column::Id.gt(after.message))
            .order_by_asc(message::Column::Id)
            .limit(limit + 1)
            .all(self.db())
            .await?;
        let reactions: Vec<(reaction::Model, Option<message::Model>)> = reaction::Entity::find()
            .find_also_related(message::Entity)
            .filter(reaction::Column::UserId.eq(viewer.user_id))
            .filter(reaction::Column::Id.gt(after.reaction))
            .order_by_asc(reaction::Column::Id)
            .limit(limit + 1)
            .all(self.db())
            .await?;
        let more = messages.len() as u64 > limit || reactions.len() as u64 > limit;
        let messages: Vec<_> = messages.into_iter().take(limit as usize).collect();
        let reactions: Vec<_> = reactions
            .into_iter()
            .take(limit as usize)
            .filter_map(|(r, m)| m.map(|m| (r, m.conversation_id)))
            .collect();
        let next = more.then(|| ExportCursor {
            message: messages.last().map_or(after.message, |m| m.id),
            reaction: reactions.last().map_or(after.reaction, |(r, _)| r.id),
        });
        Ok(Export {
            profile,
            sessions,
            memberships,
            messages,
            reactions,
            next,
        })
    }
}
