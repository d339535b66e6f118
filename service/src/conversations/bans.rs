//! Per-group bans. Banning removes the person if they are a member (with
//! the usual `member_removed` notice and `MemberRemoved` event) and keeps
//! them out: nobody may add them again until they are unbanned. Who may
//! ban, unban and list bans is in `access.rs`.

use entity::{conversation_ban, conversation_member::Role, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, sea_query::OnConflict,
};

use super::{
    access::{may_ban, may_remove, role_of},
    members::delete_member,
};
use crate::{
    Actor, Service,
    conversations::{Change, append_system, lock_conversation},
    error::{Error, Result},
    time::now,
    validate,
};

/// Those of `user_ids` banned from the conversation.
pub(crate) async fn banned_among<C: ConnectionTrait>(
    db: &C,
    conversation_id: i64,
    user_ids: &[i64],
) -> Result<Vec<i64>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(conversation_ban::Entity::find()
        .filter(conversation_ban::Column::ConversationId.eq(conversation_id))
        .filter(conversation_ban::Column::UserId.is_in(user_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|b| b.user_id)
        .collect())
}

impl Service {
    /// Bans `user_id` from a group, removing them if they are in it. The
    /// owner cannot be banned, and admins only by the owner (or the host
    /// app). Banning someone already banned changes nothing.
    #[tracing::instrument(skip(self, reason), fields(actor = ?actor))]
    pub async fn ban_member(
        &self,
        actor: &Actor,
        conversation_id: i64,
        user_id: i64,
        reason: Option<String>,
    ) -> Result<conversation_ban::Model> {
        if actor.user_id() == Some(user_id) {
            return Err(Error::invalid("userId", "you cannot ban yourself"));
        }
        let reason = reason
            .map(|r| validate::reason("reason", &r, self.settings().max_reason))
            .transpose()?;
        self.visible_group(actor, conversation_id).await?;
        if user::Entity::find_by_id(user_id)
            .one(self.db())
            .await?
            .is_none()
        {
            return Err(Error::NotFound("user"));
        }
        let txn = self.write().await?;
        lock_conversation(&*txn, conversation_id).await?;
        let acting = may_ban(&*txn, actor, conversation_id).await?;
        let role = role_of(&*txn, conversation_id, user_id).await?;
        may_remove(acting, role.unwrap_or(Role::Member))?;
        let row = conversation_ban::ActiveModel {
            conversation_id: Set(conversation_id),
            user_id: Set(user_id),
            banned_by: Set(actor.user_id()),
            reason: Set(reason),
            created_at: Set(now()),
        };
        // Already banned: nothing to insert (a failed insert would spoil
        // the transaction on PostgreSQL).
        conversation_ban::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    conversation_ban::Column::ConversationId,
                    conversation_ban::Column::UserId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&*txn)
            .await?;
        if role.is_some() {
            delete_member(&*txn, conversation_id, user_id).await?;
            let (_, notice, logged) = append_system(
                &*txn,
                conversation_id,
                actor.user_id(),
                &Change::MemberRemoved { user_id },
            )
            .await?;
            self.commit_logged_with(txn, logged, &[&notice]).await?;
        } else {
            txn.commit().await?;
        }
        conversation_ban::Entity::find_by_id((conversation_id, user_id))
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("ban"))
    }

    /// Lifts a ban; they may be added again. Not banned: no change.
    #[tracing::instrument(skip(self), fields(actor = ?actor))]
    pub async fn unban_member(
        &self,
        actor: &Actor,
        conversation_id: i64,
        user_id: i64,
    ) -> Result<()> {
        self.visible_group(actor, conversation_id).await?;
        let txn = self.write().await?;
        may_ban(&*txn, actor, conversation_id).await?;
        conversation_ban::Entity::delete_many()
            .filter(conversation_ban::Column::ConversationId.eq(conversation_id))
            .filter(conversation_ban::Column::UserId.eq(user_id))
            .exec(&*txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The group's bans, newest first, for its owners and admins.
    pub async fn bans(
        &self,
        actor: &Actor,
        conversation_id: i64,
    ) -> Result<Vec<conversation_ban::Model>> {
        self.visible_group(actor, conversation_id).await?;
        may_ban(self.db(), actor, conversation_id).await?;
        Ok(conversation_ban::Entity::find()
            .filter(conversation_ban::Column::ConversationId.eq(conversation_id))
            .order_by_desc(conversation_ban::Column::CreatedAt)
            .all(self.db())
            .await?)
    }
}
