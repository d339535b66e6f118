//! Changing messages after they are sent: edits, deletion and reactions.
//! Every rule lives in the service; these resolvers decode ids and pick
//! who acts. Each returns the message as it now is.

use async_graphql::{Context, ID, Object};

use crate::graphql::{
    context::{actor, service, viewer},
    error::ApiResult,
    ids::{self, Kind},
    messages::Message,
};

#[derive(Default)]
pub struct MessageActionMutation;

#[Object]
impl MessageActionMutation {
    /// Replaces the body of one of the viewer's messages (trimmed, 1 to
    #[doc = concat!(::service::limit!(BODY_MAX), " characters); the previous version goes to `edits`. System")]
    /// messages and deleted ones cannot be edited (`BAD_USER_INPUT` on
    /// `id`), nor one still streaming (`CONFLICT` on `id`); other people's
    /// messages are `FORBIDDEN`.
    async fn edit_message(&self, ctx: &Context<'_>, id: ID, body: String) -> ApiResult<Message> {
        let viewer = viewer(ctx)?;
        let id = ids::decode(Kind::Message, &id, "id")?;
        let edited = service(ctx)?.edit_message(&viewer, id, &body).await?;
        Ok(Message(edited, None))
    }

    /// Deletes a message: it stays in its place as a tombstone (`deletedAt`
    /// set, body empty) and leaves unread counts. Its author, a group's
    /// owner or admins, and the admin key may. Deleting it again returns
    /// the tombstone.
    async fn delete_message(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Message> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::Message, &id, "id")?;
        let tombstone = service(ctx)?.delete_message(&actor, id).await?;
        Ok(Message(tombstone, None))
    }

    #[doc = concat!("Reacts to a message with an emoji (at most ", ::service::limit!(EMOJI_MAX_BYTES), " bytes and ", ::service::limit!(EMOJI_MAX_CHARS))]
    /// characters, no spaces or invisible characters). Reacting twice with
    #[doc = concat!("the same emoji changes nothing. A new emoji past ", ::service::limit!(EMOJI_PER_PERSON), " of the viewer's", "\n", "own on the message, or past ", ::service::limit!(EMOJI_PER_MESSAGE), " on the message in all, is")]
    /// `CONFLICT` on `emoji`.
    async fn add_reaction(
        &self,
        ctx: &Context<'_>,
        message_id: ID,
        emoji: String,
    ) -> ApiResult<Message> {
        self.react(ctx, message_id, emoji, true).await
    }

    /// Takes the viewer's reaction back; without one, changes nothing.
    async fn remove_reaction(
        &self,
        ctx: &Context<'_>,
        message_id: ID,
        emoji: String,
    ) -> ApiResult<Message> {
        self.react(ctx, message_id, emoji, false).await
    }
}

impl MessageActionMutation {
    async fn react(
        &self,
        ctx: &Context<'_>,
        message_id: ID,
        emoji: String,
        add: bool,
    ) -> ApiResult<Message> {
        let viewer = viewer(ctx)?;
        let id = ids::decode(Kind::Message, &message_id, "messageId")?;
        let message = service(ctx)?.set_reaction(&viewer, id, &emoji, add).await?;
        Ok(Message(message, None))
    }
}
