//! `send`: concurrent clients send over `sendMessage`, each into its own
//! direct conversation, against the database's own limit for one commit
//! per message: pgbench with prepared statements on PostgreSQL, the same
//! rows written straight in by as many writers on SQLite. Also plain HTTP
//! (`{__typename}`) with wrk, when it is installed.

use anyhow::{Context, Result, bail};
use chrono::Utc;
use futures_util::FutureExt;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};
use service::{
    db,
    entity::{conversation, conversation::Kind, conversation_member, message},
};

use super::drive;
use crate::{
    Ctx,
    client::{conversation_gid, send_timed},
    external::{self, CpuSpan},
    report::{CpuWatch, Row},
    server::DbKind,
};

/// The durable part of a send, nothing else: bump the conversation's seq,
/// insert the message, commit. Client `n` writes to the conversation `cmin
/// + n`, as Parley's client `n` sends into its own.
const LIMIT_SCRIPT: &str = r"\set c :cmin + :client_id
BEGIN;
UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = now() WHERE id = :c RETURNING last_seq AS seq, created_by AS sender \gset
INSERT INTO messages (conversation_id, seq, sender_id, body, created_at, kind) VALUES (:c, :seq, :sender, 'limit load test message', now(), 'text');
COMMIT;
";

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let clients = ctx.size(4, 32);
    let total = ctx.size(200, 20_000);
    let users = ctx.seeder.users("sender", clients * 2).await?;
    let pairs: Vec<Vec<i64>> = users
        .chunks(2)
        .map(|pair| pair.iter().map(|u| u.id).collect())
        .collect();
    let ids = ctx.seeder.conversations(Kind::Direct, &pairs).await?;
    let gids: Vec<String> = ids.iter().map(|id| conversation_gid(*id)).collect();
    let url = ctx.target.graphql_url();
    let send = |worker: usize, _| {
        send_timed(&ctx.http, &url, &users[worker * 2].token, &gids[worker]).map(|s| s.map(drop))
    };
    // Warm the pools and caches up first.
    drive(clients, clients * 20, send).await?;
    external::settle().await;

    // Through Parley.
    let watch = CpuWatch::start();
    let cpu = CpuSpan::start(ctx.target.pid());
    let (h, parley_elapsed) = drive(clients, total, send).await?;
    let (parley_cpu, postgres_cpu) = cpu.per_op_ms(total as u64);
    watch.check("send");
    external::settle().await;

    let setting = format!("{clients} clients, {clients} direct");
    let limit = limit(ctx, &ids, &users, Ord::max(parley_elapsed.as_secs(), 2)).await?;
    let parley = Row::new("send", format!("{setting} ({:?})", ctx.db))
        .latencies(&h)
        .rate(total as u64, parley_elapsed)
        .rss(&ctx.target)
        .cpu(parley_cpu);
    if ctx.db == DbKind::Postgres {
        println!(
            "send: PostgreSQL's CPU per message during Parley's run: {postgres_cpu:.3} ms{}",
            limit.cpu_ms_per_op.map_or(String::new(), |ms| format!(
                ", per commit under the limit: {ms:.3} ms"
            ))
        );
    }
    let ratio = parley.rate / limit.rate.max(1e-9);
    let cpu_ok = ctx.db != DbKind::Postgres || parley_cpu.is_some_and(|ms| ms <= 0.3);
    let pass = ratio >= 1.0 && parley.p99_ms <= 50.0 && cpu_ok;
    let cpu_target = match ctx.db {
        DbKind::Postgres => ", cpu<=0.3ms",
        DbKind::Sqlite => "",
    };
    let parley = parley.judge(
        format!(
            "{:.0}% of limit (>=100%), p99<=50ms{cpu_target}",
            ratio * 100.0
        ),
        pass,
    );
    let mut rows = vec![limit, parley];
    if let Some(row) = typename(ctx).await? {
        rows.push(row);
    }
    Ok(rows)
}

