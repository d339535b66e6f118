use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use service::entity::{message, user};

use super::{Conversation, User};
use crate::graphql::{
    context::{loaders, service, viewer},
    error::ApiResult,
    ids::{self, Kind},
};

/// A stored message, with its sender when it was loaded alongside.
pub struct Message(pub message::Model, pub Option<user::Model>);

#[Object]
impl Message {
    async fn id(&self) -> ID {
        ids::encode(Kind::Message, self.0.id)
    }

    /// Its place in the conversation: 1, 2, 3, ... with no gaps.
    async fn seq(&self) -> i64 {
        self.0.seq
    }

    async fn conversation_id(&self) -> ID {
        ids::encode(Kind::Conversation, self.0.conversation_id)
    }

    async fn conversation(&self, ctx: &Context<'_>) -> ApiResult<Conversation> {
        let viewer = viewer(ctx)?;
        Ok(Conversation::new(
            service(ctx)?
                .conversation(&viewer, self.0.conversation_id)
                .await?,
        ))
    }

    /// Who sent it; `null` for notices from the system.
    async fn sender(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let Some(sender) = self.0.sender_id else {
            return Ok(None);
        };
        if let Some(user) = &self.1 {
            return Ok(Some(User(user.clone())));
        }
        Ok(loaders(ctx)?.users.load_one(sender).await?.map(User))
    }

    async fn body(&self) -> &str {
        &self.0.body
    }

    /// The sender's idempotency key, if it sent one.
    async fn client_message_id(&self) -> Option<&str> {
        self.0.client_message_id.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
