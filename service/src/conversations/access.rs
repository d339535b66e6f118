//! Who may do what in a conversation: every "may this actor ..." check,
//! in one place, named after the question it answers.
//!
//! | May ... | direct: either person | group member | group admin | group owner | host app (admin key) |
//! | --- | --- | --- | --- | --- | --- |
//! | see it, read it, send to it | yes | yes | yes | yes | no (it sends as its bots) |
//! | change its settings (title, description, avatar, metadata) | yes | no | yes | yes | yes |
//! | add members | - (fixed) | no | yes | yes | yes |
//! | remove a member | - | no | yes | yes | yes |
//! | remove an admin | - | no | no | yes | yes |
//! | remove the owner | - | no | no | no | no |
//! | change roles, hand on ownership | - | no | no | yes | yes |
//! | delete it, restore it, delete it permanently | yes | no | no | yes | yes |
//! | leave it | - | yes | yes | yes (ownership passes on) | no |
//! | set history visibility (groups) | - | no | yes | yes | yes |
//! | see messages from before their latest join | yes | if the group's history is shared | same | same | - |
//! | ban a member (removes them), unban, list bans | - | no | yes (not admins) | yes | yes |
//! | be added while banned | - | no | no | no | no |
//! | report a message they see | yes | yes | yes | yes | no |
//! | read any conversation, message, user, the reports; resolve reports; the audit log | no | no | no | no | yes (audited) |
//! | edit a message | its author | its author | its author | its author | no |
//! | delete a message | its author | its author | anyone's | anyone's | anyone's |
//! | append to a streaming message | its author | its author | its author | its author | its bots' |
//! | finish a streaming message | its author | its author | anyone's | anyone's | anyone's |
//!
//! To someone who is not a member, a conversation (and everything in it)
//! does not exist: `NotFound`, as for a missing id. A member who may not
//! do something gets `Forbidden`. The checks that read membership run
//! inside the caller's transaction, after the conversation is locked, so
//! what they saw holds until commit.
//!
//! This file is a leaf: it imports nothing of its siblings.

use std::collections::HashMap;

use entity::{
    conversation::{self, HistoryVisibility, Kind},
    conversation_member::{self, Role},
    message, user,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect,
    RelationTrait,
};

use crate::{
    Actor, Service, Viewer,
    error::{Error, Result},
};

impl Service {
    /// The conversation, if the viewer is a member. To anyone else it does
    /// not exist, whether or not it does.
    pub async fn conversation(&self, viewer: &Viewer, id: i64) -> Result<conversation::Model> {
        self.member_conversation(self.db(), viewer, id).await
    }

    pub(crate) async fn member_conversation<C: ConnectionTrait>(
        &self,
        db: &C,
        viewer: &Viewer,
        id: i64,
    ) -> Result<conversation::Model> {
        conversation::Entity::find_by_id(id)
            .join(
                JoinType::InnerJoin,
                conversation::Relation::ConversationMember.def(),
            )
            .filter(conversation_member::Column::UserId.eq(viewer.user_id))
            .filter(conversation::Column::DeletedAt.is_null())
            .one(db)
            .await?
            .ok_or(Error::NotFound("conversation"))
    }

    /// The live conversation as the actor may see it: members see their
    /// conversations, the host app sees every live one.
    pub(crate) async fn group_for(&self, actor: &Actor, id: i64) -> Result<conversation::Model> {
        match actor {
            Actor::User(viewer) => self.conversation(viewer, id).await,
            Actor::HostApp => conversation::Entity::find_by_id(id)
                .filter(conversation::Column::DeletedAt.is_null())
                .one(self.db())
                .await?
                .ok_or(Error::NotFound("conversation")),
        }
    }

    /// The author a streaming message's text is added as, if `actor` may
    /// add to it: its author, or the host app for a bot's message; the
    /// author must still be a member. Anyone who cannot see the
    /// conversation gets `NotFound`, as for a missing id.
    pub(crate) async fn may_stream_to(
        &self,
        actor: &Actor,
        message: &message::Model,
    ) -> Result<Viewer> {
        let author = match (actor, message.sender_id) {
            (Actor::User(viewer), Some(sender)) if sender == viewer.user_id => sender,
            (Actor::User(viewer), _) => {
                // A member learns it exists but is not theirs; anyone else
                // that there is nothing.
                self.conversation(viewer, message.conversation_id)
                    .await
                    .map_err(|_| Error::NotFound("message"))?;
                return Err(Error::Forbidden("only its author may add to a message"));
            }
            (Actor::HostApp, sender) => {
                let bot = match sender {
                    Some(id) => user::Entity::find_by_id(id).one(self.db()).await?,
                    None => None,
                };
                match bot {
                    Some(bot) if bot.is_bot => bot.id,
                    _ => {
                        return Err(Error::Forbidden(
                            "the admin key adds only to its bots' messages",
                        ));
                    }
                }
            }
        };
        let author = Viewer {
            user_id: author,
            session_id: Viewer::NO_SESSION,
        };
        self.conversation(&author, message.conversation_id)
            .await
            .map_err(|_| Error::NotFound("message"))?;
        Ok(author)
    }
}

