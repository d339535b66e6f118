//! `cluster`: three instances on one PostgreSQL, subscribers spread over
//! them, senders on all; send-to-receive latency on the sender's instance
//! and across instances, lost and duplicated, for `messageAdded` and
//! `events`, with the same load on one instance beside it (issue 15).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Result;
use futures_util::{SinkExt, StreamExt, stream};
use parley_tests::instance::Instance;
use serde_json::{Value, json};
use service::entity::conversation::Kind;
use tokio::sync::watch;
use tokio_tungstenite::{
    connect_async_with_config,
    tungstenite::{
        Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
    },
};

use super::{Shared, record_micros, shared, take};
use crate::{
    Ctx, DbKind,
    client::{SEND, Socket, conversation_gid, gql, next_json, now_micros},
    report::{CpuWatch, Row},
};

const MESSAGE_ADDED: &str =
    "subscription($c: ID!) { messageAdded(conversationId: $c) { seq body } }";
const EVENTS: &str =
    "subscription { events { __typename ... on MessageAddedEvent { message { seq body } } } }";
/// Cross-instance p99 target, ms.
const P99_TARGET: f64 = 50.0;

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    if ctx.db != DbKind::Postgres {
        eprintln!("cluster: PostgreSQL only (run with --db postgres); skipped");
        return Ok(Vec::new());
    }
    let groups = ctx.size(3, 100);
    let per_group = ctx.size(10, 10);
    let rate = ctx.size(20, 200) as f64;
    let secs = ctx.size(3, 20) as u64;
    // The same load on the one instance the tool started...
    let single = vec![Node {
        graphql: ctx.target.graphql_url(),
        ws: ctx.target.ws_url(),
    }];
    let mut rows = load(ctx, "one1", &single, groups, per_group, rate, secs).await?;
    // ...then on it and two more on the same database.
    let settings: Vec<(&str, &str)> = vec![("PARLEY_WS_MAX_PER_ADDRESS", "1000000")];
    let others = vec![
        Instance::start(&ctx.target.database_url, &settings).await?,
        Instance::start(&ctx.target.database_url, &settings).await?,
    ];
    let mut nodes = single;
    nodes.extend(others.iter().map(|i| Node {
        graphql: i.graphql_url(),
        ws: i.ws_url(),
    }));
    rows.extend(load(ctx, "three3", &nodes, groups, per_group, rate, secs).await?);
    drop(others);
    Ok(rows)
}

