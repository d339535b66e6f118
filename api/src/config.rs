//! Command line and environment.

use std::{convert::Infallible, fmt, num::NonZeroU32, str::FromStr, time::Duration};

use clap::{Args, Parser, Subcommand};
use service::accounts::Rate;

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

/// `PARLEY_PRESENCE_VISIBILITY` and `PARLEY_USER_SEARCH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AudienceArg {
    Contacts,
    Everyone,
}

impl From<AudienceArg> for service::accounts::Audience {
    fn from(value: AudienceArg) -> Self {
        match value {
            AudienceArg::Contacts => Self::Contacts,
            AudienceArg::Everyone => Self::Everyone,
        }
    }
}

/// `PARLEY_DELETED_ACCOUNT_MESSAGES`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DeletedMessagesArg {
    Tombstone,
    Erase,
}

impl From<DeletedMessagesArg> for service::accounts::DeletedMessages {
    fn from(value: DeletedMessagesArg) -> Self {
        match value {
            DeletedMessagesArg::Tombstone => Self::Tombstone,
            DeletedMessagesArg::Erase => Self::Erase,
        }
    }
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

    /// Most users one person may block.
    #[arg(long, env = "PARLEY_MAX_BLOCKS", default_value_t = 1000, global = true)]
    pub max_blocks: usize,

    /// Longest reason of a report, a ban or a resolution, in characters.
    #[arg(long, env = "PARLEY_MAX_REASON", default_value_t = 1000, global = true)]
    pub max_reason: usize,

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
    /// The same list says which pages may open `/graphql/ws`, besides
    /// same-origin and loopback pages and clients that send no `Origin`.
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

    /// Several instances on one PostgreSQL: how long an instance may go
    /// unheard (it sends a heartbeat every third of this) before the
    /// others count its users offline.
    #[arg(long, env = "PARLEY_PRESENCE_EXPIRY", default_value = "15s", value_parser = humantime::parse_duration, global = true)]
    pub presence_expiry: Duration,

    /// Who sees a person's `online` and `lastSeenAt` and gets their
    /// presence events: `contacts` (people who share a conversation with
    /// them) or `everyone` signed in.
    #[arg(long, env = "PARLEY_PRESENCE_VISIBILITY", value_enum, default_value_t = AudienceArg::Contacts, global = true)]
    pub presence_visibility: AudienceArg,

    /// Whom `users(search)` finds: `contacts` (the viewer's contacts, and
    /// anyone by their exact username) or `everyone`.
    #[arg(long, env = "PARLEY_USER_SEARCH", value_enum, default_value_t = AudienceArg::Contacts, global = true)]
    pub user_search: AudienceArg,

    /// What becomes of a deleted account's messages: `tombstone` (kept
    /// without sender or body, as "deleted user") or `erase` (removed).
    #[arg(long, env = "PARLEY_DELETED_ACCOUNT_MESSAGES", value_enum, default_value_t = DeletedMessagesArg::Tombstone, global = true)]
    pub deleted_account_messages: DeletedMessagesArg,
    /// Deliver webhooks to loopback, private and link-local addresses
    /// (refused by default, against SSRF).
    #[arg(long, env = "PARLEY_WEBHOOK_ALLOW_PRIVATE", global = true)]
    pub webhook_allow_private: bool,

    /// Longest one webhook request may take, its response included.
    #[arg(long, env = "PARLEY_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub webhook_timeout: Duration,

