//! Deleting an account: the person's own (`deleteMyAccount`) or by the
//! host app (`deleteUser`), and what is left afterwards.
//!
//! In order, each step its own transaction, so that a deletion cut off
//! half-way is finished by running it again:
//! 1. every session ends, and every live connection of the user closes
//!    ([`Revoked::Account`], host-app JWTs' sockets too);
//! 2. they leave every live conversation with the usual system message (a
//!    group's ownership passes on; a direct conversation keeps the other
//!    person, and its pair is freed);
//! 3. their messages become tombstones, or are erased, as
//!    `PARLEY_DELETED_ACCOUNT_MESSAGES` says; the user row goes, and with
//!    it (by cascade) their reactions, read and delivery state, the
//!    memberships of deleted conversations and their sessions; system
//!    messages that named them say "a deleted user" and lose their id;
//!    event-log rows lose their id (`userId`, `actorId`, ...), and events
//!    only they could see are hidden from everyone.

use std::net::IpAddr;

use entity::{
    conversation::{self, Kind as ConversationKind},
    conversation_member, event,
    event::Kind as EventKind,
    message, session, user,
};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, sea_query::Expr,
};

use super::host_app_only;
use crate::{
    Actor, Service, Viewer,
    conversations::{
        Change, append_system, forget_id, forget_in_system_messages, lock_conversation,
    },
    error::{Error, Result},
    events::{NewEvent, Revoked},
    messages::tombstone,
    validate::{self, PASSWORD_MAX},
};

/// What becomes of a deleted account's messages
/// (`PARLEY_DELETED_ACCOUNT_MESSAGES`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeletedMessages {
    /// Kept as "deleted user" tombstones: no sender, body, metadata,
    /// attachments, edits or reactions, so that the conversation keeps its
    /// seqs and threads their shape (the default).
    #[default]
    Tombstone,
    /// Removed; a message others replied to in a thread stays as a
    /// tombstone, so that the thread holds.
    Erase,
}

/// The id events only the deleted user could see are given: no user has
/// it (ids start at 1), so nobody sees them.
const NOBODY: i64 = 0;

impl Service {
    /// Deletes the viewer's own account. An account with a password must
    /// give it (checked, and limited, as at login); one without (signed in
    /// by the host app) must say `confirm`.
    #[tracing::instrument(skip_all, fields(user_id = viewer.user_id))]
    pub async fn delete_my_account(
        &self,
        client: Option<IpAddr>,
        viewer: &Viewer,
        password: Option<String>,
        confirm: bool,
    ) -> Result<()> {
        let user = self.me(viewer).await?;
        match (&user.password_hash, password) {
            (Some(hash), Some(password)) => {
                validate::no_nul("password", &password)?;
                self.limit_password_check(client, &user.username_key)?;
                if password.chars().count() > PASSWORD_MAX
                    || !self.passwords.verify(password, Some(hash.clone())).await?
                {
                    return Err(Error::invalid("password", "is not the account's password"));
                }
            }
            (Some(_), None) => {
                return Err(Error::invalid(
                    "password",
                    "give the account's password to delete it",
                ));
            }
            (None, _) if !confirm => {
                return Err(Error::invalid(
                    "confirm",
                    "must be true to delete an account without a password",
                ));
            }
            (None, _) => {}
        }
        self.delete_account(user.id).await
    }

