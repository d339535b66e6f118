//! The one place where service errors become GraphQL errors.
//!
//! Every error a client sees carries `extensions.code`. Internal errors are
//! logged here with their cause and reach the client as a generic message.

use async_graphql::ErrorExtensions;
use service::Error;

/// Codes that clients can rely on.
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const CONFLICT: &str = "CONFLICT";
    /// Too many attempts; `extensions.retryAfterSeconds` says when to retry.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INTERNAL: &str = "INTERNAL";
    /// The request itself is malformed (not JSON, no query, wrong method).
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// A hash-only persisted query the server does not hold: send it again
    /// with its text (Apollo's and urql's persisted-query links do).
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// Persisted queries are off (`PARLEY_APQ_CACHE_SIZE=0`): send the text.
    pub const PERSISTED_QUERY_NOT_SUPPORTED: &str = "PERSISTED_QUERY_NOT_SUPPORTED";
}

/// What resolvers return on failure. It deliberately does not implement
/// `Display`, so it cannot slip into async-graphql's blanket conversion and
/// show internal text to a client.
#[derive(Clone, Debug)]
pub struct ApiError(async_graphql::Error);

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad_input(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self(
            async_graphql::Error::new(format!("{field}: {message}")).extend_with(|_, e| {
                e.set("code", code::BAD_USER_INPUT);
                e.set("field", field);
            }),
        )
    }

    /// A server fault that is not the client's business.
    pub fn internal(cause: &str) -> Self {
        tracing::error!(error = cause, "internal error");
        Self(coded("internal server error", code::INTERNAL))
    }

    pub fn unauthenticated(message: &str) -> Self {
        Self(coded(message, code::UNAUTHENTICATED))
    }
}

fn coded(message: impl Into<String>, code: &'static str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        Self::from(&err)
    }
}

impl From<&Error> for ApiError {
    fn from(err: &Error) -> Self {
        Self(match err {
            Error::Unauthenticated(message) => coded(*message, code::UNAUTHENTICATED),
            Error::Forbidden(message) => coded(*message, code::FORBIDDEN),
            Error::NotFound(what) => coded(format!("{what} not found"), code::NOT_FOUND),
            Error::Invalid { field, reason } => return Self::bad_input(field, reason.clone()),
            Error::Conflict { field, reason } => {
                async_graphql::Error::new(format!("{field}: {reason}")).extend_with(|_, e| {
                    e.set("code", code::CONFLICT);
                    e.set("field", *field);
                })
            }
            Error::RateLimited { retry_after } => {
                let seconds = service::error::ceil_secs(retry_after);
                async_graphql::Error::new(err.to_string()).extend_with(|_, e| {
                    e.set("code", code::RATE_LIMITED);
                    e.set("retryAfterSeconds", seconds);
                })
            }
            Error::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                coded("internal server error", code::INTERNAL)
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.0
    }
}

/// Batch loaders share one error between every key of a batch.
impl From<std::sync::Arc<Error>> for ApiError {
    fn from(err: std::sync::Arc<Error>) -> Self {
        Self::from(&*err)
    }
}