    /// Most bytes of a webhook response read; the rest is dropped.
    #[arg(
        long,
        env = "PARLEY_WEBHOOK_MAX_RESPONSE_BYTES",
        default_value_t = 65536,
        global = true
    )]
    pub webhook_max_response_bytes: usize,

    /// Failed attempts in a row at one event before an endpoint pauses.
    #[arg(long, env = "PARLEY_WEBHOOK_MAX_ATTEMPTS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub webhook_max_attempts: u32,

    /// Delay before the first webhook retry; it doubles up to the maximum.
    #[arg(long, env = "PARLEY_WEBHOOK_BACKOFF_BASE", default_value = "1s", value_parser = humantime::parse_duration, global = true)]
    pub webhook_backoff_base: Duration,

    /// Longest delay between webhook retries.
    #[arg(long, env = "PARLEY_WEBHOOK_BACKOFF_MAX", default_value = "5m", value_parser = humantime::parse_duration, global = true)]
    pub webhook_backoff_max: Duration,

    /// How long an instance holds a webhook endpoint without renewing
    /// (another instance takes it over after that).
    #[arg(long, env = "PARLEY_WEBHOOK_LEASE", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub webhook_lease: Duration,

    /// How often endpoints are looked for and leases renewed.
    #[arg(long, env = "PARLEY_WEBHOOK_POLL", default_value = "1s", value_parser = humantime::parse_duration, global = true)]
    pub webhook_poll: Duration,

    /// How often delivery receipts, coalesced in memory, are written.
    #[arg(long, env = "PARLEY_DELIVERY_FLUSH", default_value = "1s", value_parser = humantime::parse_duration, global = true)]
    pub delivery_flush: Duration,

    /// How long a session found valid is trusted without a database lookup
    /// (revoked sessions are dropped at once, on every instance); 0 looks
    /// every request up.
    #[arg(long, env = "PARLEY_SESSION_CACHE", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub session_cache: Duration,
    /// How long a streaming message may get no text before the server
    /// finishes it with what was stored.
    #[arg(long, env = "PARLEY_STREAMING_TIMEOUT", default_value = "2m", value_parser = humantime::parse_duration, global = true)]
    pub streaming_timeout: Duration,

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

    /// Production mode: no introspection for callers without a token, no
    /// GraphiQL page, no "Did you mean" suggestions in errors.
    #[arg(long, env = "PARLEY_PRODUCTION", global = true)]
    pub production: bool,

    /// Serve the demo web chat at `/demo/` (`true` or `false`). Unset: on,
    /// except in production mode.
    #[arg(long, env = "PARLEY_DEMO", value_parser = clap::builder::BoolishValueParser::new(), global = true)]
    pub demo: Option<bool>,

    /// Take the client address from the last `X-Forwarded-For` entry (set
    /// it only behind a reverse proxy that writes that header).
    #[arg(long, env = "PARLEY_TRUST_FORWARDED_FOR", global = true)]
    pub trust_forwarded_for: bool,

    /// Password checks (login, changePassword) per account: BURST/INTERVAL,
    /// i.e. BURST at once, then one per INTERVAL; `off` turns it off.
    #[arg(long, env = "PARLEY_LOGIN_RATE_ACCOUNT", default_value = "3/6s", value_parser = parse_rate, global = true)]
    pub login_rate_account: RateSetting,

    /// Password checks per client address (BURST/INTERVAL or `off`).
    #[arg(long, env = "PARLEY_LOGIN_RATE_ADDRESS", default_value = "10/6s", value_parser = parse_rate, global = true)]
    pub login_rate_address: RateSetting,

    /// Registrations per client address (BURST/INTERVAL or `off`).
    #[arg(long, env = "PARLEY_REGISTER_RATE_ADDRESS", default_value = "5/60s", value_parser = parse_rate, global = true)]
    pub register_rate_address: RateSetting,

    /// Password hashes (argon2id, ~19 MiB each) computed at once; more
    /// logins queue.
    #[arg(long, env = "PARLEY_MAX_CONCURRENT_HASHES", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_concurrent_hashes: u32,

    /// Time a client has to send a request's headers.
    #[arg(long, env = "PARLEY_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub header_read_timeout: Duration,

    /// Time a client has to send a request's whole body.
    #[arg(long, env = "PARLEY_BODY_READ_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub body_read_timeout: Duration,

    /// Longest an HTTP request may take, body included (503 after).
    #[arg(long, env = "PARLEY_REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub request_timeout: Duration,

    /// Interval between WebSocket keep-alive pings.
    #[arg(long, env = "PARLEY_WS_KEEPALIVE", default_value = "25s", value_parser = humantime::parse_duration, global = true)]
    pub ws_keepalive: Duration,

    /// Time a WebSocket peer has to answer a ping (any frame will do)
    /// before it is closed with 1011 and shown offline.
    #[arg(long, env = "PARLEY_WS_PONG_TIMEOUT", default_value = "20s", value_parser = humantime::parse_duration, global = true)]
    pub ws_pong_timeout: Duration,

    /// Open WebSockets one user may have (4429 beyond).
    #[arg(
        long,
        env = "PARLEY_WS_MAX_PER_USER",
        default_value_t = 32,
        global = true
    )]
    pub ws_max_per_user: usize,

    /// Open WebSockets from one client address (429 beyond).
    #[arg(
        long,
        env = "PARLEY_WS_MAX_PER_ADDRESS",
        default_value_t = 256,
        global = true
    )]
    pub ws_max_per_address: usize,

    /// Operations running at once on one WebSocket.
    #[arg(
        long,
        env = "PARLEY_WS_MAX_OPERATIONS",
        default_value_t = 100,
        global = true
    )]
    pub ws_max_operations: usize,

    /// Operations of one WebSocket that may be starting at once (reading
    /// the database to set up); the others wait their turn, so one socket
    /// holds at most this many pool connections.
    #[arg(long, env = "PARLEY_WS_MAX_STARTING", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub ws_max_starting: u32,

    /// Most aliased fields in one GraphQL document.
    #[arg(long, env = "PARLEY_MAX_ALIASES", default_value_t = 15, global = true)]
    pub max_aliases: usize,

    /// Most tokens in one GraphQL document (GraphiQL's introspection query
    /// has about 300).
    #[arg(long, env = "PARLEY_MAX_TOKENS", default_value_t = 2000, global = true)]
    pub max_tokens: usize,

    /// Most directives on one field.
    #[arg(
        long,
        env = "PARLEY_MAX_DIRECTIVES",
        default_value_t = 50,
        global = true
    )]
    pub max_directives: usize,

    /// Most errors in one response; validation stops there.
    #[arg(long, env = "PARLEY_MAX_ERRORS", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_errors: u32,
}

