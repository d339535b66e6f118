//! Managing a group's members and their roles.
//!
//! Owners and admins add and remove members; only the owner (or the host
//! app, with the admin key) manages admins and hands on ownership. Every
//! change is checked and made under the conversation's lock and recorded in
//! the timeline as a `system` message, published after commit.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{
    conversation::{self, Kind},
    conversation_member::{self, Role},
    user,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};

use super::access::{may_be_added, may_change_roles, may_manage_members, may_remove, role_of};
use crate::{
    Actor, Service,
    conversations::{Change, append_system, lock_conversation},
    db,
    error::{Error, Result},
    time::now,
};

/// What happened to the conversation when someone left.
#[derive(Debug, PartialEq, Eq)]
pub enum Left {
    /// Others remain (and one of them may now own it).
    Remains,
    /// The last member left: the group is gone.
    Deleted,
}

impl Service {
    /// Adds people to a group. Owners, admins and the host app may; people
    /// already in it are skipped. New members start with nothing unread.
    #[tracing::instrument(skip(self, user_ids), fields(actor = ?actor))]
    pub async fn add_members(
        &self,
        actor: &Actor,
        conversation_id: i64,
        user_ids: Vec<i64>,
    ) -> Result<conversation::Model> {
        if user_ids.is_empty() {
            return Err(Error::invalid("userIds", "must name at least one user"));
        }
        let mut seen = HashSet::new();
        let user_ids: Vec<i64> = user_ids.into_iter().filter(|id| seen.insert(*id)).collect();
        if user_ids.len() > self.settings().max_group_members {
            return Err(self.too_many_members());
        }
        self.visible_group(actor, conversation_id).await?;
        let found = user::Entity::find()
            .filter(user::Column::Id.is_in(user_ids.iter().copied()))
            .count(self.db())
            .await?;
        if found != user_ids.len() as u64 {
            return Err(Error::invalid("userIds", "names a user who does not exist"));
        }

        let txn = self.write().await?;
        lock_conversation(&*txn, conversation_id).await?;
        may_manage_members(
            &*txn,
            actor,
            conversation_id,
            "only owners and admins can add members",
        )
        .await?;
        let existing: HashSet<i64> = member_ids(&*txn, conversation_id).await?;
        let new: Vec<i64> = user_ids
            .into_iter()
            .filter(|id| !existing.contains(id))
            .collect();
        if existing.len() + new.len() > self.settings().max_group_members {
            return Err(self.too_many_members());
        }
        may_be_added(&super::bans::banned_among(&*txn, conversation_id, &new).await?)?;
        if new.is_empty() {
            drop(txn);
            return self.group_for(actor, conversation_id).await;
        }
        let (conversation, notice, logged) = append_system(
            &*txn,
            conversation_id,
            actor.user_id(),
            &Change::MembersAdded {
                user_ids: new.clone(),
            },
        )
        .await?;
        insert_members(
            &txn,
            conversation_id,
            conversation.last_activity_at,
            notice.seq,
            new.into_iter().map(|id| (id, Role::Member)),
        )
        .await?;
        self.commit_logged_with(txn, logged, &[&notice]).await?;
        Ok(conversation)
    }

    /// Removes someone from a group. Owners and admins remove members; only
    /// the owner removes admins; nobody removes the owner. From the commit
    /// on, the removed user reads, sends and receives nothing there.
    #[tracing::instrument(skip(self), fields(actor = ?actor))]
    pub async fn remove_member(
        &self,
        actor: &Actor,
        conversation_id: i64,
        user_id: i64,
    ) -> Result<conversation::Model> {
        if actor.user_id() == Some(user_id) {
            return Err(Error::invalid(
                "userId",
                "to leave a conversation, use leaveConversation",
            ));
        }
        self.visible_group(actor, conversation_id).await?;
        let txn = self.write().await?;
        lock_conversation(&*txn, conversation_id).await?;
        let acting = may_manage_members(
            &*txn,
            actor,
            conversation_id,
            "only owners and admins can remove members",
        )
        .await?;
        let target = role_of(&*txn, conversation_id, user_id)
            .await?
            .ok_or_else(|| Error::invalid("userId", "is not a member of this conversation"))?;
        may_remove(acting, target)?;
        delete_member(&*txn, conversation_id, user_id).await?;
        let (conversation, notice, logged) = append_system(
            &*txn,
            conversation_id,
            actor.user_id(),
            &Change::MemberRemoved { user_id },
        )
        .await?;
        self.commit_logged_with(txn, logged, &[&notice]).await?;
        Ok(conversation)
    }

