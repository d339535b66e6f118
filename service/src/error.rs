//! The one error type of the service. The API maps each variant to a stable
//! `extensions.code` in exactly one place.

use sea_orm::{DbErr, SqlErr};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No valid session, or wrong credentials.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Signed in, but not allowed to do this to something they can see.
    #[error("{0}")]
    Forbidden(&'static str),
    /// Does not exist, or exists but the viewer may not know about it: the
    /// two must look the same.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// An input value is unacceptable. `field` is the input's name as the
    /// client spelled it.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The input is fine but clashes with existing state.
    #[error("{field}: {reason}")]
    Conflict { field: &'static str, reason: String },
    /// Too many attempts: the client may try again after `retry_after`.
    #[error("too many attempts: try again in {} s", ceil_secs(.retry_after))]
    RateLimited { retry_after: std::time::Duration },
    /// Anything the client cannot fix. Its text is logged, never shown.
    #[error("internal error: {0}")]
    Internal(#[from] Internal),
}

/// The cause of an internal error, kept for the log.
#[derive(Debug, thiserror::Error)]
pub enum Internal {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("crypto: {0}")]
    Crypto(String),
    #[error("task: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("the send lane stopped")]
    Stopped,
    #[error("a batch of sends failed (logged where it happened)")]
    BatchFailed,
    #[error("the event_log row is missing (migrations not run?)")]
    NoEventLog,
}

impl Error {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }

    pub fn conflict(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Conflict {
            field,
            reason: reason.into(),
        }
    }
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        Self::Internal(Internal::Db(err))
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(err: tokio::task::JoinError) -> Self {
        Self::Internal(Internal::Join(err))
    }
}

/// Whole seconds, rounded up: what a client told to wait should wait.
pub fn ceil_secs(duration: &std::time::Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// True when the database refused a row because of a unique index.
pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