struct Node {
    graphql: String,
    ws: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Stream {
    MessageAdded,
    Events,
}

/// Latencies per stream and (same instance, cross instance).
type Latencies = HashMap<(Stream, bool), Shared>;

#[allow(clippy::too_many_arguments)]
async fn load(
    ctx: &Ctx,
    prefix: &str,
    nodes: &[Node],
    groups: usize,
    per_group: usize,
    rate: f64,
    secs: u64,
) -> Result<Vec<Row>> {
    let users = ctx.seeder.users(prefix, groups * per_group).await?;
    let member_lists: Vec<Vec<i64>> = users
        .chunks(per_group)
        .map(|c| c.iter().map(|u| u.id).collect())
        .collect();
    let ids = ctx.seeder.conversations(Kind::Group, &member_lists).await?;
    let gids: Vec<String> = ids.iter().map(|id| conversation_gid(*id)).collect();
    // Subscriber i on instance i % n; every other one follows `events`.
    let plans: Vec<(usize, usize, Stream, String, String)> = users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let stream = if i % 2 == 0 {
                Stream::MessageAdded
            } else {
                Stream::Events
            };
            (
                i / per_group,
                i % nodes.len(),
                stream,
                u.token.clone(),
                gids[i / per_group].clone(),
            )
        })
        .collect();
    let sockets: Vec<Socket> = stream::iter(plans.iter().cloned())
        .map(|(_, node, stream, token, gid)| {
            let url = nodes[node].ws.clone();
            async move { open(&url, &token, stream, &gid).await }
        })
        .buffered(64)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut latencies: Latencies = HashMap::new();
    for stream in [Stream::MessageAdded, Stream::Events] {
        for same in [true, false] {
            latencies.insert((stream, same), shared()?);
        }
    }
    let latencies = Arc::new(latencies);
    let (stop, stopped) = watch::channel(false);
    let readers: Vec<_> = sockets
        .into_iter()
        .zip(&plans)
        .map(|(socket, (group, node, stream, _, _))| {
            tokio::spawn(read(
                socket,
                *group,
                *node,
                *stream,
                latencies.clone(),
                stopped.clone(),
            ))
        })
        .collect();

    // Tick i: group i % groups sends through instance i % n.
    let sent: Arc<Mutex<HashMap<usize, u64>>> = Arc::default();
    let watch = CpuWatch::start();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let total = (rate * secs as f64) as usize;
    let mut sends = Vec::with_capacity(total);
    let started = Instant::now();
    for i in 0..total {
        ticker.tick().await;
        let group = i % groups;
        let node = i % nodes.len();
        let (http, url, token, gid, sent) = (
            ctx.http.clone(),
            nodes[node].graphql.clone(),
            users[group * per_group].token.clone(),
            gids[group].clone(),
            sent.clone(),
        );
        sends.push(tokio::spawn(async move {
            let body = format!("t={} n={node} cluster load", now_micros());
            if gql(&http, &url, &token, SEND, json!({"c": gid, "b": body}))
                .await
                .is_ok()
                && let Ok(mut sent) = sent.lock()
            {
                *sent.entry(group).or_default() += 1;
            }
        }));
    }
    for send in sends {
        send.await?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let elapsed = started.elapsed();
    watch.check("cluster");
    let _ = stop.send(true);
    let sent = sent.lock().map(|s| s.clone()).unwrap_or_default();
    let mut lost: HashMap<Stream, u64> = HashMap::new();
    let mut duplicated: HashMap<Stream, u64> = HashMap::new();
    for reader in readers {
        let (group, stream, seqs) = reader.await?;
        let mut unique = seqs.clone();
        unique.sort_unstable();
        unique.dedup();
        let expected = sent.get(&group).copied().unwrap_or(0);
        *lost.entry(stream).or_default() += expected.saturating_sub(unique.len() as u64);
        *duplicated.entry(stream).or_default() += (seqs.len() - unique.len()) as u64;
    }
    let n = nodes.len();
    let setting = |stream: Stream, same: bool| {
        let name = match stream {
            Stream::MessageAdded => "messageAdded",
            Stream::Events => "events",
        };
        let place = match (n, same) {
            (1, _) => "1 instance",
            (_, true) => "same instance",
            (_, false) => "cross-instance",
        };
        format!("{name}, {place}, {} subs", groups * per_group)
    };
    let mut rows = Vec::new();
    for stream in [Stream::MessageAdded, Stream::Events] {
        let same = take(&latencies[&(stream, true)]);
        let cross = take(&latencies[&(stream, false)]);
        let (lost, dup) = (lost[&stream], duplicated[&stream]);
        let same_row = Row::new("cluster", setting(stream, true))
            .latencies(&same)
            .rate(same.len(), elapsed);
        let same_p50 = same_row.p50_ms;
        if n == 1 {
            let pass = lost == 0 && dup == 0;
            rows.push(Row {
                lost,
                duplicated: dup,
                ..same_row.judge("baseline: no loss/dup", pass)
            });
            continue;
        }
        rows.push(same_row.judge("-", true));
        let cross_row = Row::new("cluster", setting(stream, false))
            .latencies(&cross)
            .rate(cross.len(), elapsed);
        let pass = lost == 0
            && dup == 0
            && cross_row.count > 0
            && cross_row.p99_ms <= P99_TARGET
            && cross_row.p50_ms <= 2.0 * same_p50.max(1.0);
        rows.push(Row {
            lost,
            duplicated: dup,
            ..cross_row.judge(
                format!(
                    "p99<={P99_TARGET}ms, p50<=2x same ({:.1}ms), 0 lost/dup (all instances)",
                    2.0 * same_p50
                ),
                pass,
            )
        });
    }
    Ok(rows)
}

async fn open(url: &str, token: &str, stream: Stream, conversation: &str) -> Result<Socket> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024);
    let (mut socket, _) = connect_async_with_config(request, Some(config), true).await?;
    socket
        .send(Message::text(
            json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}}).to_string(),
        ))
        .await?;
    let ack = next_json(&mut socket).await?;
    anyhow::ensure!(ack["type"] == "connection_ack", "no connection_ack: {ack}");
    let (query, variables) = match stream {
        Stream::MessageAdded => (MESSAGE_ADDED, json!({"c": conversation})),
        Stream::Events => (EVENTS, json!({})),
    };
    socket
        .send(Message::text(
            json!({"type": "subscribe", "id": "1", "payload": {"query": query, "variables": variables}})
                .to_string(),
        ))
        .await?;
    Ok(socket)
}

/// `(seq, send time, sending instance)` of a delivered message.
fn parse(message: &Value) -> Option<(i64, i64, usize)> {
    let data = &message["payload"]["data"];
    let m = match data.get("messageAdded") {
        Some(m) => m,
        None => &data["events"]["message"],
    };
    let seq = m["seq"].as_i64()?;
    let mut words = m["body"].as_str()?.split(' ');
    let sent = words.next()?.strip_prefix("t=")?.parse().ok()?;
    let node = words.next()?.strip_prefix("n=")?.parse().ok()?;
    Some((seq, sent, node))
}

async fn read(
    mut socket: Socket,
    group: usize,
    node: usize,
    stream: Stream,
    latencies: Arc<Latencies>,
    mut stopped: watch::Receiver<bool>,
) -> (usize, Stream, Vec<i64>) {
    let mut seqs = Vec::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            message = next_json(&mut socket) => match message {
                Ok(message) => {
                    if let Some((seq, sent, from)) = parse(&message) {
                        seqs.push(seq);
                        record_micros(&latencies[&(stream, from == node)], now_micros() - sent);
                    }
                }
                Err(_) => break,
            },
        }
    }
    (group, stream, seqs)
}
