//! `inbox`: the first page of a user in thousands of conversations, with
//! last message, unread count and members; and what each page costs in
//! SQL statements as the page grows.

use std::time::Instant;

use anyhow::{Result, bail};
use serde_json::json;
use service::entity::conversation::Kind;

use crate::{
    Ctx,
    client::gql,
    report::{CpuWatch, Row, histogram, record},
};

const INBOX: &str =
    "query($f: Int) { unreadCount conversations(first: $f) { nodes { id title unreadCount
    lastMessage { seq body createdAt sender { displayName } }
    members(first: 10) { nodes { role user { id displayName } } } } } }";

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let n = ctx.size(200, 10_000);
    let requests = ctx.size(30, 500);
    let me = ctx.seeder.users("inboxowner", 1).await?.remove(0);
    let others = ctx.seeder.users("friend", n).await?;
    let lists: Vec<Vec<i64>> = others.iter().map(|o| vec![me.id, o.id]).collect();
    let seeded = Instant::now();
    let ids = ctx.seeder.conversations(Kind::Direct, &lists).await?;
    let pairs: Vec<(i64, i64)> = ids.iter().zip(&others).map(|(c, o)| (*c, o.id)).collect();
    ctx.seeder.one_message_each(&pairs).await?;
    eprintln!("seeded {n} conversations in {:.1?}", seeded.elapsed());

    let url = ctx.target.graphql_url();
    let mut rows = Vec::new();
    let mut statements = Vec::new();
    for first in [10, 50, 100] {
        let mut h = histogram()?;
        let watch = CpuWatch::start();
        let before = ctx.target.statements().await?;
        let started = Instant::now();
        for _ in 0..requests {
            let sent = Instant::now();
            let data = gql(&ctx.http, &url, &me.token, INBOX, json!({"f": first})).await?;
            record(&mut h, sent.elapsed());
            if data["conversations"]["nodes"].as_array().map(Vec::len) != Some(first) {
                bail!("the inbox page has the wrong size");
            }
        }
        let elapsed = started.elapsed();
        let per_request = (ctx.target.statements().await? - before) as f64 / requests as f64;
        watch.check("inbox");
        statements.push(per_request);
        let row = Row::new(
            "inbox",
            format!("{n} conversations, first {first}: {per_request:.1} stmt/req"),
        )
        .latencies(&h)
        .rate(requests as u64, elapsed)
        .rss(&ctx.target);
        rows.push(row);
    }
    // Averages over many requests: a rare split batch must not count.
    let constant = statements.windows(2).all(|w| (w[0] - w[1]).abs() < 0.1);
    for row in &mut rows {
        let pass = constant && (!row.setting.contains("first 50:") || row.p99_ms <= 20.0);
        let target = if row.setting.contains("first 50:") {
            "p99<=20ms, stmts constant"
        } else {
            "stmts constant"
        };
        *row = row.clone().judge(target, pass);
    }
    Ok(rows)
}
