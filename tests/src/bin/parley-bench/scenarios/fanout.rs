//! `fanout`: many subscribers, a steady stream of sends; every delivery
//! checked for loss, duplication and send-to-receive latency.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Result;
use futures_util::{StreamExt, stream};
use service::entity::conversation::Kind;
use tokio::sync::watch;

use super::{Shared, record_micros, shared, take};
use crate::{
    Ctx,
    client::{Socket, conversation_gid, next_json, now_micros, parse_event, send_timed, subscribe},
    report::{CpuWatch, Row},
};

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let secs = ctx.size(3, 30) as u64;
    let one_group = setting(ctx, 1, ctx.size(50, 1000), 20.0, secs, 50.0).await?;
    let many_groups = setting(
        ctx,
        ctx.size(10, 1000),
        10,
        ctx.size(50, 200) as f64,
        secs,
        100.0,
    )
    .await?;
    Ok(vec![one_group, many_groups])
}

/// Subscribers connected, and how many of them there are per group.
pub async fn connect_all(ctx: &Ctx, tokens: &[(String, String)]) -> Result<Vec<Socket>> {
    let ws_url = ctx.target.ws_url();
    stream::iter(tokens.iter().cloned())
        .map(|(token, gid)| {
            let ws_url = ws_url.clone();
            async move { subscribe(&ws_url, &token, &gid, None).await }
        })
        .buffered(64)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

async fn setting(
    ctx: &Ctx,
    groups: usize,
    per_group: usize,
    rate: f64,
    secs: u64,
    p99_target: f64,
) -> Result<Row> {
    let users = ctx
        .seeder
        .users(&format!("fan{groups}x"), groups * per_group)
        .await?;
    let member_lists: Vec<Vec<i64>> = users
        .chunks(per_group)
        .map(|c| c.iter().map(|u| u.id).collect())
        .collect();
    let ids = ctx.seeder.conversations(Kind::Group, &member_lists).await?;
    let gids: Vec<String> = ids.iter().map(|id| conversation_gid(*id)).collect();
    let subscribers: Vec<(String, String)> = users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.token.clone(), gids[i / per_group].clone()))
        .collect();
    let sockets = connect_all(ctx, &subscribers).await?;
    // Let every subscription reach the bus before the first send.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let latency = shared()?;
    let (stop, stopped) = watch::channel(false);
    let readers: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, socket)| {
            tokio::spawn(read_until_stopped(
                socket,
                i / per_group,
                latency.clone(),
                stopped.clone(),
            ))
        })
        .collect();

    // Senders: ticks at `rate`, round-robin over groups; the first member
    // of each group sends.
    let sent: Arc<Mutex<HashMap<usize, u64>>> = Arc::default();
    let url = ctx.target.graphql_url();
    let watch = CpuWatch::start();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let total = (rate * secs as f64) as usize;
    let mut sends = Vec::with_capacity(total);
    let started = Instant::now();
    for i in 0..total {
        ticker.tick().await;
        let group = i % groups;
        let (http, url, token, gid, sent) = (
            ctx.http.clone(),
            url.clone(),
            users[group * per_group].token.clone(),
            gids[group].clone(),
            sent.clone(),
        );
        sends.push(tokio::spawn(async move {
            if send_timed(&http, &url, &token, &gid).await.is_ok()
                && let Ok(mut sent) = sent.lock()
            {
                *sent.entry(group).or_default() += 1;
            }
        }));
    }
    for send in sends {
        send.await?;
    }
    // Let the last deliveries arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let elapsed = started.elapsed();
    watch.check("fanout");
    let _ = stop.send(true);
    let sent = sent.lock().map(|s| s.clone()).unwrap_or_default();
    let (mut lost, mut duplicated, mut delivered) = (0u64, 0u64, 0u64);
    for reader in readers {
        let (group, seqs) = reader.await?;
        let mut unique = seqs.clone();
        unique.sort_unstable();
        unique.dedup();
        let expected = sent.get(&group).copied().unwrap_or(0);
        lost += expected.saturating_sub(unique.len() as u64);
        duplicated += (seqs.len() - unique.len()) as u64;
        delivered += seqs.len() as u64;
    }
    let h = take(&latency);
    let row = Row::new(
        "fanout",
        format!(
            "{} subs in {groups} groups, {rate} msg/s",
            groups * per_group
        ),
    )
    .latencies(&h)
    .rate(delivered, elapsed)
    .rss(&ctx.target);
    let pass = lost == 0 && duplicated == 0 && row.p99_ms <= p99_target;
    Ok(Row {
        lost,
        duplicated,
        ..row.judge(format!("no loss/dup, p99<={p99_target}ms"), pass)
    })
}

async fn read_until_stopped(
    mut socket: Socket,
    group: usize,
    latency: Shared,
    mut stopped: watch::Receiver<bool>,
) -> (usize, Vec<i64>) {
    let mut seqs = Vec::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            message = next_json(&mut socket) => match message {
                Ok(message) => {
                    if let Some((seq, sent)) = parse_event(&message) {
                        seqs.push(seq);
                        if let Some(sent) = sent {
                            record_micros(&latency, now_micros() - sent);
                        }
                    }
                }
                Err(_) => break,
            },
        }
    }
    (group, seqs)
}
