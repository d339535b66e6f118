//! Running a conversation: members and roles, settings, each member's
//! archive and mute, deletion and restoring. Every rule lives in the
//! service; these resolvers decode ids and pick who acts.

use crate::graphql::scalars::{JsonValue, Timestamp};
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use service::{conversations::Left, conversations::UpdateConversation};

use crate::graphql::{
    context::{actor, service, viewer},
    conversations::{Conversation, HistoryVisibility, MemberRole},
    error::ApiResult,
    ids::{self, Kind},
};

#[derive(InputObject)]
pub struct UpdateConversationInput {
    pub id: ID,
    #[doc = concat!("Up to ", ::service::limit!(TITLE_MAX), " characters; `null` clears it. Left out: unchanged.")]
    pub title: MaybeUndefined<String>,
    /// Up to 1,024 characters; `null` clears it.
    pub description: MaybeUndefined<String>,
    /// An `http` or `https` URL; `null` clears it.
    pub avatar_url: MaybeUndefined<String>,
    #[doc = concat!("A JSON object of at most ", ::service::limit!(METADATA_MAX_KIB), " KiB that the host app owns; `null`")]
    /// clears it.
    pub metadata: MaybeUndefined<JsonValue>,
    /// Groups only (owners and admins): what members see of the time
    /// before they joined. Left out: unchanged.
    pub history_visibility: Option<HistoryVisibility>,
}

/// What leaving did.
#[derive(SimpleObject)]
pub struct LeavePayload {
    pub conversation_id: ID,
    /// True when the viewer was the last member and the group is gone.
    pub deleted: bool,
}

#[derive(Default)]
pub struct ManageMutation;

#[Object]
impl ManageMutation {
    /// Adds people to a group (owners, admins, or the admin key). People
    /// already in it are skipped.
    async fn add_members(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        user_ids: Vec<ID>,
    ) -> ApiResult<Conversation> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::Conversation, &conversation_id, "conversationId")?;
        let user_ids = user_ids
            .iter()
            .map(|u| ids::decode(Kind::User, u, "userIds"))
            .collect::<ApiResult<Vec<_>>>()?;
        let updated = service(ctx)?.add_members(&actor, id, user_ids).await?;
        Ok(Conversation::new(updated))
    }

    /// Removes someone from a group: owners and admins remove members,
    /// only the owner removes admins.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        user_id: ID,
    ) -> ApiResult<Conversation> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::Conversation, &conversation_id, "conversationId")?;
        let user = ids::decode(Kind::User, &user_id, "userId")?;
        Ok(Conversation::new(
            service(ctx)?.remove_member(&actor, id, user).await?,
        ))
    }

    /// The viewer leaves a group. An owner's ownership passes to the
    /// longest-standing admin, else member; the last one out deletes it.
    async fn leave_conversation(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
    ) -> ApiResult<LeavePayload> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::Conversation, &conversation_id, "conversationId")?;
        let left = service(ctx)?.leave_conversation(&actor, id).await?;
        Ok(LeavePayload {
            conversation_id,
            deleted: left == Left::Deleted,
        })
    }

    /// Changes a member's role (the owner only). Making someone `OWNER`
    /// hands ownership over; the old owner becomes an admin.
    async fn set_member_role(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        user_id: ID,
        role: MemberRole,
    ) -> ApiResult<Conversation> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::Conversation, &conversation_id, "conversationId")?;
        let user = ids::decode(Kind::User, &user_id, "userId")?;
        Ok(Conversation::new(
            service(ctx)?
                .set_member_role(&actor, id, user, role.into())
                .await?,
        ))
    }

    /// Renames a conversation or changes its description, avatar or
    /// metadata: in a group its owners and admins, in a direct
    /// conversation either person.
    async fn update_conversation(
        &self,
        ctx: &Context<'_>,
        input: UpdateConversationInput,
    ) -> ApiResult<Conversation> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::Conversation, &input.id, "id")?;
        let update = UpdateConversation {
            title: optional(input.title),
            description: optional(input.description),
            avatar_url: optional(input.avatar_url),
            metadata: optional(input.metadata.map_value(|j| j.0)),
            history_visibility: input.history_visibility.map(Into::into),
        };
        Ok(Conversation::new(
            service(ctx)?
                .update_conversation(&actor, id, update)
                .await?,
        ))
    }

    /// Hides a conversation from the viewer's list until its next message.
    async fn archive_conversation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Conversation> {
        self.archive(ctx, id, true).await
    }

    async fn unarchive_conversation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Conversation> {
        self.archive(ctx, id, false).await
    }

    /// Mutes a conversation for the viewer, for good or `until` a time:
    /// it stops counting in the root `unreadCount`.
    async fn mute_conversation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        until: Option<Timestamp>,
    ) -> ApiResult<Conversation> {
        self.mute(ctx, id, true, until).await
    }

    async fn unmute_conversation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Conversation> {
        self.mute(ctx, id, false, None).await
    }

    /// Deletes a conversation for everyone (a group's owner, either person
    /// in a direct conversation). It can be restored for 30 days (the
    /// server's `--delete-retention`).
    async fn delete_conversation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::Conversation, &id, "id")?;
        service(ctx)?.delete_conversation(&actor, id).await?;
        Ok(true)
    }

    /// Brings back a deleted conversation within the retention period.
    async fn restore_conversation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Conversation> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::Conversation, &id, "id")?;
        Ok(Conversation::new(
            service(ctx)?.restore_conversation(&actor, id).await?,
        ))
    }

    /// Removes a conversation with all its messages, members and read
    /// state, at once and for good.
    async fn delete_conversation_permanently(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::Conversation, &id, "id")?;
        service(ctx)?
            .delete_conversation_permanently(&actor, id)
            .await?;
        Ok(true)
    }
}

impl ManageMutation {
    async fn archive(&self, ctx: &Context<'_>, id: ID, archived: bool) -> ApiResult<Conversation> {
        let viewer = viewer(ctx)?;
        let id = ids::decode(Kind::Conversation, &id, "id")?;
        let updated = service(ctx)?.set_archived(&viewer, id, archived).await?;
        Ok(Conversation::new(updated))
    }

    async fn mute(
        &self,
        ctx: &Context<'_>,
        id: ID,
        muted: bool,
        until: Option<Timestamp>,
    ) -> ApiResult<Conversation> {
        let viewer = viewer(ctx)?;
        let id = ids::decode(Kind::Conversation, &id, "id")?;
        let until = until.map(|at| at.0);
        let updated = service(ctx)?.set_muted(&viewer, id, muted, until).await?;
        Ok(Conversation::new(updated))
    }
}

/// Left out: unchanged (`None`); `null`: cleared (`Some(None)`).
fn optional<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}