impl Service {
    /// Who may finish a streaming message: whoever may add to it (see
    /// [`Self::may_stream_to`]), a group's owners and admins (an answer
    /// whose author left or crashed must not stay streaming), and the host
    /// app. Returns the member whose membership the right rests on, to be
    /// checked again under the conversation's lock (`None`: the host app).
    pub(crate) async fn may_finish_stream(
        &self,
        actor: &Actor,
        message: &message::Model,
    ) -> Result<Option<Viewer>> {
        let refused = match self.may_stream_to(actor, message).await {
            Ok(author) => return Ok(Some(author)),
            Err(err @ (Error::Forbidden(_) | Error::NotFound(_))) => err,
            Err(err) => return Err(err),
        };
        match actor {
            Actor::HostApp => {
                self.group_for(actor, message.conversation_id)
                    .await
                    .map_err(|_| Error::NotFound("message"))?;
                Ok(None)
            }
            Actor::User(viewer) => {
                let Ok(conversation) = self.conversation(viewer, message.conversation_id).await
                else {
                    return Err(Error::NotFound("message"));
                };
                let role = role_of(self.db(), conversation.id, viewer.user_id).await?;
                match (conversation.kind, role) {
                    (Kind::Group, Some(Role::Owner | Role::Admin)) => Ok(Some(*viewer)),
                    _ => Err(refused),
                }
            }
        }
    }
}

/// The first seq `user_id` may see of `conversation`: 0 unless it is a
/// group whose history is visible since joining, then the seq of the
/// notice that added them (`i64::MAX` for a non-member: nothing).
pub(crate) async fn history_floor<C: ConnectionTrait>(
    db: &C,
    conversation: &conversation::Model,
    user_id: i64,
) -> Result<i64> {
    if conversation.history_visibility == HistoryVisibility::Shared {
        return Ok(0);
    }
    Ok(
        conversation_member::Entity::find_by_id((conversation.id, user_id))
            .one(db)
            .await?
            .map_or(i64::MAX, |m| m.visible_from_seq),
    )
}

impl Service {
    /// [`history_floor`] of each of `conversation_ids` the user is in, in
    /// one query (missing: not a member).
    pub async fn history_floors(
        &self,
        user_id: i64,
        conversation_ids: &[i64],
    ) -> Result<HashMap<i64, i64>> {
        let rows: Vec<(i64, HistoryVisibility, i64)> = conversation_member::Entity::find()
            .select_only()
            .column(conversation_member::Column::ConversationId)
            .column(conversation::Column::HistoryVisibility)
            .column(conversation_member::Column::VisibleFromSeq)
            .join(
                JoinType::InnerJoin,
                conversation_member::Relation::Conversation.def(),
            )
            .filter(conversation_member::Column::UserId.eq(user_id))
            .filter(
                conversation_member::Column::ConversationId.is_in(conversation_ids.iter().copied()),
            )
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, visibility, from)| match visibility {
                HistoryVisibility::Shared => (id, 0),
                HistoryVisibility::SinceJoined => (id, from),
            })
            .collect())
    }

    /// Whether the viewer may see `message`, which is in a conversation
    /// they are a member of: not if it came before their latest join into
    /// a group whose history is visible since joining.
    pub(crate) async fn sees_history(
        &self,
        conversation: &conversation::Model,
        viewer: &Viewer,
        seq: i64,
    ) -> Result<bool> {
        Ok(seq >= history_floor(self.db(), conversation, viewer.user_id).await?)
    }
}

/// A member's role in a conversation, or `None` for a non-member.
pub(crate) async fn role_of<C: ConnectionTrait>(
    db: &C,
    conversation_id: i64,
    user_id: i64,
) -> Result<Option<Role>> {
    Ok(
        conversation_member::Entity::find_by_id((conversation_id, user_id))
            .one(db)
            .await?
            .map(|m| m.role),
    )
}

/// Whether the actor may change a conversation: in a group, a member with
/// one of `group_roles` (the host app always); in a direct conversation,
/// either person. Non-members get `NotFound`, as everywhere.
async fn require_role<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    conversation: &conversation::Model,
    group_roles: &[Role],
    forbidden: &'static str,
) -> Result<()> {
    let Actor::User(viewer) = actor else {
        return Ok(());
    };
    match (
        conversation.kind,
        role_of(db, conversation.id, viewer.user_id).await?,
    ) {
        (_, None) => Err(Error::NotFound("conversation")),
        (Kind::Direct, Some(_)) => Ok(()),
        (Kind::Group, Some(role)) if group_roles.contains(&role) => Ok(()),
        (Kind::Group, Some(_)) => Err(Error::Forbidden(forbidden)),
    }
}

