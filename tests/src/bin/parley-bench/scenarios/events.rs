//! `events`: subscribers of the one `events` stream under mixed traffic
//! (sends, reads, reactions, edits, typing),
//! and half of them reconnecting with `after` while it goes on. Every
//! subscriber must get every message of its group exactly once.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Result, bail};
use futures_util::{StreamExt, stream};
use serde_json::json;
use service::entity::conversation::Kind;
use tokio::sync::watch;

use super::{Shared, record_micros, shared, take};
use crate::{
    Ctx,
    client::{
        Socket, conversation_gid, gql, next_json, now_micros, send_timed, sent_at, subscribe_events,
    },
    report::{CpuWatch, Row},
};

/// Members per group; every member subscribes.
const GROUP: usize = 10;

const READ: &str = "mutation($c: ID!) { markRead(input: {conversationId: $c}) { id } }";
const TYPE: &str = "mutation($c: ID!) { setTyping(conversationId: $c, typing: true) }";
const REACT: &str = "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"👍\") { id } }";
const EDIT: &str =
    "mutation($m: ID!) { editMessage(id: $m, body: \"edited by the load test\") { id } }";

/// What a traffic step does: half are sends, the rest reads, reactions,
/// edits (by the last message's author) and typing.
#[derive(Clone, Copy)]
enum Step {
    Send,
    Read,
    React,
    Edit,
    Type,
}

