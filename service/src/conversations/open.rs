//! Opening conversations: the one direct conversation of a pair (about a
//! context, or about nothing), and groups with their first members.

use super::members::insert_members;
use std::collections::HashSet;

use entity::{
    conversation::{self, HistoryVisibility, Kind},
    conversation_member::Role,
    event::Kind as EventKind,
    user,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;

use crate::{
    Actor, Service, Viewer,
    error::{Error, Result, is_unique_violation},
    events::NewEvent,
    time::now,
    validate,
};

pub struct CreateGroup {
    /// `None` (or blank): the group takes a title from its first message.
    pub title: Option<String>,
    pub member_ids: Vec<i64>,
    pub context: Option<String>,
    /// What members see of the time before they joined (default: shared).
    pub history_visibility: HistoryVisibility,
}

impl Service {
    /// Gets or creates the one direct conversation between the viewer and
    /// `other` about `context` (or about nothing); from either side, and
    /// under concurrent calls, it is the same.
    #[tracing::instrument(skip(self), fields(user_id = viewer.user_id))]
    pub async fn open_direct(
        &self,
        viewer: &Viewer,
        other: i64,
        context: Option<String>,
    ) -> Result<conversation::Model> {
        let context = validate::context(context)?;
        if other == viewer.user_id {
            return Err(Error::invalid(
                "userId",
                "cannot open a direct conversation with yourself",
            ));
        }
        if user::Entity::find_by_id(other)
            .one(self.db())
            .await?
            .is_none()
        {
            return Err(Error::NotFound("user"));
        }
        // Either blocks the other: no direct conversation, old or new.
        if crate::accounts::either_blocks(self.db(), viewer.user_id, other).await? {
            return Err(Error::Forbidden(crate::accounts::DIRECT_BLOCKED));
        }
        let key = direct_key(viewer.user_id, other, context.as_deref());
        if let Some(existing) = self.direct_by_key(&key).await? {
            return Ok(existing);
        }

        let txn = self.write().await?;
        let at = now();
        let inserted = conversation::ActiveModel {
            kind: Set(Kind::Direct),
            title: Set(None),
            direct_key: Set(Some(key.clone())),
            context: Set(context),
            created_by: Set(Some(viewer.user_id)),
            last_seq: Set(0),
            last_activity_at: Set(at),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        };
        let created = match conversation::Entity::insert(inserted)
            .exec_with_returning(&*txn)
            .await
        {
            Ok(created) => created,
            Err(err) if is_unique_violation(&err) => {
                // A concurrent call created it first.
                txn.rollback().await?;
                return self
                    .direct_by_key(&key)
                    .await?
                    .ok_or(Error::NotFound("conversation"));
            }
            Err(err) => return Err(err.into()),
        };
        insert_members(
            &txn,
            created.id,
            at,
            0,
            [(viewer.user_id, Role::Member), (other, Role::Member)],
        )
        .await?;
        let joined = joined_events(created.id, None, [viewer.user_id, other]);
        self.commit_logged(txn, joined).await?;
        Ok(created)
    }

    async fn direct_by_key(&self, key: &str) -> Result<Option<conversation::Model>> {
        // A deleted direct conversation gives up its key (see
        // `delete_conversation`), so this finds live ones only.
        Ok(conversation::Entity::find()
            .filter(conversation::Column::DirectKey.eq(key))
            .one(self.db())
            .await?)
    }

    /// A group with the acting user as its owner and `member_ids` as
    /// members. The host app creates groups with an owner among
    /// `member_ids` (the first one).
    #[tracing::instrument(skip_all, fields(actor = ?actor))]
    pub async fn create_group(
        &self,
        actor: &Actor,
        input: CreateGroup,
    ) -> Result<conversation::Model> {
        let title = validate::title(input.title)?;
        let context = validate::context(input.context)?;
        let mut ids = input.member_ids.into_iter();
        let owner = match actor {
            Actor::User(viewer) => viewer.user_id,
            Actor::HostApp => ids
                .next()
                .ok_or_else(|| Error::invalid("memberIds", "must name the owner first"))?,
        };
        let mut seen = HashSet::from([owner]);
        let members: Vec<i64> = ids.filter(|id| seen.insert(*id)).collect();
        let max = self.settings().max_group_members;
        if members.len() + 1 > max {
            return Err(Error::invalid(
                "memberIds",
                format!("a group has at most {max} members"),
            ));
        }
        let found = user::Entity::find()
            .filter(user::Column::Id.is_in(members.iter().copied().chain([owner])))
            .count(self.db())
            .await?;
        if found != members.len() as u64 + 1 {
            return Err(Error::invalid(
                "memberIds",
                "names a user who does not exist",
            ));
        }

        let txn = self.write().await?;
        let at = now();
        let created = conversation::Entity::insert(conversation::ActiveModel {
            kind: Set(Kind::Group),
            title: Set(title),
            direct_key: Set(None),
            context: Set(context),
            created_by: Set(Some(owner)),
            history_visibility: Set(input.history_visibility),
            last_seq: Set(0),
            last_activity_at: Set(at),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        })
        .exec_with_returning(&*txn)
        .await?;
        let joined = joined_events(
            created.id,
            actor.user_id(),
            std::iter::once(owner).chain(members.iter().copied()),
        );
        let roles = std::iter::once((owner, Role::Owner))
            .chain(members.into_iter().map(|id| (id, Role::Member)));
        insert_members(&txn, created.id, at, 0, roles).await?;
        self.commit_logged(txn, joined).await?;
        Ok(created)
    }
}

/// The unique key of a direct conversation: the pair, lower id first, and
/// the context when there is one.
pub(crate) fn direct_key(a: i64, b: i64, context: Option<&str>) -> String {
    let (low, high) = (Ord::min(a, b), Ord::max(a, b));
    match context {
        Some(context) => format!("{low}:{high}:{context}"),
        None => format!("{low}:{high}"),
    }
}

/// The events of people joining a new conversation, so that their `events`
/// streams start following it.
fn joined_events(
    conversation_id: i64,
    actor: Option<i64>,
    user_ids: impl IntoIterator<Item = i64>,
) -> Vec<NewEvent> {
    user_ids
        .into_iter()
        .map(|id| {
            NewEvent::new(conversation_id, EventKind::MemberJoined)
                .user(id)
                .data(json!({ "actorId": actor }))
        })
        .collect()
}