    /// Deletes any account; the host app only.
    #[tracing::instrument(skip(self), fields(actor = ?actor))]
    pub async fn delete_user(&self, actor: &Actor, user_id: i64) -> Result<()> {
        host_app_only(actor)?;
        user::Entity::find_by_id(user_id)
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("user"))?;
        self.delete_account(user_id).await
    }

    async fn delete_account(&self, user_id: i64) -> Result<()> {
        // 1. Nobody acts as them from here on.
        let txn = self.write().await?;
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(user_id))
            .exec(&*txn)
            .await?;
        txn.commit().await?;
        self.announce_revoked(Revoked::Account { user_id });

        // 2. They leave every live conversation, as people do.
        let viewer = Viewer {
            user_id,
            session_id: Viewer::NO_SESSION,
        };
        let memberships: Vec<(i64, ConversationKind)> = conversation_member::Entity::find()
            .select_only()
            .column(conversation_member::Column::ConversationId)
            .column(conversation::Column::Kind)
            .inner_join(conversation::Entity)
            .filter(conversation_member::Column::UserId.eq(user_id))
            .filter(conversation::Column::DeletedAt.is_null())
            .into_tuple()
            .all(self.db())
            .await?;
        for (conversation_id, kind) in memberships {
            let left = match kind {
                ConversationKind::Group => self
                    .leave_conversation(&Actor::User(viewer), conversation_id)
                    .await
                    .map(|_| ()),
                ConversationKind::Direct => {
                    self.leave_direct_for_good(user_id, conversation_id).await
                }
            };
            match left {
                // Deleted or left meanwhile.
                Ok(()) | Err(Error::NotFound(_)) => {}
                Err(err) => return Err(err),
            }
        }

        // 3. Their messages, their row, and every mention of them.
        let txn = self.write().await?;
        let mut logged = Vec::new();
        let theirs = message::Entity::find()
            .filter(message::Column::SenderId.eq(user_id))
            .order_by_asc(message::Column::Id)
            .all(&*txn)
            .await?;
        for message in &theirs {
            if message.deleted_at.is_none() {
                tombstone(&*txn, message).await?;
                logged.push(
                    NewEvent::new(message.conversation_id, EventKind::MessageDeleted)
                        .message(message.id),
                );
            }
        }
        message::Entity::update_many()
            .col_expr(message::Column::SenderId, Expr::value(Option::<i64>::None))
            .col_expr(
                message::Column::ClientMessageId,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                message::Column::ExternalId,
                Expr::value(Option::<String>::None),
            )
            .filter(message::Column::SenderId.eq(user_id))
            .exec(&*txn)
            .await?;
        if self.settings().deleted_account_messages == DeletedMessages::Erase {
            let ids: Vec<i64> = theirs.iter().map(|m| m.id).collect();
            for chunk in ids.chunks(500) {
                // A thread's root stays (as a tombstone) while replies hang
                // off it.
                let roots: Vec<i64> = message::Entity::find()
                    .select_only()
                    .column(message::Column::ThreadRootId)
                    .filter(message::Column::ThreadRootId.is_in(chunk.iter().copied()))
                    .into_tuple::<Option<i64>>()
                    .all(&*txn)
                    .await?
                    .into_iter()
                    .flatten()
                    .collect();
                message::Entity::delete_many()
                    .filter(message::Column::Id.is_in(chunk.iter().copied()))
                    .filter(message::Column::Id.is_not_in(roots))
                    .exec(&*txn)
                    .await?;
            }
        }
        conversation::Entity::update_many()
            .col_expr(
                conversation::Column::CreatedBy,
                Expr::value(Option::<i64>::None),
            )
            .filter(conversation::Column::CreatedBy.eq(user_id))
            .exec(&*txn)
            .await?;
        user::Entity::delete_by_id(user_id).exec(&*txn).await?;
        forget_in_system_messages(&*txn, user_id).await?;
        forget_in_events(&*txn, user_id).await?;
        self.commit_logged(txn, logged).await?;
        tracing::info!(user_id, messages = theirs.len(), "account deleted");
        Ok(())
    }

    /// The deleted user leaves a direct conversation: the other person
    /// keeps it, with a system message, and its pair is freed.
    async fn leave_direct_for_good(&self, user_id: i64, conversation_id: i64) -> Result<()> {
        let txn = self.write().await?;
        lock_conversation(&*txn, conversation_id).await?;
        conversation_member::Entity::delete_by_id((conversation_id, user_id))
            .exec(&*txn)
            .await?;
        conversation::Entity::update(conversation::ActiveModel {
            id: Set(conversation_id),
            direct_key: Set(None),
            ..Default::default()
        })
        .exec(&*txn)
        .await?;
        let (_, notice, logged) = append_system(
            &*txn,
            conversation_id,
            Some(user_id),
            &Change::MemberLeft {
                user_id,
                new_owner: None,
            },
        )
        .await?;
        self.commit_logged_with(txn, logged, &[&notice]).await?;
        Ok(())
    }
}

/// The event log forgets `user_id`: its rows about them keep their kind and
/// place (replay stays gap-free) without their id; rows only they could
/// see are seen by nobody.
async fn forget_in_events<C: sea_orm::ConnectionTrait>(db: &C, user_id: i64) -> Result<()> {
    event::Entity::update_many()
        .col_expr(event::Column::OnlyUserId, Expr::value(NOBODY))
        .col_expr(event::Column::Data, Expr::value(Option::<String>::None))
        .filter(event::Column::OnlyUserId.eq(user_id))
        .exec(db)
        .await?;
    event::Entity::update_many()
        .col_expr(event::Column::UserId, Expr::value(Option::<i64>::None))
        .filter(event::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    let candidates = event::Entity::find()
        .filter(event::Column::Data.contains(user_id.to_string()))
        .all(db)
        .await?;
    for row in candidates {
        let Some(mut data) = row
            .data
            .as_deref()
            .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        else {
            continue;
        };
        if forget_id(&mut data, user_id) {
            event::Entity::update_many()
                .col_expr(event::Column::Data, Expr::value(data.to_string()))
                .filter(event::Column::Id.eq(row.id))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}
