//! `POST /graphql` and `GET /graphql`, following the GraphQL-over-HTTP
//! specification: content negotiation, 4xx for requests that cannot run
//! (with `application/graphql-response+json`), 405 for mutations over GET.

use std::{net::SocketAddr, time::Instant};

use async_graphql::{Request, ServerError, parser::types::OperationType};
use axum::{
    body::Body,
    extract::{ConnectInfo, Extension, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response as HttpResponse},
};
use serde::Serialize;
use tracing::Instrument;

use super::{
    AppState, MAX_BODY,
    client::client_addr,
    negotiate::{self, Media},
};
use crate::graphql::{
    context::{Auth, ClientAddr},
    error::code,
    request::{self, RequestError},
};

pub async fn post(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> HttpResponse {
    let Some(media) = negotiate::negotiate(&headers) else {
        return not_acceptable();
    };
    // The whole body within the deadline: a client trickling it byte by
    // byte must not hold the connection.
    let body = match tokio::time::timeout(
        state.http.body_read_timeout,
        axum::body::to_bytes(body, MAX_BODY),
    )
    .await
    {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return error_response(
                media,
                StatusCode::PAYLOAD_TOO_LARGE,
                RequestError::bad_request(format!("the body is larger than {MAX_BODY} bytes")),
            );
        }
        Err(_) => return super::request_timeout(),
    };
    let client = client_addr(
        peer.as_ref().map(|p| &p.0),
        &headers,
        state.http.trust_forwarded_for,
    );
    if !negotiate::is_json_body(&headers) {
        return error_response(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RequestError::bad_request("send the request as `Content-Type: application/json`"),
        );
    }
    let request = match parse_body(&body) {
        Ok(request) => request,
        Err(err) => return error_response(media, StatusCode::BAD_REQUEST, err),
    };
    let request = match with_text(&state, request, "the `query` field is missing") {
        Ok(request) => request,
        Err(response) => return response.into_http(media),
    };
    execute(state, headers, client, media, request, false).await
}

pub async fn get(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> HttpResponse {
    let client = client_addr(
        peer.as_ref().map(|p| &p.0),
        &headers,
        state.http.trust_forwarded_for,
    );
    let Some(media) = negotiate::negotiate(&headers) else {
        return not_acceptable();
    };
    let request =
        match async_graphql::http::parse_query_string(query.as_deref().unwrap_or_default()) {
            Ok(request) => match with_text(&state, request, "the `query` parameter is missing") {
                Ok(request) => request,
                Err(response) => return response.into_http(media),
            },
            Err(err) => {
                return error_response(
                    media,
                    StatusCode::BAD_REQUEST,
                    RequestError::bad_request(format!("malformed query string: {err}")),
                );
            }
        };
    execute(state, headers, client, media, request, true).await
}

fn parse_body(body: &[u8]) -> Result<Request, RequestError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|err| RequestError::bad_request(format!("the body is not valid JSON: {err}")))?;
    if value.is_array() {
        return Err(RequestError::bad_request(
            "batched requests are not supported",
        ));
    }
    serde_json::from_value(value)
        .map_err(|err| RequestError::bad_request(format!("malformed GraphQL request: {err}")))
}

/// Why a request has no query text to run.
enum NoText {
    /// A persisted-query miss (or persisted queries are off): `200`, as
    /// Apollo Server answers, so every persisted-query link retries with
    /// the text instead of treating it as a failed fetch.
    Persisted(RequestError),
    /// No query at all, or a malformed `persistedQuery`: `400`.
    Missing(RequestError),
}

impl NoText {
    fn into_http(self, media: Media) -> HttpResponse {
        match self {
            Self::Persisted(err) => error_response(media, StatusCode::OK, err),
            Self::Missing(err) => error_response(media, StatusCode::BAD_REQUEST, err),
        }
    }
}

/// The request with its query text: a persisted query's hash resolved, and
/// a request without any text refused with `missing`.
fn with_text(
    state: &AppState,
    mut request: Request,
    missing: &'static str,
) -> Result<Request, NoText> {
    if let Err(err) = state.persisted.resolve(&mut request) {
        return Err(match err.code {
            code::PERSISTED_QUERY_NOT_FOUND | code::PERSISTED_QUERY_NOT_SUPPORTED => {
                NoText::Persisted(err)
            }
            _ => NoText::Missing(err),
        });
    }
    if request.query.trim().is_empty() {
        return Err(NoText::Missing(RequestError::bad_request(missing)));
    }
    Ok(request)
}