    /// The viewer leaves a group. An owner who leaves hands ownership to
    /// the longest-standing admin, or else the longest-standing member; a
    /// group whose last member leaves is deleted with its messages.
    #[tracing::instrument(skip(self), fields(actor = ?actor))]
    pub async fn leave_conversation(&self, actor: &Actor, conversation_id: i64) -> Result<Left> {
        let Actor::User(viewer) = actor else {
            return Err(Error::Forbidden("only members can leave"));
        };
        self.visible_group(actor, conversation_id).await?;
        let txn = self.write().await?;
        lock_conversation(&*txn, conversation_id).await?;
        let role = role_of(&*txn, conversation_id, viewer.user_id)
            .await?
            .ok_or(Error::NotFound("conversation"))?;
        delete_member(&*txn, conversation_id, viewer.user_id).await?;
        let remaining = conversation_member::Entity::find()
            .filter(conversation_member::Column::ConversationId.eq(conversation_id))
            .order_by_asc(conversation_member::Column::JoinedAt)
            .order_by_asc(conversation_member::Column::UserId)
            .all(&*txn)
            .await?;
        if remaining.is_empty() {
            // Streams still open on it (the leaver's own) end.
            self.remove_conversation(txn, conversation_id).await?;
            return Ok(Left::Deleted);
        }
        let new_owner = if role == Role::Owner {
            let heir = remaining
                .iter()
                .find(|m| m.role == Role::Admin)
                .or_else(|| remaining.first())
                .map(|m| m.user_id);
            if let Some(heir) = heir {
                set_role(&*txn, conversation_id, heir, Role::Owner).await?;
            }
            heir
        } else {
            None
        };
        let (_, notice, logged) = append_system(
            &*txn,
            conversation_id,
            Some(viewer.user_id),
            &Change::MemberLeft {
                user_id: viewer.user_id,
                new_owner,
            },
        )
        .await?;
        self.commit_logged_with(txn, logged, &[&notice]).await?;
        Ok(Left::Remains)
    }

    /// Changes a member's role. Only the owner (or the host app) may; making
    /// someone the owner hands ownership over, and the old owner becomes an
    /// admin.
    #[tracing::instrument(skip(self), fields(actor = ?actor))]
    pub async fn set_member_role(
        &self,
        actor: &Actor,
        conversation_id: i64,
        user_id: i64,
        role: Role,
    ) -> Result<conversation::Model> {
        self.visible_group(actor, conversation_id).await?;
        let txn = self.write().await?;
        lock_conversation(&*txn, conversation_id).await?;
        may_change_roles(&*txn, actor, conversation_id).await?;
        let current = role_of(&*txn, conversation_id, user_id)
            .await?
            .ok_or_else(|| Error::invalid("userId", "is not a member of this conversation"))?;
        if current == role {
            drop(txn);
            return self.group_for(actor, conversation_id).await;
        }
        if current == Role::Owner {
            return Err(Error::invalid(
                "role",
                "the owner's role changes only by making someone else the owner",
            ));
        }
        if role == Role::Owner {
            conversation_member::Entity::update_many()
                .col_expr(conversation_member::Column::Role, Expr::value(Role::Admin))
                .filter(conversation_member::Column::ConversationId.eq(conversation_id))
                .filter(conversation_member::Column::Role.eq(Role::Owner))
                .exec(&*txn)
                .await?;
        }
        set_role(&*txn, conversation_id, user_id, role).await?;
        let (conversation, notice, logged) = append_system(
            &*txn,
            conversation_id,
            actor.user_id(),
            &Change::RoleChanged { user_id, role },
        )
        .await?;
        self.commit_logged_with(txn, logged, &[&notice]).await?;
        Ok(conversation)
    }

    /// The group, if the actor may see it: members see their groups, the
    /// host app sees every live one. Direct conversations have fixed
    /// members.
    pub(super) async fn visible_group(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<conversation::Model> {
        let conversation = self.group_for(actor, id).await?;
        if conversation.kind != Kind::Group {
            return Err(Error::invalid(
                "conversationId",
                "a direct conversation's members cannot change",
            ));
        }
        Ok(conversation)
    }

    fn too_many_members(&self) -> Error {
        let max = self.settings().max_group_members;
        Error::invalid("userIds", format!("a group has at most {max} members"))
    }
}

pub(crate) async fn member_ids<C: ConnectionTrait>(
    db: &C,
    conversation_id: i64,
) -> Result<HashSet<i64>> {
    Ok(conversation_member::Entity::find()
        .filter(conversation_member::Column::ConversationId.eq(conversation_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect())
}

async fn set_role<C: ConnectionTrait>(
    db: &C,
    conversation_id: i64,
    user_id: i64,
    role: Role,
) -> Result<()> {
    conversation_member::Entity::update(conversation_member::ActiveModel {
        conversation_id: Set(conversation_id),
        user_id: Set(user_id),
        role: Set(role),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

pub(super) async fn delete_member<C: ConnectionTrait>(
    db: &C,
    conversation_id: i64,
    user_id: i64,
) -> Result<()> {
    conversation_member::Entity::delete_by_id((conversation_id, user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// New memberships, all with the conversation's activity time and read up
/// to `read_seq`.
pub(crate) async fn insert_members(
    txn: &db::Tx,
    conversation_id: i64,
    activity_at: DateTime<Utc>,
    read_seq: i64,
    members: impl IntoIterator<Item = (i64, Role)>,
) -> Result<()> {
    let at = now();
    let rows: Vec<_> = members
        .into_iter()
        .map(|(user_id, role)| conversation_member::ActiveModel {
            conversation_id: Set(conversation_id),
            user_id: Set(user_id),
            role: Set(role),
            last_read_seq: Set(read_seq),
            last_delivered_seq: Set(read_seq),
            // An added member's history starts at the notice of it.
            visible_from_seq: Set(read_seq),
            joined_at: Set(at),
            last_activity_at: Set(activity_at),
            unread_count: Set(0),
            ..Default::default()
        })
        .collect();
    // Stay under SQLite's limit on bound parameters per statement.
    for chunk in rows.chunks(500) {
        conversation_member::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await?;
    }
    Ok(())
}
