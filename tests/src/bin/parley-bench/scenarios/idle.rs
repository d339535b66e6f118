//! `idle`: many open, subscribed, silent sockets; what each costs the
//! server in memory.

use std::time::{Duration, Instant};

use anyhow::Result;
use service::entity::conversation::Kind;

use super::fanout::connect_all;
use crate::{
    Ctx,
    client::conversation_gid,
    report::{CpuWatch, Row},
};

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let n = ctx.size(100, 10_000);
    let users = ctx.seeder.users("idle", n).await?;
    let member_lists: Vec<Vec<i64>> = users
        .chunks(10)
        .map(|c| c.iter().map(|u| u.id).collect())
        .collect();
    let ids = ctx.seeder.conversations(Kind::Group, &member_lists).await?;
    let subscribers: Vec<(String, String)> = users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.token.clone(), conversation_gid(ids[i / 10])))
        .collect();

    // Warm the server up with a few connections so that one-time costs
    // (thread stacks, pools) are not charged to the sockets.
    drop(connect_all(ctx, &subscribers[..10.min(n)]).await?);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = ctx.target.rss_kib();
    let watch = CpuWatch::start();
    let started = Instant::now();
    let sockets = connect_all(ctx, &subscribers).await?;
    let elapsed = started.elapsed();
    watch.check("idle connect");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = ctx.target.rss_kib();
    let per_connection = match (before, after) {
        (Some(b), Some(a)) => Some(a.saturating_sub(b) as f64 / n as f64),
        _ => None,
    };
    let row = Row::new("idle", format!("{n} idle subscribed sockets"))
        .rate(sockets.len() as u64, elapsed)
        .rss(&ctx.target);
    let row = match per_connection {
        Some(kib) => row.judge(
            format!("{kib:.1} KiB/conn (<=30)"),
            kib <= 30.0 && sockets.len() == n,
        ),
        None => row.judge("server memory unknown (pass --server-pid)", false),
    };
    drop(sockets);
    Ok(vec![row])
}
