//! Opening the database and bringing its schema up to date.

use std::{sync::Arc, time::Duration};

use tokio::sync::{Mutex, OwnedMutexGuard};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// How long a SQLite writer waits for another one before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connection pool settings.
#[derive(Clone, Debug)]
pub struct DbOptions {
    pub max_connections: u32,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
        }
    }
}

/// Opens a pool for a `sqlite:` or `postgres:` URL.
///
/// SQLite files are created when missing and opened in WAL mode with
/// `synchronous=FULL` (an acknowledged commit survives a crash), foreign keys
/// on and a busy timeout, so concurrent writers wait instead of failing.
pub async fn connect(url: &str, options: &DbOptions) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .max_connections(options.max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        // Each connection to an in-memory database would see its own empty
        // database, so those get exactly one.
        if url.contains(":memory:") || url.contains("mode=memory") {
            opts.max_connections(1);
        }
        opts.map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
        });
    }
    if url.starts_with("postgres") {
        // A batch of sends writes set-based statements whose text depends
        // on how many sends and conversations it holds; prepared once per
        // connection and shape, they stay prepared instead of evicting
        // one another (sqlx keeps 100 by default).
        opts.map_sqlx_postgres_opts(|o| o.statement_cache_capacity(PG_STATEMENT_CACHE));
    }
    Database::connect(opts).await
}

/// Prepared statements each PostgreSQL connection keeps.
const PG_STATEMENT_CACHE: usize = 1024;

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Starts a transaction that will write.
///
/// On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`): a
/// deferred transaction that reads first and writes later can fail with
/// `SQLITE_BUSY` when another writer got in between, and the busy timeout
/// cannot help it. PostgreSQL ignores the option.
async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Keeps `DatabaseTransaction` in the public signature tidy.
pub type Tx = DatabaseTransaction;

/// Serializes writers on SQLite, in process.
///
/// SQLite takes one writer at a time. Writers that collide wait in its
/// busy handler, which sleeps and polls with growing intervals (up to
/// 100 ms), so under contention latency goes up in steps and throughput
/// down. Queueing on an async mutex instead hands the lock over the moment
/// it is free. PostgreSQL locks rows and needs none of this.
#[derive(Clone, Default)]
pub struct WriteLock(Option<Arc<Mutex<()>>>);

impl WriteLock {
    pub fn for_connection(db: &impl ConnectionTrait) -> Self {
        match db.get_database_backend() {
            sea_orm::DbBackend::Sqlite => Self(Some(Arc::new(Mutex::new(())))),
            _ => Self(None),
        }
    }

    /// Starts a write transaction, first waiting for the lock where there
    /// is one.
    pub async fn begin<C: TransactionTrait<Transaction = DatabaseTransaction>>(
        &self,
        db: &C,
    ) -> Result<WriteTx, DbErr> {
        let guard = match &self.0 {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        Ok(WriteTx {
            txn: begin_write(db).await?,
            _guard: guard,
        })
    }
}

/// A write transaction holding the write lock until it ends.
pub struct WriteTx {
    txn: DatabaseTransaction,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

/// The name of the backend, for logs.
pub fn backend_name(db: &impl ConnectionTrait) -> &'static str {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "postgres",
        sea_orm::DbBackend::Sqlite => "sqlite",
        _ => "other",
    }
}

/// `term` with LIKE's wildcards escaped by `\\`, for `LikeExpr::escape('\\')`.
pub(crate) fn escape_like(term: &str) -> String {
    let mut out = String::with_capacity(term.len());
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