/// A rate limit setting: `Some` limit, or `None` for `off`.
pub type RateSetting = Option<Rate>;

/// `"3/6s"` (3 at once, then one every 6 s); `"off"` is `None`.
pub fn parse_rate(text: &str) -> Result<RateSetting, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let (burst, every) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}`: expected BURST/INTERVAL such as 3/6s, or off"))?;
    let burst = NonZeroU32::from_str(burst.trim())
        .map_err(|_| format!("`{burst}`: the burst must be a whole number above 0"))?;
    let every =
        humantime::parse_duration(every.trim()).map_err(|err| format!("`{every}`: {err}"))?;
    if every.is_zero() {
        return Err("the interval must be longer than zero".into());
    }
    Ok(Some(Rate { burst, every }))
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
    /// Whether `/demo/` is served: as set, else everywhere but production.
    pub fn demo_enabled(&self) -> bool {
        self.demo.unwrap_or(!self.production)
    }

    /// Settings for tests and embedding: everything at its default except
    /// the database, listening on a free port.
    pub fn for_database(database_url: impl Into<String>) -> Result<Self, clap::Error> {
        let mut config = Cli::try_parse_from(["parley"])?.config;
        config.database_url = database_url.into();
        config.listen = "127.0.0.1:0".into();
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn demo_follows_production_unless_set() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).unwrap().config;
        assert!(parse(&["parley"]).demo_enabled());
        assert!(!parse(&["parley", "--production"]).demo_enabled());
        assert!(parse(&["parley", "--production", "--demo", "on"]).demo_enabled());
        assert!(!parse(&["parley", "--demo", "false"]).demo_enabled());
        assert!(Cli::try_parse_from(["parley", "--demo", "maybe"]).is_err());
    }

    #[test]
    fn rates_parse() {
        let rate = parse_rate("3/6s").unwrap().unwrap();
        assert_eq!(rate.burst.get(), 3);
        assert_eq!(rate.every, Duration::from_secs(6));
        assert_eq!(parse_rate("off").unwrap(), None);
        for bad in ["3", "0/6s", "3/0s", "x/6s", "3/soon"] {
            assert!(parse_rate(bad).is_err(), "{bad} accepted");
        }
    }
}
