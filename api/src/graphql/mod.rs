//! The GraphQL schema: one Query/Mutation/Subscription part per domain,
//! merged here, with the limits that keep hostile queries cheap.

/// Sign-in, profiles, sessions, the host app's admin key.
mod accounts;
/// What a request knows: who asks, the service, the loaders.
pub mod context;
/// Conversations: the inbox, opening, members, settings, lifecycle.
mod conversations;
/// Service errors turned into GraphQL errors with `extensions.code`.
pub mod error;
/// The `events` and `conversationEvents` subscriptions.
mod events;
/// Global ids and opaque cursors.
pub mod ids;
/// Limits on documents: aliases, tokens, directives, errors.
pub mod limits;
/// Typing and presence.
mod live;
/// DataLoaders that batch what a page of results reads.
pub mod loaders;
/// Messages: sending, editing, reactions, rich content, search.
mod messages;
/// Blocking, bans, reports, the admin key's audited reads.
mod moderation;
/// What a page of a connection costs a query.
mod paging;
/// Request-level checks and their error codes.
pub mod request;
/// `DateTime` and `JSON`, described for clients.
pub mod scalars;
/// The host app's webhook endpoints.
mod webhooks;

use async_graphql::{MergedObject, MergedSubscription, Schema};
use service::Service;

use self::{
    accounts::{
        AccountMutation, AccountSettingsMutation, DataRightsMutation, DataRightsQuery,
        HostAppMutation, SessionMutation, SessionQuery, UserQuery,
    },
    conversations::{ConversationMutation, ConversationQuery, ManageMutation},
    events::EventSubscription,
    live::LiveMutation,
    loaders::Loaders,
    messages::{
        MessageActionMutation, MessageMutation, MessageSubscription, RichMessageMutation,
        SearchQuery,
    },
    moderation::{
        AuditHostApp, BanMutation, BanQuery, BlockMutation, BlockQuery, HostReadQuery,
        ReportMutation, ReportQuery,
    },
    webhooks::{WebhookMutation, WebhookQuery},
};

#[derive(MergedObject, Default)]
pub struct Query(
    UserQuery,
    ConversationQuery,
    SessionQuery,
    SearchQuery,
    DataRightsQuery,
    BlockQuery,
    BanQuery,
    ReportQuery,
    HostReadQuery,
    WebhookQuery,
);

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
    DataRightsMutation,
    BlockMutation,
    BanMutation,
    ReportMutation,
    WebhookMutation,
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
    .extension(AuditHostApp)
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

/// Ids in webhook payloads: the same global ids the API uses.
pub fn webhook_id(kind: service::webhooks::IdKind, id: i64) -> String {
    use service::webhooks::IdKind;
    let kind = match kind {
        IdKind::User => ids::Kind::User,
        IdKind::Conversation => ids::Kind::Conversation,
        IdKind::Message => ids::Kind::Message,
    };
    ids::encode(kind, id).0
}

/// The SDL that `schema.graphql` must match.
pub fn sdl() -> String {
    build_schema(None, &SchemaLimits::default())
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}

#[cfg(test)]
mod tests {
    /// Two limits the docs spell with a thousands separator, which
    /// `service::limit!` cannot produce: the schema must still say the
    /// service's numbers.
    #[test]
    fn spelled_out_limits_match_the_service() {
        let sdl = super::sdl();
        let spelled = |n: u64| format!("{},{:03}", n / 1000, n % 1000);
        let description = service::validate::DESCRIPTION_MAX as u64;
        assert!(sdl.contains(&format!("Up to {} characters", spelled(description))));
        let window = service::messages::search::RANK_WINDOW;
        assert!(sdl.contains(&format!("newest {} matches", spelled(window))));
    }
}
