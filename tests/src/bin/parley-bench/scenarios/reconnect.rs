//! `reconnect`: subscribers drop, messages arrive meanwhile, everyone
//! reconnects at once with `afterSeq` and must get exactly what it missed.

use std::time::{Duration, Instant};

use anyhow::Result;
use futures_util::{FutureExt, StreamExt, stream};
use service::entity::conversation::Kind;

use super::{drive, fanout::connect_all};
use crate::{
    Ctx,
    client::{conversation_gid, next_json, parse_event, send_timed, subscribe},
    report::{Row, histogram, record},
};

const MISSED: usize = 20;

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let n = ctx.size(50, 2000);
    let sender = ctx.seeder.users("rsender", 1).await?.remove(0);
    let users = ctx.seeder.users("rsub", n).await?;
    let lists: Vec<Vec<i64>> = users.iter().map(|u| vec![sender.id, u.id]).collect();
    let ids = ctx.seeder.conversations(Kind::Direct, &lists).await?;
    let gids: Vec<String> = ids.iter().map(|id| conversation_gid(*id)).collect();
    let subscribers: Vec<(String, String)> = users
        .iter()
        .zip(&gids)
        .map(|(u, g)| (u.token.clone(), g.clone()))
        .collect();

    // Everyone subscribes, then drops.
    let sockets = connect_all(ctx, &subscribers).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(sockets);

    // Meanwhile, 20 messages into each conversation, 32 at a time.
    let url = ctx.target.graphql_url();
    let (_, sending) = drive(32, gids.len() * MISSED, |_, i| {
        send_timed(&ctx.http, &url, &sender.token, &gids[i % gids.len()]).map(|sent| sent.map(drop))
    })
    .await?;
    eprintln!("sent {} messages in {:.1?}", n * MISSED, sending);

    // All reconnect at once with the last seq they saw (0).
    let ws_url = ctx.target.ws_url();
    let started = Instant::now();
    let results: Vec<(Duration, Vec<i64>)> = stream::iter(subscribers)
        .map(|(token, gid)| {
            let ws_url = ws_url.clone();
            async move {
                let mut seqs = Vec::new();
                let Ok(mut socket) = subscribe(&ws_url, &token, &gid, Some(0)).await else {
                    return (started.elapsed(), seqs);
                };
                while seqs.len() < MISSED {
                    match tokio::time::timeout(Duration::from_secs(30), next_json(&mut socket))
                        .await
                    {
                        Ok(Ok(message)) => {
                            if let Some((seq, _)) = parse_event(&message) {
                                seqs.push(seq);
                            }
                        }
                        _ => break,
                    }
                }
                let done = started.elapsed();
                // Anything more would be a duplicate.
                if let Ok(Ok(message)) =
                    tokio::time::timeout(Duration::from_millis(200), next_json(&mut socket)).await
                    && let Some((seq, _)) = parse_event(&message)
                {
                    seqs.push(seq);
                }
                (done, seqs)
            }
        })
        .buffer_unordered(n)
        .collect()
        .await;
    let (mut lost, mut duplicated) = (0u64, 0u64);
    let mut h = histogram()?;
    let mut slowest = Duration::ZERO;
    for (done, seqs) in &results {
        record(&mut h, *done);
        slowest = slowest.max(*done);
        let mut unique = seqs.clone();
        unique.sort_unstable();
        unique.dedup();
        lost += (1..=MISSED as i64)
            .filter(|s| unique.binary_search(s).is_err())
            .count() as u64;
        duplicated += (seqs.len() - unique.len()) as u64
            + unique.iter().filter(|s| **s > MISSED as i64).count() as u64;
    }
    let row = Row::new("reconnect", format!("{n} subscribers x {MISSED} missed"))
        .latencies(&h)
        .rss(&ctx.target);
    let row = Row {
        count: results.len() as u64,
        rate: (n * MISSED) as f64 / slowest.as_secs_f64().max(1e-9),
        lost,
        duplicated,
        ..row
    };
    let pass = lost == 0 && duplicated == 0 && slowest <= Duration::from_secs(5);
    Ok(vec![row.judge(
        format!("all within 5s ({:.2}s)", slowest.as_secs_f64()),
        pass,
    )])
}
