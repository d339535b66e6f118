//! Messages: sending, and following a conversation live.

use async_graphql::{Context, ID, InputObject, Object, Subscription};
use futures_util::{Stream, StreamExt};
use service::messages::SendMessage;

use crate::graphql::{
    context::{service, start_slot, viewer},
    error::{ApiError, ApiResult},
    ids::{self, Kind},
    messages::Message,
    messages::RichMessageInput,
};

#[derive(InputObject)]
pub struct SendMessageInput {
    pub conversation_id: ID,
    #[doc = concat!("Trimmed; up to ", ::service::limit!(BODY_MAX), " characters. Required for `TEXT` (unless")]
    /// streaming) and for an `OFFER` without metadata.
    #[graphql(default)]
    pub body: String,
    #[doc = concat!("An idempotency key of up to ", ::service::limit!(CLIENT_ID_MAX), " characters: sending again with the")]
    /// same key returns the first message instead of storing another.
    pub client_message_id: Option<String>,
    #[graphql(flatten)]
    pub rich: RichMessageInput,
    /// The message this one answers: a message of the same conversation
    /// that is not deleted and not a system notice. The reply joins that
    /// message's thread.
    pub reply_to_id: Option<ID>,
    #[doc = concat!("Users the client resolved itself (up to ", ::service::limit!(MENTIONS_MAX), "): members among them are")]
    /// mentioned, others ignored; `@username`s in the body are mentions too.
    pub mentions: Option<Vec<ID>>,
}

/// The user ids of a `mentions` input.
pub(crate) fn mention_ids(ids: Option<&[ID]>) -> ApiResult<Vec<i64>> {
    ids.unwrap_or_default()
        .iter()
        .map(|id| ids::decode(Kind::User, id, "mentions"))
        .collect()
}

#[derive(Default)]
pub struct MessageMutation;

#[Object]
impl MessageMutation {
    async fn send_message(&self, ctx: &Context<'_>, input: SendMessageInput) -> ApiResult<Message> {
        let viewer = viewer(ctx)?;
        let conversation_id =
            ids::decode(Kind::Conversation, &input.conversation_id, "conversationId")?;
        let reply_to_id = input
            .reply_to_id
            .as_ref()
            .map(|id| ids::decode(Kind::Message, id, "replyToId"))
            .transpose()?;
        let mentions = mention_ids(input.mentions.as_deref())?;
        let message = service(ctx)?
            .send_message(
                &viewer,
                SendMessage {
                    conversation_id,
                    body: input.body,
                    client_message_id: input.client_message_id,
                    rich: input.rich.into(),
                    reply_to_id,
                    mentions,
                },
            )
            .await?;
        Ok(Message(message, None))
    }
}

#[derive(Default)]
pub struct MessageSubscription;

#[Subscription]
impl MessageSubscription {
    /// New messages of a conversation as they are stored. With `afterSeq`,
    /// the stored messages after that seq come first, then live ones, with
    /// no gap and no duplicate: pass the last seq you saw when reconnecting.
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        after_seq: Option<i64>,
    ) -> Result<impl Stream<Item = ApiResult<Message>> + use<>, ApiError> {
        let viewer = viewer(ctx)?;
        let id = ids::decode(Kind::Conversation, &conversation_id, "conversationId")?;
        let slot = start_slot(ctx).await;
        let stream = service(ctx)?.follow_messages(viewer, id, after_seq).await?;
        drop(slot);
        Ok(stream.map(|item| item.map(|m| Message(m, None)).map_err(ApiError::from)))
    }
}