/// The database's limit for one commit per message, run for `secs`.
async fn limit(ctx: &Ctx, ids: &[i64], users: &[crate::seed::SeedUser], secs: u64) -> Result<Row> {
    let clients = ids.len();
    if ctx.db == DbKind::Postgres && external::available("pgbench").await {
        let contiguous = ids.windows(2).all(|w| w[1] == w[0] + 1);
        if !contiguous {
            bail!("the seeded conversations' ids are not consecutive: {ids:?}");
        }
        let cpu = CpuSpan::start(None);
        let run = external::pgbench(
            &ctx.target.database_url,
            clients,
            secs,
            LIMIT_SCRIPT,
            &[("cmin", ids[0].to_string())],
        )
        .await?;
        let (_, postgres_cpu) = cpu.per_op_ms(run.transactions);
        let mut row = Row::new(
            "send",
            format!(
                "limit: pgbench, {clients} clients (avg {:.1} ms)",
                run.latency_avg_ms
            ),
        )
        .cpu(Some(postgres_cpu));
        row.count = run.transactions;
        row.rate = run.tps;
        return Ok(row);
    }
    if ctx.db == DbKind::Postgres {
        eprintln!("warning: pgbench is not installed; the limit is measured through sqlx instead");
    }
    let total = ctx.size(200, 20_000);
    let pool = db::connect(
        &ctx.target.database_url,
        &db::DbOptions {
            max_connections: clients as u32,
        },
    )
    .await?;
    // SQLite writers queue in process, as Parley's do.
    let lock = db::WriteLock::for_connection(&pool);
    let (h, elapsed) = drive(clients, total, |worker, _| {
        insert_directly(&pool, &lock, ids[worker], users[worker * 2].id)
    })
    .await?;
    Ok(
        Row::new("send", format!("limit: direct DB, {clients} writers"))
            .latencies(&h)
            .rate(total as u64, elapsed),
    )
}

/// `{__typename}` over HTTP with wrk at 64 connections: what the server
/// does per request before any resolver.
async fn typename(ctx: &Ctx) -> Result<Option<Row>> {
    if !external::available("wrk").await {
        eprintln!("warning: wrk is not installed; skipping the {{__typename}} row");
        return Ok(None);
    }
    let secs = ctx.size(2, 10) as u64;
    let cpu = CpuSpan::start(ctx.target.pid());
    let started = std::time::Instant::now();
    let rps = external::wrk_post(
        &ctx.target.graphql_url(),
        r#"{"query":"{__typename}"}"#,
        64,
        secs,
    )
    .await
    .context("wrk {__typename}")?;
    let requests = (rps * started.elapsed().as_secs_f64()) as u64;
    let (server_cpu, _) = cpu.per_op_ms(requests);
    let mut row = Row::new("http", "{__typename}, 64 connections (wrk)").cpu(server_cpu);
    row.rate = rps;
    row.count = requests;
    Ok(Some(row.judge(">=30000 rps", rps >= 30_000.0)))
}

/// What `sendMessage` writes, without Parley: the seq bump, the message, the
/// sender's read pointer and every member's inbox key and unread count, in
/// one transaction per message.
async fn insert_directly(
    pool: &sea_orm::DatabaseConnection,
    lock: &db::WriteLock,
    conversation_id: i64,
    sender: i64,
) -> Result<()> {
    let txn = lock.begin(pool).await?;
    let now = Utc::now();
    let bumped = conversation::Entity::update_many()
        .col_expr(
            conversation::Column::LastSeq,
            Expr::col(conversation::Column::LastSeq).add(1),
        )
        .col_expr(conversation::Column::LastActivityAt, Expr::value(now))
        .filter(conversation::Column::Id.eq(conversation_id))
        .exec_with_returning(&*txn)
        .await?;
    let seq = bumped
        .first()
        .map(|c| c.last_seq)
        .context("no conversation")?;
    message::ActiveModel {
        conversation_id: Set(conversation_id),
        seq: Set(seq),
        sender_id: Set(Some(sender)),
        body: Set(format!("t={} load test message", now.timestamp_micros())),
        client_message_id: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&*txn)
    .await?;
    conversation_member::Entity::update_many()
        .col_expr(conversation_member::Column::LastReadSeq, Expr::value(seq))
        .col_expr(conversation_member::Column::UnreadCount, Expr::value(0))
        .col_expr(
            conversation_member::Column::LastActivityAt,
            Expr::value(now),
        )
        .filter(conversation_member::Column::ConversationId.eq(conversation_id))
        .filter(conversation_member::Column::UserId.eq(sender))
        .exec(&*txn)
        .await?;
    conversation_member::Entity::update_many()
        .col_expr(
            conversation_member::Column::UnreadCount,
            Expr::col(conversation_member::Column::UnreadCount).add(1),
        )
        .col_expr(
            conversation_member::Column::LastActivityAt,
            Expr::value(now),
        )
        .filter(conversation_member::Column::ConversationId.eq(conversation_id))
        .filter(conversation_member::Column::UserId.ne(sender))
        .exec(&*txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
