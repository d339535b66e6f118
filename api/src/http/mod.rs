//! The HTTP surface: routes, shared state, and GraphiQL.

mod graphql;
mod negotiate;
pub mod ws;

use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    response::Html,
    routing::get,
};
use service::Service;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_http::trace::TraceLayer;

use crate::graphql::AppSchema;

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
}

pub fn router(state: AppState, metrics: bool) -> Router {
    let mut router = Router::new();
    if metrics {
        router = router.route("/metrics", get(metrics_text));
    }
    router
        .route("/", get(graphiql))
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/health", get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
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

async fn graphiql() -> Html<String> {
    Html(
        async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("Parley GraphiQL")
            .finish(),
    )
}

/// The token in `Bearer <token>` (scheme in any case).
pub(crate) fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
