//! Command line and environment.

use std::{convert::Infallible, fmt, str::FromStr, time::Duration};

use clap::{Args, Parser, Subcommand};

use crate::telemetry::LogFormat;

#[derive(Parser, Debug)]
#[command(
    name = "parley",
    version,
    about = "A self-hosted, persistent chat backend with a GraphQL API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Apply pending migrations and serve the API (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) and exit.
    PrintSchema,
}

/// Every setting, as a flag or an environment variable.
#[derive(Args, Debug, Clone)]
pub struct Config {
    /// A `sqlite:` or `postgres:` URL. The default is a SQLite file in the
    /// working directory, created on first start.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://parley.db",
        global = true
    )]
    pub database_url: String,

    /// Address to listen on (port 0 picks a free port).
    #[arg(
        long,
        env = "PARLEY_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: String,

    /// Log format; filter with RUST_LOG.
    #[arg(long, env = "PARLEY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// How long a session token stays valid ("30d", "12h", ...).
    #[arg(long, env = "PARLEY_TOKEN_TTL", default_value = "30d", value_parser = humantime::parse_duration, global = true)]
    pub token_ttl: Duration,

    /// How long a deleted conversation can be restored before it is
    /// purged for good ("30d", "12h", ...).
    #[arg(long, env = "PARLEY_DELETE_RETENTION", default_value = "30d", value_parser = humantime::parse_duration, global = true)]
    pub delete_retention: Duration,

    /// How long the event log keeps events for `events(after:)` replay; a
    /// client whose cursor is older gets `CursorExpiredEvent` ("7d", ...).
    #[arg(long, env = "PARLEY_EVENT_RETENTION", default_value = "7d", value_parser = humantime::parse_duration, global = true)]
    pub event_retention: Duration,

    /// Most members a group may have.
    #[arg(
        long,
        env = "PARLEY_MAX_GROUP_MEMBERS",
        default_value_t = 1000,
        global = true
    )]
    pub max_group_members: usize,

    /// Database connection pool size.
    #[arg(
        long,
        env = "PARLEY_DB_MAX_CONNECTIONS",
        default_value_t = 16,
        global = true
    )]
    pub db_max_connections: u32,

    /// Time a WebSocket client has to send `connection_init`.
    #[arg(long, env = "PARLEY_WS_INIT_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub ws_init_timeout: Duration,

    /// Browser origins allowed to call the API cross-origin, comma
    /// separated (`http://localhost:5173,https://app.example`), or `*` for
    /// any. Requests carry no cookies (credentials are off), so grant only
    /// the origins of your own apps. Empty (the default): same origin only.
    #[arg(
        long,
        env = "PARLEY_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,

    /// Automatic persisted queries remembered (most recently used first);
    /// 0 turns them off, and hash-only requests get
    /// `PERSISTED_QUERY_NOT_SUPPORTED`.
    #[arg(
        long,
        env = "PARLEY_APQ_CACHE_SIZE",
        default_value_t = 1000,
        global = true
    )]
    pub apq_cache_size: usize,

    /// Serve Prometheus-style counters at `/metrics` (SQL statements run,
    /// open WebSockets, live topics). Off by default.
    #[arg(long, env = "PARLEY_METRICS", global = true)]
    pub metrics: bool,

    /// How long a "typing" state lasts unless the client renews it.
    #[arg(long, env = "PARLEY_TYPING_TIMEOUT", default_value = "6s", value_parser = humantime::parse_duration, global = true)]
    pub typing_timeout: Duration,

    /// How often delivery receipts, coalesced in memory, are written.
    #[arg(long, env = "PARLEY_DELIVERY_FLUSH", default_value = "1s", value_parser = humantime::parse_duration, global = true)]
    pub delivery_flush: Duration,

    /// How long shutdown waits for open requests and sockets.
    #[arg(long, env = "PARLEY_SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub shutdown_timeout: Duration,

    /// Sign users in with the host app's JWTs signed with HS256 and this
    /// secret (at least 32 bytes). Exclusive with --jwt-public-key.
    #[arg(long, env = "PARLEY_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<Secret>,

    /// Sign users in with the host app's JWTs signed with RS256 or ES256:
    /// the public key as PEM text, or the path of a PEM file.
    #[arg(long, env = "PARLEY_JWT_PUBLIC_KEY", global = true)]
    pub jwt_public_key: Option<String>,

    /// Require this `iss` in host-app JWTs.
    #[arg(long, env = "PARLEY_JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,

    /// Require this `aud` in host-app JWTs (set it when the key also signs
    /// tokens for other services).
    #[arg(long, env = "PARLEY_JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,

    /// Clock skew tolerated when checking a JWT's `exp` and `nbf`.
    #[arg(long, env = "PARLEY_JWT_LEEWAY", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub jwt_leeway: Duration,

    /// The host app's key (at least 32 bytes): `Authorization: Bearer
    /// <key>` over HTTP may create users and bots and send as bots.
    #[arg(long, env = "PARLEY_ADMIN_KEY", hide_env_values = true, global = true)]
    pub admin_key: Option<Secret>,
}

/// A secret setting: shown as `***` by `Debug`, so a logged config never
/// carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl FromStr for Secret {
    type Err = Infallible;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(value))
    }
}

impl Config {
    /// Settings for tests and embedding: everything at its default except
    /// the database, listening on a free port.
    pub fn for_database(database_url: impl Into<String>) -> Result<Self, clap::Error> {
        let mut config = Cli::try_parse_from(["parley"])?.config;
        config.database_url = database_url.into();
        config.listen = "127.0.0.1:0".into();
        Ok(config)
    }
}
