//! Sending a message: checked here, stored by the send lanes.

use entity::message;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::content::{self, RichContent};
use crate::{
    Service, Viewer,
    error::{Error, Result},
    messages::{Draft, Stored},
    validate,
};

#[derive(Default)]
pub struct SendMessage {
    pub conversation_id: i64,
    pub body: String,
    pub client_message_id: Option<String>,
    /// Kind, attachments, metadata, streaming: see [`crate::messages`].
    pub rich: RichContent,
    /// The message this one answers: a live, non-system message of the
    /// same conversation (checked when it is stored).
    pub reply_to_id: Option<i64>,
    /// Users the client resolved itself: members among them are mentioned
    /// (others are ignored), as are members named `@username` in the body.
    pub mentions: Vec<i64>,
}

impl Service {
    /// Stores a message as the next seq of its conversation and moves the
    /// sender's read pointer to it. The same `client_message_id` from the
    /// same sender returns the first message again, with no new event.
    #[tracing::instrument(skip_all, fields(user_id = viewer.user_id, conversation_id = input.conversation_id))]
    pub async fn send_message(
        &self,
        viewer: &Viewer,
        mut input: SendMessage,
    ) -> Result<message::Model> {
        let content = content::validate(&input.body, std::mem::take(&mut input.rich))?;
        validate::client_message_id(input.client_message_id.as_deref())?;
        validate::mention_ids(&input.mentions)?;
        // Membership is checked once, in the send's transaction; a retry
        // can only find a message the viewer sent there themselves.
        if let Some(existing) = self.by_client_id(viewer, &input).await? {
            return Ok(existing);
        }
        let draft = Draft {
            viewer: *viewer,
            conversation_id: input.conversation_id,
            client_message_id: input.client_message_id.clone(),
            content,
            reply_to_id: input.reply_to_id,
            mentions: std::mem::take(&mut input.mentions),
        };
        match self.lanes.store(draft).await? {
            Stored::Message(message) => {
                // The message is what they were typing.
                self.sent_while_typing(viewer.user_id, input.conversation_id);
                Ok(message)
            }
            // The same client id raced in from another request.
            Stored::DuplicateClientId => self
                .by_client_id(viewer, &input)
                .await?
                .ok_or(Error::NotFound("message")),
        }
    }

    async fn by_client_id(
        &self,
        viewer: &Viewer,
        input: &SendMessage,
    ) -> Result<Option<message::Model>> {
        let Some(client_id) = &input.client_message_id else {
            return Ok(None);
        };
        Ok(message::Entity::find()
            .filter(message::Column::ConversationId.eq(input.conversation_id))
            .filter(message::Column::SenderId.eq(viewer.user_id))
            .filter(message::Column::ClientMessageId.eq(client_id.as_str()))
            .one(self.db())
            .await?)
    }
}
