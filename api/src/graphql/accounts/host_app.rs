//! What the host app does with the admin key: `upsertUser` and
//! `sendMessageAs`. Users get `FORBIDDEN` here.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use service::{accounts::UpsertUser, messages::SendMessage};

use crate::graphql::{
    accounts::User,
    accounts::maybe,
    context::{actor, service},
    error::ApiResult,
    ids::{self, Kind},
    messages::Message,
    messages::RichMessageInput,
};

#[derive(InputObject)]
pub struct UpsertUserInput {
    #[doc = concat!("The host app's id for the user: 1 to ", ::service::limit!(EXTERNAL_ID_MAX), " characters, compared")]
    /// exactly. The `sub` of the user's JWTs.
    pub external_id: String,
    #[doc = concat!("1 to ", ::service::limit!(DISPLAY_NAME_MAX), " characters. Left out: unchanged, or the external id (cut to", "\n", ::service::limit!(DISPLAY_NAME_MAX), " characters) for a new user.")]
    pub display_name: Option<String>,
    /// An `http` or `https` URL. Left out: unchanged; `null`: removed.
    pub avatar_url: MaybeUndefined<String>,
    /// Whether the user is a bot (default `false`). Fixed once the user
    /// exists: a different value is `CONFLICT`.
    pub is_bot: Option<bool>,
}

#[derive(InputObject)]
pub struct SendMessageAsInput {
    /// A bot, which must be a member of the conversation.
    pub user_id: ID,
    pub conversation_id: ID,
    /// As in `sendMessage`.
    #[graphql(default)]
    pub body: String,
    #[doc = concat!("An idempotency key of up to ", ::service::limit!(CLIENT_ID_MAX), " characters, as in `sendMessage`.")]
    pub client_message_id: Option<String>,
    /// Kind, attachments, metadata and `streaming`, as in `sendMessage`;
    /// the admin key may append to and finish the bot's streaming message.
    #[graphql(flatten)]
    pub rich: RichMessageInput,
    /// As in `sendMessage`.
    pub mentions: Option<Vec<ID>>,
}

#[derive(Default)]
pub struct HostAppMutation;

#[Object]
impl HostAppMutation {
    /// Admin key only: creates the user with this external id, or updates
    /// it. Returns the user as stored.
    async fn upsert_user(&self, ctx: &Context<'_>, input: UpsertUserInput) -> ApiResult<User> {
        let actor = actor(ctx)?;
        let user = service(ctx)?
            .upsert_user(
                &actor,
                UpsertUser {
                    external_id: input.external_id,
                    display_name: input.display_name,
                    avatar_url: maybe(input.avatar_url),
                    is_bot: input.is_bot,
                },
            )
            .await?;
        Ok(User(user))
    }

    /// Admin key only: sends a message as a bot. A person is `FORBIDDEN`
    /// (the host app never speaks for people); a conversation the bot is
    /// not in is `NOT_FOUND`.
    async fn send_message_as(
        &self,
        ctx: &Context<'_>,
        input: SendMessageAsInput,
    ) -> ApiResult<Message> {
        let actor = actor(ctx)?;
        let user_id = ids::decode(Kind::User, &input.user_id, "userId")?;
        let conversation_id =
            ids::decode(Kind::Conversation, &input.conversation_id, "conversationId")?;
        let mentions = crate::graphql::messages::mention_ids(input.mentions.as_deref())?;
        let message = service(ctx)?
            .send_message_as(
                &actor,
                user_id,
                SendMessage {
                    conversation_id,
                    body: input.body,
                    client_message_id: input.client_message_id,
                    rich: input.rich.into(),
                    reply_to_id: None,
                    mentions,
                },
            )
            .await?;
        Ok(Message(message, None))
    }
}
