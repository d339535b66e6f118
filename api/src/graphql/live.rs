//! Live signals: typing, and delivery receipts for clients that receive
//! messages through something other than `messages` and `messageAdded`.

use async_graphql::{Context, ID, Object};

use super::{
    context::{service, viewer},
    conversations::Conversation,
    error::ApiResult,
    ids::{self, Kind},
};

#[derive(Default)]
pub struct LiveMutation;

#[Object]
impl LiveMutation {
    /// Says the viewer is typing (`true`) or stopped (`false`). Renew
    /// `true` every few seconds while typing: a state not renewed within
    /// the server's typing timeout (6 seconds by default) ends by itself,
    /// and sending a message ends it. Renewals within a second of the last
    /// one passed on are accepted but not passed on again.
    async fn set_typing(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        typing: bool,
    ) -> ApiResult<bool> {
        let viewer = viewer(ctx)?;
        let id = ids::decode(Kind::Conversation, &conversation_id, "conversationId")?;
        service(ctx)?.set_typing(&viewer, id, typing).await?;
        Ok(true)
    }

    /// Says the viewer's client has received the conversation's messages
    /// up to `upToSeq` (clamped to the newest). Fetching `messages` and
    /// following `messageAdded` do this by themselves. The pointer never
    /// moves back.
    async fn mark_delivered(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        up_to_seq: i64,
    ) -> ApiResult<Conversation> {
        let viewer = viewer(ctx)?;
        let id = ids::decode(Kind::Conversation, &conversation_id, "conversationId")?;
        let conversation = service(ctx)?.mark_delivered(&viewer, id, up_to_seq).await?;
        Ok(Conversation::new(conversation))
    }
}
