//! `webhooks`: the send rate with no endpoint, then with one endpoint
//! taking every new message, and how fast deliveries reach a local
//! receiver (an axum server on 127.0.0.1) beside the sends.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures_util::FutureExt;
use parley_tests::{jwt, receiver::Receiver};
use serde_json::json;
use service::entity::conversation::Kind;

use super::drive;
use crate::{
    Ctx,
    client::{conversation_gid, gql, send_timed},
    report::Row,
    seed::Seeder,
    server::Target,
};

pub async fn run(ctx: &Ctx, pg_url: &str) -> Result<Vec<Row>> {
    let target = Target::start_with(
        ctx.db,
        pg_url,
        &[
            ("PARLEY_ADMIN_KEY", jwt::ADMIN_KEY),
            ("PARLEY_WEBHOOK_ALLOW_PRIVATE", "true"),
            ("PARLEY_WEBHOOK_POLL", "200ms"),
        ],
    )
    .await?;
    let seeder = Seeder::connect(&target.database_url).await?;
    let clients = ctx.size(4, 16);
    let conversations = ctx.size(10, 50);
    let total = ctx.size(200, 5_000);
    let users = seeder.users("hooked", clients).await?;
    let members: Vec<i64> = users.iter().map(|u| u.id).collect();
    let ids = seeder
        .conversations(Kind::Group, &vec![members; conversations])
        .await?;
    let gids: Vec<String> = ids.iter().map(|id| conversation_gid(*id)).collect();
    let url = target.graphql_url();
    let send = |worker: usize, i: usize| {
        send_timed(&ctx.http, &url, &users[worker].token, &gids[i % gids.len()])
            .map(|s| s.map(drop))
    };

    let (off_h, off_elapsed) = drive(clients, total, send).await?;

    let receiver = Receiver::start().await?;
    gql(
        &ctx.http,
        &url,
        jwt::ADMIN_KEY,
        "mutation($u: String!) { createWebhookEndpoint(input: {url: $u, eventTypes: [MESSAGE_ADDED]}) { secret } }",
        json!({"u": receiver.url()}),
    )
    .await?;
    let started = Instant::now();
    let (on_h, on_elapsed) = drive(clients, total, send).await?;
    let delivered_during = receiver.count();
    let got = receiver.wait_for(total, Duration::from_secs(600)).await?;
    let delivered_elapsed = started.elapsed();
    let mut ids: Vec<&str> = got.iter().map(|d| d.event_id.as_str()).collect();
    ids.dedup();
    if ids.len() < total {
        bail!("{} of {total} deliveries", ids.len());
    }
    let setting = format!(
        "{clients} clients, {conversations} conversations ({:?})",
        ctx.db
    );
    let off = Row::new("webhooks", format!("send, no endpoint, {setting}"))
        .latencies(&off_h)
        .rate(total as u64, off_elapsed);
    let on = Row::new("webhooks", format!("send, 1 endpoint on, {setting}"))
        .latencies(&on_h)
        .rate(total as u64, on_elapsed)
        .rss(&target);
    let ratio = on.rate / off.rate.max(1e-9);
    let on = on.judge(
        format!("{:.0}% of the rate without (>=70%)", ratio * 100.0),
        ratio >= 0.7,
    );
    let mut deliveries = Row::new(
        "webhooks",
        format!("deliveries to 127.0.0.1 ({delivered_during} during the sends)"),
    )
    .rate(got.len() as u64, delivered_elapsed);
    deliveries.duplicated = (got.len() - ids.len()) as u64;
    Ok(vec![off, on, deliveries])
}