async fn execute(
    state: AppState,
    headers: HeaderMap,
    client: Option<std::net::IpAddr>,
    media: Media,
    mut request: Request,
    via_get: bool,
) -> HttpResponse {
    let (kind, name) = match request::inspect(&mut request) {
        Ok(found) => found,
        Err(err) => return error_response(media, request_error_status(media), err),
    };
    match kind {
        OperationType::Mutation if via_get => {
            let mut response = error_response(
                media,
                StatusCode::METHOD_NOT_ALLOWED,
                RequestError::bad_request("mutations are sent with POST"),
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        OperationType::Subscription => {
            return error_response(
                media,
                request_error_status(media),
                RequestError::bad_request("subscriptions are served over WebSocket at /graphql/ws"),
            );
        }
        _ => {}
    }

    let auth = match authenticate(&state, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response.with_media(media),
    };
    let operation = name.as_deref().unwrap_or("anonymous");
    let span = tracing::info_span!(
        "graphql",
        operation,
        kind = kind_name(kind),
        user_id = auth.viewer().map(|v| v.user_id),
        host_app = matches!(auth, Auth::HostApp),
    );
    if state.http.production && matches!(auth, Auth::Anonymous | Auth::Invalid) {
        request = request.disable_introspection();
    }
    let started = Instant::now();
    let response = state
        .schema
        .execute(request.data(auth).data(ClientAddr(client)))
        .instrument(span.clone())
        .await;
    span.in_scope(|| {
        tracing::info!(
            duration = ?started.elapsed(),
            errors = response.errors.len(),
            "graphql operation"
        );
    });

    if request::is_request_error(&response) {
        return errors_only(media, request_error_status(media), &response.errors);
    }
    json(media, StatusCode::OK, &response)
}

/// `Auth` from the `Authorization` header: no header is anonymous, the
/// admin key is the host app, a session token or host-app JWT is its user,
/// and a token that does not check out is `Invalid` (resolvers that need a
/// viewer answer `UNAUTHENTICATED`).
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Auth, PendingError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Auth::Anonymous);
    };
    let Some(token) = value.to_str().ok().and_then(super::bearer_token) else {
        return Ok(Auth::Invalid);
    };
    if state.service.authenticate_admin(token) {
        return Ok(Auth::HostApp);
    }
    match state.service.authenticate(token).await {
        Ok(viewer) => Ok(Auth::Viewer(viewer)),
        Err(service::Error::Unauthenticated(_)) => Ok(Auth::Invalid),
        Err(err) => {
            tracing::error!(error = %err, "authentication failed");
            Err(PendingError(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL,
            ))
        }
    }
}

/// An error response still waiting for its media type.
struct PendingError(StatusCode, &'static str);

impl PendingError {
    fn with_media(self, media: Media) -> HttpResponse {
        let mut error = ServerError::new("internal server error", None);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", self.1);
        errors_only(media, self.0, &[error])
    }
}

/// 400 where the client asked for the GraphQL media type; 200 for legacy
/// JSON clients, which read errors from the body.
fn request_error_status(media: Media) -> StatusCode {
    match media {
        Media::GraphqlResponseJson => StatusCode::BAD_REQUEST,
        Media::Json => StatusCode::OK,
    }
}

fn kind_name(kind: OperationType) -> &'static str {
    match kind {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

fn error_response(media: Media, status: StatusCode, err: RequestError) -> HttpResponse {
    errors_only(media, status, &err.into_response().errors)
}

/// A body with `errors` and no `data`: the request never ran.
fn errors_only(media: Media, status: StatusCode, errors: &[ServerError]) -> HttpResponse {
    #[derive(Serialize)]
    struct Body<'a> {
        errors: &'a [ServerError],
    }
    json(media, status, &Body { errors })
}

fn json(media: Media, status: StatusCode, body: &impl Serialize) -> HttpResponse {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [
                (header::CONTENT_TYPE, media.content_type()),
                (header::CACHE_CONTROL, "no-store"),
            ],
            bytes,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "could not serialize a response");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn not_acceptable() -> HttpResponse {
    (
        StatusCode::NOT_ACCEPTABLE,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "accept application/graphql-response+json or application/json\n",
    )
        .into_response()
}
