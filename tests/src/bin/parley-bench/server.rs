//! The server under test: one the tool starts (a `parley` child process over
//! a fresh database) or one already running.

use std::{net::TcpListener, process::Stdio};

use anyhow::{Context, Result};
use parley_tests::TestDb;
use tokio::process::{Child, Command};

pub struct Target {
    /// `http://host:port`.
    pub base: String,
    /// Where the tool seeds data and measures its limits.
    pub database_url: String,
    pid: Option<u32>,
    _child: Option<Child>,
    _db: Option<TestDb>,
    http: reqwest::Client,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl Target {
    /// Starts `parley serve` on a fresh database, with metrics on.
    pub async fn start(kind: DbKind, pg_admin_url: &str) -> Result<Self> {
        Self::start_with(kind, pg_admin_url, &[]).await
    }

    /// [`Self::start`] with extra `PARLEY_*` settings.
    pub async fn start_with(
        kind: DbKind,
        pg_admin_url: &str,
        settings: &[(&str, &str)],
    ) -> Result<Self> {
        let db = match kind {
            DbKind::Sqlite => TestDb::sqlite()?,
            DbKind::Postgres => TestDb::postgres(pg_admin_url.to_owned()).await?,
        };
        let database_url = db.url();
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0")?;
            probe.local_addr()?.port()
        };
        let binary = parley_tests::instance::parley_binary()?;
        let child = Command::new(&binary)
            .arg("serve")
            .env("DATABASE_URL", &database_url)
            .env("PARLEY_LISTEN", format!("127.0.0.1:{port}"))
            .env("PARLEY_METRICS", "true")
            .env("RUST_LOG", "warn")
            // Every generated client comes from 127.0.0.1: the per-address
            // socket cap would stop the socket scenarios at 256.
            .env("PARLEY_WS_MAX_PER_ADDRESS", "1000000")
            .envs(settings.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let target = Self {
            base: format!("http://127.0.0.1:{port}"),
            database_url,
            pid: child.id(),
            _child: Some(child),
            _db: Some(db),
            http: reqwest::Client::new(),
        };
        target.wait_ready().await?;
        Ok(target)
    }

    /// A server somebody else runs; `pid` lets the tool read its memory.
    pub async fn existing(base: String, database_url: String, pid: Option<u32>) -> Result<Self> {
        let target = Self {
            base: base.trim_end_matches('/').to_owned(),
            database_url,
            pid,
            _child: None,
            _db: None,
            http: reqwest::Client::new(),
        };
        target.wait_ready().await?;
        Ok(target)
    }

    async fn wait_ready(&self) -> Result<()> {
        parley_tests::instance::wait_healthy(&self.http, &self.base).await
    }

    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.base)
    }

    pub fn ws_url(&self) -> String {
        format!("{}/graphql/ws", self.base.replacen("http", "ws", 1))
    }

    /// The server's process id, when known.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The server's resident memory, in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        rss_kib(self.pid?)
    }

    /// SQL statements the server has run (needs `--metrics` on the server).
    pub async fn statements(&self) -> Result<u64> {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await?
            .text()
            .await?;
        text.lines()
            .find_map(|line| line.strip_prefix("parley_sql_statements_total "))
            .and_then(|n| n.trim().parse().ok())
            .context("no parley_sql_statements_total in /metrics: start the server with --metrics")
    }
}

pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// CPU time this process has used, in seconds.
pub fn own_cpu_seconds() -> f64 {
    crate::external::cpu_seconds("self").unwrap_or(0.0)
}
