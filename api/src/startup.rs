//! Building and running the app: the database, the service, the schema and
//! the server, owned together so that a process (or a test) can run many.

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::{Router, extract::ConnectInfo};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use sea_orm::DatabaseConnection;
use service::{
    AdminKey, EventBus, JwtVerifier, Service, Settings, accounts::RateLimits, db,
    webhooks::WebhookSettings,
};
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower::ServiceExt;

use crate::{
    config::Config,
    graphql::{AppSchema, SchemaLimits, build_schema},
    http::{
        AppState, CorsOrigins, HttpSettings, PersistedQueries, WsSettings, origin::AllowedOrigins,
        router,
    },
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot open the database: {0}")]
    Database(#[source] sea_orm::DbErr),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[source] sea_orm::DbErr),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
    #[error(
        "another process is serving the SQLite database {database} (it holds {lock}); \
         SQLite serves one instance: stop the other one, or use PostgreSQL to run several"
    )]
    AlreadyServed { database: String, lock: String },
    #[error("cannot lock {lock}: {source}")]
    Lock {
        lock: String,
        #[source]
        source: std::io::Error,
    },
}

/// Takes the lock file beside a SQLite database file, `<file>.lock`, for as
/// long as the returned file is open: a second process serving the same
/// file would keep its own live events, sessions and presence, so it is
/// refused. The operating system releases the lock when the process ends,
/// however it ends. `None` for PostgreSQL and in-memory databases.
fn lock_sqlite_file(url: &str) -> Result<Option<std::fs::File>, StartupError> {
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Ok(None);
    };
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(None);
    }
    let path = rest.trim_start_matches("//");
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    if path.is_empty() {
        return Ok(None);
    }
    let lock = format!("{path}.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|source| StartupError::Lock {
            lock: lock.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(StartupError::AlreadyServed {
            database: path.to_owned(),
            lock,
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(StartupError::Lock { lock, source }),
    }
}

/// Opens the database and applies pending migrations; returns once they
/// have committed, with a pool that sees the tables.
///
/// On SQLite, a pooled connection that read the schema before the
/// migrations created the tables keeps preparing statements against its old
/// copy ("no such table"), so background tasks started right after would
/// fail now and then. The pool the migrations ran on is closed and a fresh
/// one opened (an in-memory database has one connection, and would not
/// survive the close).
pub async fn open_database(config: &Config) -> Result<DatabaseConnection, StartupError> {
    let options = db::DbOptions {
        max_connections: config.db_max_connections,
    };
    let url = &config.database_url;
    let conn = db::connect(url, &options)
        .await
        .map_err(StartupError::Database)?;
    db::migrate(&conn).await.map_err(StartupError::Migrate)?;
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if !url.starts_with("sqlite:") || in_memory {
        return Ok(conn);
    }
    conn.close().await.map_err(StartupError::Database)?;
    db::connect(url, &options)
        .await
        .map_err(StartupError::Database)
}

/// The JWT verifier the config asks for: none, HS256 with a secret, or
/// RS256 / ES256 with a public key given as PEM text or a PEM file's path.
fn jwt_verifier(config: &Config) -> Result<Option<JwtVerifier>, StartupError> {
    let invalid = |err: service::SettingsError| StartupError::Config(err.to_string());
    let verifier = match (&config.jwt_secret, &config.jwt_public_key) {
        (None, None) => {
            if config.jwt_issuer.is_some() || config.jwt_audience.is_some() {
                return Err(StartupError::Config(
                    "a JWT issuer or audience is set, but neither a JWT secret nor a public key"
                        .into(),
                ));
            }
            return Ok(None);
        }
        (Some(_), Some(_)) => {
            return Err(StartupError::Config(
                "set either the JWT secret (HS256) or the JWT public key (RS256/ES256), not both"
                    .into(),
            ));
        }
        (Some(secret), None) => JwtVerifier::hs256(secret.expose()).map_err(invalid)?,
        (None, Some(key)) => {
            let pem = if key.trim_start().starts_with("-----BEGIN") {
                key.clone()
            } else {
                std::fs::read_to_string(key).map_err(|err| {
                    StartupError::Config(format!(
                        "cannot read the JWT public key file {key}: {err}"
                    ))
                })?
            };
            JwtVerifier::public_key_pem(&pem).map_err(invalid)?
        }
    };
    let mut verifier = verifier.with_leeway(config.jwt_leeway);
    if let Some(issuer) = &config.jwt_issuer {
        verifier = verifier.with_issuer(issuer);
    }
    if let Some(audience) = &config.jwt_audience {
        verifier = verifier.with_audience(audience);
    }
    Ok(Some(verifier))
}

/// The webhook settings; ids in payloads are the API's global ids.
fn webhook_settings(config: &Config) -> Result<WebhookSettings, StartupError> {
    if config.webhook_timeout.is_zero()
        || config.webhook_poll.is_zero()
        || config.webhook_backoff_base.is_zero()
        || config.webhook_lease <= config.webhook_poll * 2
    {
        return Err(StartupError::Config(
            "webhook timeout, poll and backoff must be longer than zero, and the lease longer than two polls"
                .into(),
        ));
    }
    Ok(WebhookSettings {
        allow_private: config.webhook_allow_private,
        timeout: config.webhook_timeout,
        max_response_bytes: config.webhook_max_response_bytes,
        max_attempts: config.webhook_max_attempts,
        backoff_base: config.webhook_backoff_base,
        backoff_max: config.webhook_backoff_max.max(config.webhook_backoff_base),
        lease: config.webhook_lease,
        poll: config.webhook_poll,
        id_format: crate::graphql::webhook_id,
    })
}

/// A built app, bound to its port, not yet serving.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    config: Config,
    /// Held while the app lives: one server per SQLite file.
    _sqlite_lock: Option<std::fs::File>,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        if config.typing_timeout.is_zero()
            || config.delivery_flush.is_zero()
            || config.presence_expiry.is_zero()
            || config.streaming_timeout.is_zero()
        {
            return Err(StartupError::Config(
                "the typing timeout, the delivery flush interval, the presence expiry and the streaming timeout must be longer than zero"
                    .into(),
            ));
        }
        if [
            config.header_read_timeout,
            config.body_read_timeout,
            config.request_timeout,
            config.ws_keepalive,
            config.ws_pong_timeout,
        ]
        .iter()
        .any(Duration::is_zero)
        {
            return Err(StartupError::Config(
                "timeouts and the WebSocket keep-alive interval must be longer than zero".into(),
            ));
        }
        let settings = Settings {
            token_ttl: config.token_ttl,
            max_group_members: config.max_group_members,
            max_blocks: config.max_blocks,
            max_reason: config.max_reason,
            delete_retention: config.delete_retention,
            event_retention: config.event_retention,
            typing_timeout: config.typing_timeout,
            delivery_flush: config.delivery_flush,
            session_cache: config.session_cache,
            presence_expiry: config.presence_expiry,
            presence_visibility: config.presence_visibility.into(),
            user_search: config.user_search.into(),
            deleted_account_messages: config.deleted_account_messages.into(),
            streaming_timeout: config.streaming_timeout,
            webhooks: webhook_settings(&config)?,
            rate_limits: RateLimits {
                login_per_account: config.login_rate_account,
                login_per_address: config.login_rate_address,
                register_per_address: config.register_rate_address,
            },
            max_concurrent_hashes: config.max_concurrent_hashes as usize,
            jwt: jwt_verifier(&config)?,
            admin_key: config
                .admin_key
                .as_ref()
                .map(|key| AdminKey::new(key.expose()))
                .transpose()
                .map_err(|err| StartupError::Config(err.to_string()))?,
        };
        if let Some(jwt) = &settings.jwt {
            tracing::info!(algorithm = jwt.algorithm(), "host-app JWT sign-in is on");
        }
        if settings.admin_key.is_some() {
            tracing::info!("the admin key is set: host-app operations are on");
        }
        let sqlite_lock = lock_sqlite_file(&config.database_url)?;
        let conn = open_database(&config).await?;
        let service = Service::new(conn, EventBus::new(), settings);
        let listener =
            TcpListener::bind(&config.listen)
                .await
                .map_err(|source| StartupError::Listen {
                    addr: config.listen.clone(),
                    source,
                })?;
        if config.production {
            tracing::info!(
                "production mode: no GraphiQL, no anonymous introspection, no suggestions"
            );
        }
        let limits = SchemaLimits {
            production: config.production,
            max_aliases: config.max_aliases,
            max_tokens: config.max_tokens,
            max_directives: config.max_directives,
            max_errors: config.max_errors as usize,
        };
        let cors = CorsOrigins::parse(&config.cors_origins).map_err(StartupError::Config)?;
        let state = AppState {
            schema: build_schema(Some(service.clone()), &limits),
            service,
            shutdown: CancellationToken::new(),
            sockets: TaskTracker::new(),
            ws: WsSettings {
                init_timeout: config.ws_init_timeout,
                keepalive: config.ws_keepalive,
                pong_timeout: config.ws_pong_timeout,
                max_operations: config.ws_max_operations,
                max_starting: config.ws_max_starting as usize,
                max_per_user: config.ws_max_per_user,
                max_per_address: config.ws_max_per_address,
            },
            http: HttpSettings {
                production: config.production,
                demo: config.demo_enabled(),
                allowed_origins: AllowedOrigins::new(&cors, !config.production),
                trust_forwarded_for: config.trust_forwarded_for,
                body_read_timeout: config.body_read_timeout,
                request_timeout: config.request_timeout,
            },
            caps: Default::default(),
            cors,
            persisted: PersistedQueries::new(config.apq_cache_size),
        };
        Ok(Self {
            listener,
            state,
            config,
            _sqlite_lock: sqlite_lock,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn service(&self) -> &Service {
        &self.state.service
    }

    pub fn schema(&self) -> &AppSchema {
        &self.state.schema
    }

    /// Serves until `shutdown` resolves, then stops taking connections,
    /// lets requests in flight finish, closes every WebSocket with 1001, and
    /// returns once all of it is done (or the shutdown timeout passed).
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let addr = self.local_addr();
        let state = self.state.clone();
        let token = state.shutdown.clone();
        let app = router(state.clone(), self.config.metrics);
        let server_token = token.clone();
        let server = serve(
            self.listener,
            app,
            self.config.header_read_timeout,
            async move {
                tokio::select! {
                    () = shutdown => {}
                    () = server_token.cancelled() => {}
                }
                tracing::info!("shutting down: finishing requests and closing sockets");
                server_token.cancel();
            },
        );
        tracing::info!(
            %addr,
            database = db::backend_name(state.service.db()),
            "Parley is listening; open http://{addr}/ for GraphiQL"
        );
        if state.http.demo {
            tracing::info!(
                "the demo chat is at http://{addr}/demo/ (PARLEY_DEMO=false turns it off)"
            );
        }
        let purger = tokio::spawn(purge_deleted(state.service.clone(), token.clone()));
        let result = server.await;
        purger.abort();
        state.sockets.close();
        if tokio::time::timeout(self.config.shutdown_timeout, state.sockets.wait())
            .await
            .is_err()
        {
            tracing::warn!("some sockets did not close in time");
        }
        state.service.db().clone().close().await.ok();
        tracing::info!("stopped");
        result.map_err(StartupError::Serve)
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open
/// requests finish. axum's own `serve` sets no timer, so a client could
/// take forever to send its headers; here hyper's header read timeout is
/// on, for HTTP/1 (the one slow-header attack that works on it).
async fn serve(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .enable_connect_protocol();
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait, then go on
                    // (as axum's `serve` does).
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        let service = app.clone().map_request(
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(remote));
                request
            },
        );
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::trace!(error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// How often deleted conversations past their restore window are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Purges deleted conversations past their retention period and events
/// past theirs, now and then hourly, until shutdown. Several instances may all do it: the DELETE is
/// idempotent.
async fn purge_deleted(service: Service, stop: CancellationToken) {
    let mut every = tokio::time::interval(PURGE_EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = stop.cancelled() => return,
        }
        match service.purge_deleted().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged deleted conversations"),
            Err(err) => tracing::warn!(error = %err, "purging deleted conversations failed"),
        }
        match service.prune_events().await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "pruned the event log"),
            Err(err) => tracing::warn!(error = %err, "pruning the event log failed"),
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