fn step(i: usize) -> Step {
    match i % 10 {
        0 | 2 | 4 | 6 | 8 => Step::Send,
        1 | 5 => Step::Read,
        3 => Step::React,
        7 => Step::Edit,
        _ => Step::Type,
    }
}

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let subscribers = ctx.size(50, 1000);
    let rate = ctx.size(20, 100) as f64;
    let secs = ctx.size(4, 20) as u64;
    let users = ctx.seeder.users("ev", subscribers).await?;
    let member_lists: Vec<Vec<i64>> = users
        .chunks(GROUP)
        .map(|c| c.iter().map(|u| u.id).collect())
        .collect();
    let ids = ctx.seeder.conversations(Kind::Group, &member_lists).await?;
    let gids: Vec<String> = ids.iter().map(|id| conversation_gid(*id)).collect();
    let groups = gids.len();

    let ws_url = ctx.target.ws_url();
    let sockets: Vec<Socket> = stream::iter(users.iter().map(|u| u.token.clone()))
        .map(|token| {
            let ws_url = ws_url.clone();
            async move { subscribe_events(&ws_url, &token, None).await }
        })
        .buffered(64)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;

    let latency = shared()?;
    let (stop, stopped) = watch::channel(false);
    let (drop_half, half_dropped) = watch::channel(false);
    let readers: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, socket)| {
            let reconnect = (i % 2 == 0).then(|| (ws_url.clone(), users[i].token.clone()));
            tokio::spawn(read(
                socket,
                reconnect,
                latency.clone(),
                half_dropped.clone(),
                stopped.clone(),
            ))
        })
        .collect();
    // Every stream says it is live before the traffic starts.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let sent: Arc<Mutex<HashMap<usize, HashSet<String>>>> = Arc::default();
    // Each group's newest message and its author's token.
    let last: Arc<Mutex<HashMap<usize, (String, String)>>> = Arc::default();
    let url = ctx.target.graphql_url();
    let watch = CpuWatch::start();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let total = (rate * secs as f64) as usize;
    let mut steps = Vec::with_capacity(total);
    let started = Instant::now();
    for i in 0..total {
        ticker.tick().await;
        if i == total / 2 {
            // Half the subscribers drop and come back with `after`, under
            // the traffic.
            let _ = drop_half.send(true);
        }
        let group = i % groups;
        let member = &users[group * GROUP + (i / groups) % GROUP];
        let (http, url, gid, sent, last) = (
            ctx.http.clone(),
            url.clone(),
            gids[group].clone(),
            sent.clone(),
            last.clone(),
        );
        let last_in_group = last.lock().ok().and_then(|l| l.get(&group).cloned());
        let step = match (step(i), &last_in_group) {
            // Nothing to react to or edit yet: send instead.
            (Step::React | Step::Edit, None) => Step::Send,
            (step, _) => step,
        };
        let token = match (step, &last_in_group) {
            (Step::Edit, Some((_, author))) => author.clone(),
            _ => member.token.clone(),
        };
        steps.push(tokio::spawn(async move {
            let on_last = |query: &'static str| {
                let message = last_in_group.as_ref().map(|(id, _)| id.clone());
                (query, json!({"m": message}))
            };
            let (query, variables) = match step {
                Step::Send => {
                    let id = send_timed(&http, &url, &token, &gid).await?;
                    if let Ok(mut sent) = sent.lock() {
                        sent.entry(group).or_default().insert(id.clone());
                    }
                    if let Ok(mut last) = last.lock() {
                        last.insert(group, (id, token));
                    }
                    return Ok(());
                }
                Step::Read => (READ, json!({"c": gid})),
                Step::Type => (TYPE, json!({"c": gid})),
                Step::React => on_last(REACT),
                Step::Edit => on_last(EDIT),
            };
            gql(&http, &url, &token, query, variables).await.map(|_| ())
        }));
    }
    let mut failed = 0u64;
    for step in steps {
        if step.await?.is_err() {
            failed += 1;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let elapsed = started.elapsed();
    watch.check("events");
    let _ = stop.send(true);
    let sent = sent.lock().map(|s| s.clone()).unwrap_or_default();
    let (mut lost, mut duplicated, mut delivered) = (0u64, 0u64, 0u64);
    for (i, reader) in readers.into_iter().enumerate() {
        let ids = reader.await??;
        let unique: HashSet<&String> = ids.iter().collect();
        let expected = sent.get(&(i / GROUP)).cloned().unwrap_or_default();
        lost += expected.iter().filter(|id| !unique.contains(id)).count() as u64;
        duplicated += (ids.len() - unique.len()) as u64;
        delivered += ids.len() as u64;
    }
    if failed > 0 {
        bail!("{failed} traffic steps failed");
    }
    let h = take(&latency);
    let row = Row::new(
        "events",
        format!("{subscribers} subs, {rate} mixed ops/s, half reconnect"),
    )
    .latencies(&h)
    .rate(delivered, elapsed)
    .rss(&ctx.target);
    let pass = lost == 0 && duplicated == 0;
    Ok(vec![Row {
        lost,
        duplicated,
        ..row.judge("no loss/dup", pass)
    }])
}

/// Reads message ids from the stream until stopped; with `reconnect`, the
/// socket is dropped when told and a new one resumes after the last
/// cursor.
async fn read(
    mut socket: Socket,
    reconnect: Option<(String, String)>,
    latency: Shared,
    mut drop_now: watch::Receiver<bool>,
    mut stopped: watch::Receiver<bool>,
) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    let mut reconnected = reconnect.is_none();
    loop {
        tokio::select! {
            _ = stopped.changed() => return Ok(ids),
            _ = drop_now.changed(), if !reconnected => {
                reconnected = true;
                if let Some((ws_url, token)) = &reconnect {
                    drop(socket);
                    socket = subscribe_events(ws_url, token, cursor.as_deref()).await?;
                }
            }
            message = next_json(&mut socket) => {
                let message = message?;
                let event = &message["payload"]["data"]["events"];
                if let Some(c) = event["cursor"].as_str() {
                    cursor = Some(c.to_owned());
                }
                if event["__typename"] == "MessageAddedEvent" {
                    let message = &event["message"];
                    if let Some(id) = message["id"].as_str() {
                        ids.push(id.to_owned());
                    }
                    if let Some(sent) = message["body"].as_str().and_then(sent_at) {
                        record_micros(&latency, now_micros() - sent);
                    }
                }
            }
        }
    }
}
