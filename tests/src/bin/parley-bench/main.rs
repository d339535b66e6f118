//! `parley-bench`: measures a Parley server from the outside, like any
//! client would, against the limits of the machine it runs on.
//!
//! Each scenario starts `parley serve` (next to this binary) on a fresh
//! SQLite file or PostgreSQL database, seeds what it needs with bulk
//! inserts, drives the server over HTTP and graphql-transport-ws, and prints
//! a table (and JSON with `--json`). `--quick` runs tiny sizes (CI).

mod client;
mod external;
mod report;
mod scenarios;
mod seed;
mod server;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, ValueEnum};

use crate::{
    report::Row,
    seed::Seeder,
    server::{DbKind, Target},
};

#[derive(Parser, Debug)]
#[command(name = "parley-bench", about = "Load scenarios for a Parley server")]
struct Cli {
    /// Scenarios to run, in order.
    #[arg(required = true, value_enum)]
    scenarios: Vec<Scenario>,
    /// Database for the servers the tool starts.
    #[arg(long, value_enum, default_value_t = DbKind::Sqlite)]
    db: DbKind,
    /// PostgreSQL server on which `--db postgres` creates fresh databases.
    #[arg(
        long,
        env = "TEST_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    pg_url: String,
    /// Measure a running server instead of starting one (needs
    /// `--database-url` for seeding; start it with `--metrics`).
    #[arg(long, requires = "database_url")]
    url: Option<String>,
    /// The running server's database.
    #[arg(long)]
    database_url: Option<String>,
    /// The running server's process id, to read its memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Tiny sizes: checks that every scenario works, measures nothing.
    #[arg(long)]
    quick: bool,
    /// Also write the rows as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Send,
    Fanout,
    Idle,
    History,
    Inbox,
    Reconnect,
    Events,
    Search,
    /// Hostile clients: subscribe, login and ping floods, memory after
    /// logins, socket caps (issue 12).
    Abuse,
    /// Three instances on one PostgreSQL, same- and cross-instance
    /// latency (issue 15; skipped on SQLite).
    Cluster,
    /// Send rate with and without a webhook endpoint, and deliveries per
    /// second to a local receiver (issue 17).
    Webhooks,
    All,
}

/// What a scenario works with.
pub struct Ctx {
    pub target: Target,
    pub seeder: Seeder,
    pub http: reqwest::Client,
    pub quick: bool,
    pub db: DbKind,
}

impl Ctx {
    pub fn size(&self, quick: usize, full: usize) -> usize {
        if self.quick { quick } else { full }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let mut scenarios = cli.scenarios.clone();
    if scenarios.contains(&Scenario::All) {
        scenarios = vec![
            Scenario::Send,
            Scenario::Fanout,
            Scenario::Idle,
            Scenario::History,
            Scenario::Inbox,
            Scenario::Reconnect,
            Scenario::Events,
            Scenario::Search,
            Scenario::Abuse,
            Scenario::Cluster,
            Scenario::Webhooks,
        ];
    }
    let mut rows: Vec<Row> = Vec::new();
    for scenario in scenarios {
        eprintln!(
            "== {scenario:?} ({:?}{})",
            cli.db,
            if cli.quick { ", quick" } else { "" }
        );
        let target = match (&cli.url, &cli.database_url) {
            (Some(url), Some(database_url)) => {
                Target::existing(url.clone(), database_url.clone(), cli.server_pid).await?
            }
            _ => Target::start(cli.db, &cli.pg_url).await?,
        };
        let ctx = Ctx {
            seeder: Seeder::connect(&target.database_url).await?,
            target,
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()?,
            quick: cli.quick,
            db: cli.db,
        };
        let new_rows = match scenario {
            Scenario::Send => scenarios::send::run(&ctx).await?,
            Scenario::Fanout => scenarios::fanout::run(&ctx).await?,
            Scenario::Idle => scenarios::idle::run(&ctx).await?,
            Scenario::History => scenarios::history::run(&ctx).await?,
            Scenario::Inbox => scenarios::inbox::run(&ctx).await?,
            Scenario::Reconnect => scenarios::reconnect::run(&ctx).await?,
            Scenario::Events => scenarios::events::run(&ctx).await?,
            Scenario::Search => scenarios::search::run(&ctx).await?,
            Scenario::Abuse => scenarios::abuse::run(&ctx, &cli.pg_url).await?,
            Scenario::Cluster => scenarios::cluster::run(&ctx).await?,
            Scenario::Webhooks => scenarios::webhooks::run(&ctx, &cli.pg_url).await?,
            Scenario::All => Vec::new(),
        };
        report::print_table(&new_rows);
        rows.extend(new_rows);
    }
    println!();
    report::print_table(&rows);
    if let Some(path) = cli.json {
        std::fs::write(&path, serde_json::to_string_pretty(&rows)?)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
