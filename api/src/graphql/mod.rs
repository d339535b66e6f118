//! The GraphQL schema: one Query/Mutation/Subscription part per domain,
//! merged here, with the limits that keep hostile queries cheap.

mod account;
pub mod context;
mod conversations;
pub mod error;
mod events;
mod host_app;
pub mod ids;
pub mod limits;
mod live;
pub mod loaders;
mod manage;
mod message_actions;
mod messages;
pub mod request;
mod rich_messages;
mod search;
mod sessions;
mod types;
mod users;

use async_graphql::{MergedObject, MergedSubscription, Schema};
use service::Service;

use self::{
    account::AccountSettingsMutation,
    conversations::{ConversationMutation, ConversationQuery},
    events::EventSubscription,
    host_app::HostAppMutation,
    live::LiveMutation,
    loaders::Loaders,
    manage::ManageMutation,
    message_actions::MessageActionMutation,
    messages::{MessageMutation, MessageSubscription},
    rich_messages::RichMessageMutation,
    search::SearchQuery,
    sessions::{SessionMutation, SessionQuery},
    users::{AccountMutation, UserQuery},
};

#[derive(MergedObject, Default)]
pub struct Query(UserQuery, ConversationQuery, SessionQuery, SearchQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(
    AccountMutation,
    AccountSettingsMutation,
    SessionMutation,
    ConversationMutation,
    ManageMutation,
    MessageMutation,
    RichMessageMutation,
    LiveMutation,
    MessageActionMutation,
    HostAppMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(MessageSubscription, EventSubscription);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Deepest selection a query may have. GraphiQL's introspection query needs
/// 13 levels.
pub const MAX_DEPTH: usize = 16;
/// Largest cost a query may have. Every field costs 1 and a connection
/// multiplies what is under it by its page size, so a client can read a
/// full inbox page with members and last messages, but cannot nest pages of
/// pages of pages.
pub const MAX_COMPLEXITY: usize = 20_000;

/// The document limits and production mode, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct SchemaLimits {
    /// No "Did you mean" suggestions in errors.
    pub production: bool,
    pub max_aliases: usize,
    pub max_tokens: usize,
    pub max_directives: usize,
    pub max_errors: usize,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        Self {
            production: false,
            max_aliases: 15,
            max_tokens: 2000,
            max_directives: 50,
            max_errors: 100,
        }
    }
}

/// The schema, serving `service` (none when only printing the SDL).
pub fn build_schema(service: Option<Service>, limits: &SchemaLimits) -> AppSchema {
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(64)
    .limit_directives(limits.max_directives)
    .extension(request::ValidationCodes)
    .extension(limits::DocumentLimits {
        max_aliases: limits.max_aliases,
        max_tokens: limits.max_tokens,
        max_errors: limits.max_errors,
    });
    if limits.production {
        builder = builder.disable_suggestions();
    }
    if let Some(service) = service {
        builder = builder.data(Loaders::new(&service)).data(service);
    }
    builder.finish()
}

/// The SDL that `schema.graphql` must match.
pub fn sdl() -> String {
    build_schema(None, &SchemaLimits::default()).sdl()
}
