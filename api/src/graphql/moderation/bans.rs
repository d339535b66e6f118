//! Per-group bans, for owners, admins and the host app.

use async_graphql::{Context, ID, Object};
use service::entity::conversation_ban;

use crate::graphql::{
    accounts::User,
    context::{actor, loaders, service},
    error::ApiResult,
    ids::{self, Kind},
    scalars::Timestamp,
};

/// Someone banned from a group.
pub struct Ban(conversation_ban::Model);

#[Object]
impl Ban {
    async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        Ok(loaders(ctx)?
            .users
            .load_one(self.0.user_id)
            .await?
            .map(User))
    }

    /// Who banned them; `null` for the host app.
    async fn banned_by(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let Some(id) = self.0.banned_by else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.users.load_one(id).await?.map(User))
    }

    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
}

#[derive(Default)]
pub struct BanQuery;

#[Object]
impl BanQuery {
    /// A group's bans, newest first: owners, admins and the admin key.
    async fn bans(&self, ctx: &Context<'_>, conversation_id: ID) -> ApiResult<Vec<Ban>> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::Conversation, &conversation_id, "conversationId")?;
        let bans = service(ctx)?.bans(&actor, id).await?;
        Ok(bans.into_iter().map(Ban).collect())
    }
}

#[derive(Default)]
pub struct BanMutation;

#[Object]
impl BanMutation {
    #[doc = "Bans someone from a group (owners and admins; admins only members): removes them if they are in it (a `member_removed` notice, a `MemberRemoved` event) and keeps anyone from adding them (`CONFLICT` on `userIds`) until `unbanMember`."]
    #[doc = "`reason`: up to `PARLEY_MAX_REASON` characters, shown to owners and admins."]
    async fn ban_member(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        user_id: ID,
        reason: Option<String>,
    ) -> ApiResult<Ban> {
        let actor = actor(ctx)?;
        let conversation = ids::decode(Kind::Conversation, &conversation_id, "conversationId")?;
        let user = ids::decode(Kind::User, &user_id, "userId")?;
        let ban = service(ctx)?
            .ban_member(&actor, conversation, user, reason)
            .await?;
        Ok(Ban(ban))
    }

    /// Lifts a ban: they may be added again. Returns `true`.
    async fn unban_member(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        user_id: ID,
    ) -> ApiResult<bool> {
        let actor = actor(ctx)?;
        let conversation = ids::decode(Kind::Conversation, &conversation_id, "conversationId")?;
        let user = ids::decode(Kind::User, &user_id, "userId")?;
        service(ctx)?
            .unban_member(&actor, conversation, user)
            .await?;
        Ok(true)
    }
}
