//! The host app's webhook endpoints (admin key only): registering,
//! changing, removing, resuming, and how each is doing.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use service::webhooks::{self, Endpoint, NewEndpoint, UpdateEndpoint};

use crate::graphql::{
    context::{actor, service},
    error::ApiResult,
    ids::{self, Kind},
    scalars::Timestamp,
};

/// What an endpoint is sent; the payload's `type` is in brackets.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum WebhookEventType {
    /// A new message (`message.added`), with its offline recipients.
    MessageAdded,
    /// A message's text changed (`message.edited`).
    MessageEdited,
    /// A streamed message got its final text (`message.finished`).
    MessageFinished,
    /// `message.deleted`.
    MessageDeleted,
    /// Someone joined or was added (`member.added`).
    MemberAdded,
    /// Someone was removed or left (`member.removed`, with `reason`).
    MemberRemoved,
    /// `conversation.created`, with its first members.
    ConversationCreated,
    /// `conversation.deleted` (restorable until purged).
    ConversationDeleted,
    /// A member was mentioned (`mention`).
    Mention,
    /// A reaction was added or removed (`reaction`).
    Reaction,
}

impl From<WebhookEventType> for webhooks::EventType {
    fn from(t: WebhookEventType) -> Self {
        use webhooks::EventType as T;
        match t {
            WebhookEventType::MessageAdded => T::MessageAdded,
            WebhookEventType::MessageEdited => T::MessageEdited,
            WebhookEventType::MessageFinished => T::MessageFinished,
            WebhookEventType::MessageDeleted => T::MessageDeleted,
            WebhookEventType::MemberAdded => T::MemberAdded,
            WebhookEventType::MemberRemoved => T::MemberRemoved,
            WebhookEventType::ConversationCreated => T::ConversationCreated,
            WebhookEventType::ConversationDeleted => T::ConversationDeleted,
            WebhookEventType::Mention => T::Mention,
            WebhookEventType::Reaction => T::Reaction,
        }
    }
}

impl From<webhooks::EventType> for WebhookEventType {
    fn from(t: webhooks::EventType) -> Self {
        use webhooks::EventType as T;
        match t {
            T::MessageAdded => WebhookEventType::MessageAdded,
            T::MessageEdited => WebhookEventType::MessageEdited,
            T::MessageFinished => WebhookEventType::MessageFinished,
            T::MessageDeleted => WebhookEventType::MessageDeleted,
            T::MemberAdded => WebhookEventType::MemberAdded,
            T::MemberRemoved => WebhookEventType::MemberRemoved,
            T::ConversationCreated => WebhookEventType::ConversationCreated,
            T::ConversationDeleted => WebhookEventType::ConversationDeleted,
            T::Mention => WebhookEventType::Mention,
            T::Reaction => WebhookEventType::Reaction,
        }
    }
}

fn types(list: Vec<WebhookEventType>) -> Vec<webhooks::EventType> {
    list.into_iter().map(Into::into).collect()
}

/// An endpoint the host app registered.
pub struct WebhookEndpoint(Endpoint);

#[Object]
impl WebhookEndpoint {
    async fn id(&self) -> ID {
        ids::encode(Kind::WebhookEndpoint, self.0.id)
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    async fn event_types(&self) -> Vec<WebhookEventType> {
        self.0.event_types.iter().copied().map(Into::into).collect()
    }
    /// `messageAdded` only for messages some recipient was offline for.
    async fn only_offline(&self) -> bool {
        self.0.only_offline
    }
    /// The last event id delivered or skipped (`Parley-Event-Id`).
    async fn cursor(&self) -> String {
        self.0.cursor.to_string()
    }
    /// Failed attempts in a row at the next event.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// Why the last attempt failed (kept after later successes).
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    async fn last_error_at(&self) -> Option<Timestamp> {
        self.0.last_error_at.map(Into::into)
    }
    /// Set when it kept failing: nothing goes out until `resumeWebhookEndpoint`.
    async fn paused_at(&self) -> Option<Timestamp> {
        self.0.paused_at.map(Into::into)
    }
    /// Events after the cursor of the kinds its types come from: at most
    /// this many deliveries are waiting.
    async fn backlog(&self) -> u64 {
        self.0.backlog
    }
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
    async fn updated_at(&self) -> Timestamp {
        self.0.updated_at.into()
    }
}

#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// An `http` or `https` URL; private, loopback and link-local
    /// addresses are refused unless the server allows them.
    pub url: String,
    pub event_types: Vec<WebhookEventType>,
    /// Only new messages that some recipient was offline for (other types
    /// are unaffected). Default `false`.
    #[graphql(default)]
    pub only_offline: bool,
    /// The signing secret (16 to 256 characters); left out, one is made.
    pub secret: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    pub url: Option<String>,
    pub event_types: Option<Vec<WebhookEventType>>,
    pub only_offline: Option<bool>,
    pub secret: Option<String>,
}

/// A new endpoint and its signing secret, shown only here.
#[derive(SimpleObject)]
pub struct CreatedWebhookEndpoint {
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Admin key only: every webhook endpoint, oldest first.
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> ApiResult<Vec<WebhookEndpoint>> {
        let actor = actor(ctx)?;
        let list = service(ctx)?.webhook_endpoints(&actor).await?;
        Ok(list.into_iter().map(WebhookEndpoint).collect())
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Admin key only: registers an endpoint; it gets events committed
    /// from now on.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> ApiResult<CreatedWebhookEndpoint> {
        let actor = actor(ctx)?;
        let (endpoint, secret) = service(ctx)?
            .create_webhook_endpoint(
                &actor,
                NewEndpoint {
                    url: input.url,
                    event_types: types(input.event_types),
                    only_offline: input.only_offline,
                    secret: input.secret,
                },
            )
            .await?;
        Ok(CreatedWebhookEndpoint {
            endpoint: WebhookEndpoint(endpoint),
            secret,
        })
    }

    /// Admin key only: changes what is given.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWebhookEndpointInput,
    ) -> ApiResult<WebhookEndpoint> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::WebhookEndpoint, &id, "id")?;
        let endpoint = service(ctx)?
            .update_webhook_endpoint(
                &actor,
                id,
                UpdateEndpoint {
                    url: input.url,
                    event_types: input.event_types.map(types),
                    only_offline: input.only_offline,
                    secret: input.secret,
                },
            )
            .await?;
        Ok(WebhookEndpoint(endpoint))
    }

    /// Admin key only: removes the endpoint. True when it existed.
    async fn delete_webhook_endpoint(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::WebhookEndpoint, &id, "id")?;
        service(ctx)?.delete_webhook_endpoint(&actor, id).await?;
        Ok(true)
    }

    /// Admin key only: delivers to a paused endpoint again, from the event
    /// it stopped at.
    async fn resume_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<WebhookEndpoint> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::WebhookEndpoint, &id, "id")?;
        Ok(WebhookEndpoint(
            service(ctx)?.resume_webhook_endpoint(&actor, id).await?,
        ))
    }
}
