//! Blocking people: their messages are hidden from the viewer everywhere,
//! and the pair has no direct messages.

use async_graphql::{Context, ID, Object};

use crate::graphql::{
    accounts::User,
    context::{service, viewer},
    error::ApiResult,
    ids::{self, Kind},
};

#[derive(Default)]
pub struct BlockQuery;

#[Object]
impl BlockQuery {
    /// The people the viewer blocks, most recently blocked first.
    async fn blocked_users(&self, ctx: &Context<'_>) -> ApiResult<Vec<User>> {
        let viewer = viewer(ctx)?;
        let users = service(ctx)?.blocked_users(&viewer).await?;
        Ok(users.into_iter().map(User).collect())
    }
}

#[derive(Default)]
pub struct BlockMutation;

#[Object]
impl BlockMutation {
    /// Blocks a user: from now on their messages (history, search, threads,
    /// events, live, previews, unread counts) are hidden from the viewer,
    /// and neither of the two can open or write to their direct
    /// conversation (`FORBIDDEN`). Blocking yourself is `BAD_USER_INPUT`;
    /// blocking twice changes nothing. Returns the blocked user.
    async fn block_user(&self, ctx: &Context<'_>, user_id: ID) -> ApiResult<User> {
        let viewer = viewer(ctx)?;
        let user_id = ids::decode(Kind::User, &user_id, "userId")?;
        Ok(User(service(ctx)?.block_user(&viewer, user_id).await?))
    }

    /// Lifts a block (not blocked: no change). Returns the user.
    async fn unblock_user(&self, ctx: &Context<'_>, user_id: ID) -> ApiResult<User> {
        let viewer = viewer(ctx)?;
        let user_id = ids::decode(Kind::User, &user_id, "userId")?;
        Ok(User(service(ctx)?.unblock_user(&viewer, user_id).await?))
    }
}