/// May the actor change the conversation's settings? Owners and admins of
/// a group, either person of a direct conversation, the host app.
pub(crate) async fn may_change_settings<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    conversation: &conversation::Model,
) -> Result<()> {
    require_role(
        db,
        actor,
        conversation,
        &[Role::Owner, Role::Admin],
        "only owners and admins can change a group's settings",
    )
    .await
}

/// May the actor delete, restore or permanently delete the conversation?
/// A group's owner, either person of a direct conversation, the host app.
pub(crate) async fn may_delete<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    conversation: &conversation::Model,
) -> Result<()> {
    require_role(
        db,
        actor,
        conversation,
        &[Role::Owner],
        "only the owner can delete or restore a group",
    )
    .await
}

/// [`may_delete`] for lists: on a query joining conversations with the
/// viewer's memberships, the rows whose conversation the viewer may
/// restore (either person of a direct conversation, a group's owner).
pub(crate) fn may_restore_condition() -> Condition {
    Condition::any()
        .add(conversation::Column::Kind.eq(Kind::Direct))
        .add(conversation_member::Column::Role.eq(Role::Owner))
}

/// May the actor add or remove members? Returns the actor's role (owner
/// or admin; `None` for the host app, which counts as an owner).
pub(crate) async fn may_manage_members<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    conversation_id: i64,
    forbidden: &'static str,
) -> Result<Option<Role>> {
    let Actor::User(viewer) = actor else {
        return Ok(None);
    };
    match role_of(db, conversation_id, viewer.user_id).await? {
        Some(role @ (Role::Owner | Role::Admin)) => Ok(Some(role)),
        Some(Role::Member) => Err(Error::Forbidden(forbidden)),
        None => Err(Error::NotFound("conversation")),
    }
}

/// May someone whose role is `acting` (from [`may_manage_members`])
/// remove a member whose role is `target`? Nobody removes the owner; only
/// the owner (or the host app) removes admins.
pub(crate) fn may_remove(acting: Option<Role>, target: Role) -> Result<()> {
    match target {
        Role::Owner => Err(Error::Forbidden("the owner cannot be removed")),
        Role::Admin if acting == Some(Role::Admin) => {
            Err(Error::Forbidden("only the owner can remove admins"))
        }
        _ => Ok(()),
    }
}

/// May the actor change members' roles (and hand on ownership)? Only the
/// owner, or the host app.
pub(crate) async fn may_change_roles<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    conversation_id: i64,
) -> Result<()> {
    let acting = match actor {
        Actor::User(viewer) => role_of(db, conversation_id, viewer.user_id).await?,
        Actor::HostApp => Some(Role::Owner),
    };
    if acting != Some(Role::Owner) {
        return Err(Error::Forbidden("only the owner can change roles"));
    }
    Ok(())
}

/// May the actor ban or unban people in a group, or list its bans?
/// Owners, admins and the host app (as for removing members; who may be
/// banned is [`may_remove`]'s rule). Returns the actor's role.
pub(crate) async fn may_ban<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    conversation_id: i64,
) -> Result<Option<Role>> {
    may_manage_members(
        db,
        actor,
        conversation_id,
        "only owners and admins can manage bans",
    )
    .await
}

/// May someone be added to a group? Not while banned from it.
pub(crate) fn may_be_added(banned: &[i64]) -> Result<()> {
    if !banned.is_empty() {
        return Err(Error::conflict(
            "userIds",
            "names a user who is banned from this group (unbanMember first)",
        ));
    }
    Ok(())
}

/// May the actor use the host app's moderation reads (any conversation,
/// message, user, the reports, the audit log)? Only the admin key.
pub(crate) fn may_moderate(actor: &Actor) -> Result<()> {
    match actor {
        Actor::HostApp => Ok(()),
        Actor::User(_) => Err(Error::Forbidden(
            "only the host app may do this: send the admin key",
        )),
    }
}

/// May the viewer edit the message? Only its author.
pub(crate) fn may_edit_message(viewer: &Viewer, message: &message::Model) -> Result<()> {
    if message.sender_id != Some(viewer.user_id) {
        return Err(Error::Forbidden("only its author can edit a message"));
    }
    Ok(())
}

/// May the member (`None`: the host app) delete the message? Its author,
/// a group's owner or admin, and the host app.
pub(crate) fn may_delete_message(
    member: Option<&conversation_member::Model>,
    conversation: &conversation::Model,
    message: &message::Model,
) -> Result<()> {
    let allowed = match member {
        // The host app has an owner's rights everywhere.
        None => true,
        Some(m) => {
            message.sender_id == Some(m.user_id)
                || (conversation.kind == Kind::Group && matches!(m.role, Role::Owner | Role::Admin))
        }
    };
    if !allowed {
        return Err(Error::Forbidden(
            "only its author or a group's owner or admin can delete a message",
        ));
    }
    Ok(())
}
