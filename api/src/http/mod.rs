//! The HTTP surface: routes, shared state, CORS and the explorers.

/// Which browser origins may call the API (`--cors-origins`).
pub mod cors;
/// GraphiQL and GraphQL Playground, served from the binary.
mod explorer;
/// `POST /graphql` and `GET /graphql`.
mod graphql;
/// Content negotiation for GraphQL over HTTP.
mod negotiate;
/// Automatic persisted queries, for both transports.
pub mod persisted;
/// GraphQL over WebSocket.
pub mod ws;

use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    routing::get,
};
use service::Service;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_http::trace::TraceLayer;

use crate::graphql::AppSchema;

pub use cors::CorsOrigins;
pub use persisted::PersistedQueries;
pub use ws::WsSettings;

/// Largest request body accepted (413 beyond it).
pub const MAX_BODY: usize = 256 * 1024;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub service: Service,
    /// Cancelled when the server starts shutting down.
    pub shutdown: CancellationToken,
    /// Open WebSockets; shutdown waits for them to close.
    pub sockets: TaskTracker,
    pub ws: WsSettings,
    /// Browser origins allowed cross-origin.
    pub cors: CorsOrigins,
    /// Automatic persisted queries.
    pub persisted: PersistedQueries,
}

pub fn router(state: AppState, metrics: bool) -> Router {
    let mut router = Router::new();
    if metrics {
        router = router.route("/metrics", get(metrics_text));
    }
    let cors = state.cors.layer();
    router = router
        .merge(explorer::routes())
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/health", get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::max(MAX_BODY));
    if let Some(cors) = cors {
        router = router.layer(cors);
    }
    router.layer(TraceLayer::new_for_http()).with_state(state)
}

/// Counters in the Prometheus text format.
async fn metrics_text(State(state): State<AppState>) -> String {
    format!(
        "# TYPE parley_sql_statements_total counter\n\
         parley_sql_statements_total {}\n\
         # TYPE parley_websockets_open gauge\n\
         parley_websockets_open {}\n\
         # TYPE parley_event_topics gauge\n\
         parley_event_topics {}\n",
        state.service.statement_count(),
        state.sockets.len(),
        state.service.bus().topic_count(),
    )
}

/// The token in `Bearer <token>` (scheme in any case).
pub(crate) fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
