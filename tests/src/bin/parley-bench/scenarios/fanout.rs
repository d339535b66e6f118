//! `fanout`: many subscribers, a steady stream of sends; every delivery
//! checked for loss, duplication and send-to-receive latency, and the
//! senders' own `sendMessage` latency beside it.

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
    let mut rows = Vec::new();
    for subscribers in [ctx.size(20, 200), ctx.size(50, 1000)] {
        rows.extend(setting(ctx, 1, subscribers, 20.0, secs, 50.0).await?);
    }
    rows.extend(
        setting(
            ctx,
            ctx.size(10, 1000),
            10,
            ctx.size(50, 200) as f64,
            secs,
            100.0,
        )
        .await?,
    );
    Ok(rows)
}

/// The senders' p99 target: a send must not wait behind its fan-out.
const SEND_P99_MS: f64 = 30.0;

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
) -> Result<[Row; 2]> {
    let users = ctx
        .seeder
        .users(&format!("fan{groups}x{per_group}"), groups * per_group)
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
    let send_latency = shared()?;
    let url = ctx.target.graphql_url();
    let watch = CpuWatch::start();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let total = (rate * secs as f64) as usize;
    let mut sends = Vec::with_capacity(total);
    let started = Instant::now();
    for i in 0..total {
        ticker.tick().await;
        let group = i % groups;
        let (http, url, token, gid, sent, send_latency) = (
            ctx.http.clone(),
            url.clone(),
            users[group * per_group].token.clone(),
            gids[group].clone(),
            sent.clone(),
            send_latency.clone(),
        );
        sends.push(tokio::spawn(async move {
            let at = Instant::now();
            if send_timed(&http, &url, &token, &gid).await.is_ok()
                && let Ok(mut sent) = sent.lock()
            {
                record_micros(&send_latency, at.elapsed().as_micros() as i64);
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
    let subscribers = groups * per_group;
    let row = Row::new(
        "fanout",
        format!("{subscribers} subs in {groups} groups, {rate} msg/s"),
    )
    .latencies(&h)
    .rate(delivered, elapsed)
    .rss(&ctx.target);
    let pass = lost == 0 && duplicated == 0 && row.p99_ms <= p99_target;
    let deliveries = Row {
        lost,
        duplicated,
        ..row.judge(format!("no loss/dup, p99<={p99_target}ms"), pass)
    };
    let send_h = take(&send_latency);
    let sends = Row::new("fanout", format!("  sendMessage beside {subscribers} subs"))
        .latencies(&send_h)
        .rate(send_h.len(), elapsed);
    let pass = sends.p99_ms <= SEND_P99_MS;
    let sends = sends.judge(format!("sender p99<={SEND_P99_MS}ms"), pass);
    Ok([deliveries, sends])
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
