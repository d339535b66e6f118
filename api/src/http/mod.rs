//! The HTTP surface: routes, shared state, CORS, the explorers and the demo.

/// Open sockets per user and per address.
pub mod caps;
/// The client's address, for per-address limits.
pub mod client;
/// Which browser origins may call the API (`--cors-origins`).
pub mod cors;
/// The demo web chat at `/demo/`, served from the binary.
mod demo;
/// GraphiQL and GraphQL Playground, served from the binary.
mod explorer;
/// `POST /graphql` and `GET /graphql`.
mod graphql;
/// Content negotiation for GraphQL over HTTP.
mod negotiate;
/// Which pages may open a WebSocket (the CORS list, same origin, loopback).
pub mod origin;
/// Automatic persisted queries, for both transports.
pub mod persisted;
/// GraphQL over WebSocket.
pub mod ws;

use std::time::Duration;

use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use service::Service;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_http::{timeout::TimeoutLayer, trace::TraceLayer};

use crate::graphql::AppSchema;

pub use cors::CorsOrigins;
pub use persisted::PersistedQueries;
pub use ws::WsSettings;

/// Per-app HTTP settings.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// No GraphiQL, no introspection without a token.
    pub production: bool,
    /// Serve the demo chat at `/demo/`.
    pub demo: bool,
    pub allowed_origins: origin::AllowedOrigins,
    pub trust_forwarded_for: bool,
    /// Time a client has to send a whole request body.
    pub body_read_timeout: Duration,
    /// Longest a request may take.
    pub request_timeout: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            production: false,
            demo: true,
            allowed_origins: origin::AllowedOrigins::default(),
            trust_forwarded_for: false,
            body_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

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
    pub http: HttpSettings,
    /// Open sockets per user and per address.
    pub caps: caps::SocketCaps,
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
    if !state.http.production {
        router = router.merge(explorer::routes());
    }
    if state.http.demo {
        router = router.merge(demo::routes());
    }
    let request_timeout = state.http.request_timeout;
    router = router
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/health", get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // The WebSocket route answers at once; its socket lives on
        // outside the request, with its own deadlines.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            request_timeout,
        ));
    if let Some(cors) = cors {
        router = router.layer(cors);
    }
    router.layer(TraceLayer::new_for_http()).with_state(state)
}

/// 408 for a client too slow to send its request.
pub(crate) fn request_timeout() -> Response {
    (
        StatusCode::REQUEST_TIMEOUT,
        [(axum::http::header::CONNECTION, "close")],
        "request timeout: send the request faster\n",
    )
        .into_response()
}

/// Counters in the Prometheus text format.
async fn metrics_text(State(state): State<AppState>) -> String {
    format!(
        "# TYPE parley_sql_statements_total counter\n\
         parley_sql_statements_total {}\n\
         # TYPE parley_websockets_open gauge\n\
         parley_websockets_open {}\n\
         # TYPE parley_event_topics gauge\n\
         parley_event_topics {}\n\
         # TYPE parley_listener_reconnects_total counter\n\
         parley_listener_reconnects_total {}\n",
        state.service.statement_count(),
        state.sockets.len(),
        state.service.bus().topic_count(),
        state.service.listener_reconnects(),
    )
}

/// The token in `Bearer <token>` (scheme in any case).
pub(crate) fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
