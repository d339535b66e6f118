//! `abuse`: hostile clients against one server (issue 12). What other
//! clients feel during a subscribe burst on one socket, a flood of wrong
//! passwords and a ping/subscribe flood; the server's memory before and
//! after 1,000 logins; sockets refused over the per-user and per-address
//! caps.
//!
//! Two servers: one with the default limits (and `X-Forwarded-For`
//! trusted, so that the flood can come from many addresses), one with the
//! login limits off, so that 1,000 logins really hash.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt, future::join_all};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio_tungstenite::{
    connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::{
    Ctx,
    client::{Socket, conversation_gid, gql},
    report::{self, Row},
    seed::Seeder,
    server::Target,
};

const PLAIN: &str = "{ me { id } conversations(first: 5) { nodes { id } } }";
const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }";
const REGISTER: &str = "mutation($u: String!) { register(input: {username: $u, password: \"correct horse\"}) { token } }";

pub async fn run(ctx: &Ctx, pg_url: &str) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let limited = Target::start_with(
        ctx.db,
        pg_url,
        &[
            ("PARLEY_TRUST_FORWARDED_FOR", "true"),
            ("PARLEY_WS_MAX_PER_ADDRESS", "256"),
        ],
    )
    .await?;
    let seeder = Seeder::connect(&limited.database_url).await?;
    rows.push(subscribe_burst(ctx, &limited, &seeder).await?);
    rows.push(login_flood(ctx, &limited, &seeder).await?);
    rows.push(ping_flood(ctx, &limited, &seeder).await?);
    rows.extend(socket_caps(ctx, &limited, &seeder).await?);
    drop(seeder);
    drop(limited);

    let open = Target::start_with(
        ctx.db,
        pg_url,
        &[
            ("PARLEY_LOGIN_RATE_ACCOUNT", "off"),
            ("PARLEY_LOGIN_RATE_ADDRESS", "off"),
            ("PARLEY_REGISTER_RATE_ADDRESS", "off"),
        ],
    )
    .await?;
    rows.push(login_memory(ctx, &open).await?);
    Ok(rows)
}

/// Runs `PLAIN` as `token` until `stop`, one at a time; the latencies,
/// failed ones included (counted in the row's `lost`).
async fn bystander(
    ctx: &Ctx,
    target: &Target,
    token: &str,
    stop: &AtomicBool,
) -> Result<(Histogram<u64>, u64)> {
    let mut h = report::histogram()?;
    let mut failed = 0;
    let url = target.graphql_url();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        if let Err(err) = gql(&ctx.http, &url, token, PLAIN, json!({})).await {
            failed += 1;
            eprintln!("the other client's query failed: {err}");
        }
        report::record(&mut h, started.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok((h, failed))
}

/// Opens a graphql-transport-ws socket and signs it in; `Err` with the
/// close code or HTTP status when refused.
async fn open(target: &Target, token: &str) -> Result<Socket, String> {
    let mut request = target
        .ws_url()
        .into_client_request()
        .map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = connect_async(request).await.map_err(|e| match e {
        tokio_tungstenite::tungstenite::Error::Http(r) => format!("http {}", r.status()),
        other => other.to_string(),
    })?;
    socket
        .send(Message::text(
            json!({"type": "connection_init", "payload": {"token": token}}).to_string(),
        ))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                let message: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                if message["type"] == "connection_ack" {
                    return Ok(socket);
                }
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(format!("close {}", frame.map_or(0, |f| u16::from(f.code))));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("ended".into()),
        }
    }
}

fn subscribe(id: &str, query: &str, variables: Value) -> Message {
    Message::text(
        json!({"type": "subscribe", "id": id, "payload": {"query": query, "variables": variables}})
            .to_string(),
    )
}

/// One socket writes 100 subscribes at once, five times over; another
/// client's plain queries meanwhile.
async fn subscribe_burst(ctx: &Ctx, target: &Target, seeder: &Seeder) -> Result<Row> {
    let users = seeder.users("burst", 2).await?;
    let ids = seeder
        .conversations(
            service::entity::conversation::Kind::Direct,
            &[vec![users[0].id, users[1].id]],
        )
        .await?;
    let conversation = conversation_gid(ids[0]);
    let stop = AtomicBool::new(false);
    let errors = AtomicU64::new(0);
    let rounds = ctx.size(1, 5);
    let flood = async {
        for round in 0..rounds {
            let mut socket = open(target, &users[0].token)
                .await
                .map_err(anyhow::Error::msg)?;
            for i in 0..100 {
                let message = if i % 2 == 0 {
                    subscribe(
                        &format!("{round}-{i}"),
                        "subscription { events { __typename } }",
                        json!({}),
                    )
                } else {
                    subscribe(
                        &format!("{round}-{i}"),
                        "subscription($c: ID!) { messageAdded(conversationId: $c, afterSeq: 0) { id } }",
                        json!({"c": conversation}),
                    )
                };
                socket.feed(message).await?;
            }
            socket.flush().await?;
            // Let the operations set up, and see that the socket survives.
            let until = Instant::now() + Duration::from_secs(2);
            while let Ok(frame) = tokio::time::timeout_at(until.into(), socket.next()).await {
                match frame {
                    Some(Ok(Message::Text(text))) if text.as_str().contains("\"error\"") => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    _ => {}
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        Ok::<_, anyhow::Error>(())
    };
    let (flooded, h) = tokio::join!(flood, bystander(ctx, target, &users[1].token, &stop));
    flooded?;
    let (h, lost) = h?;
    let mut row = Row::new("abuse", "other client, 100-subscribe bursts").latencies(&h);
    row.lost = lost;
    let p99 = row.p99_ms;
    let failed = errors.load(Ordering::Relaxed);
    Ok(row.judge(
        format!("p99 {p99:.1} ms (<250), flooder errors {failed}"),
        p99 < 250.0 && failed == 0 && lost == 0,
    ))
}

/// Wrong passwords from 50 addresses, 20 at a time, against one account
/// and unknown ones; another user's queries and logins meanwhile.
async fn login_flood(ctx: &Ctx, target: &Target, seeder: &Seeder) -> Result<Row> {
    let url = target.graphql_url();
    for name in ["victim", "bystander"] {
        let response: Value = ctx
            .http
            .post(&url)
            .header("x-forwarded-for", "192.0.2.1")
            .json(&json!({"query": REGISTER, "variables": {"u": name}}))
            .send()
            .await?
            .json()
            .await?;
        if response.get("errors").is_some() {
            bail!("register {name}: {response}");
        }
    }
    let reader = seeder.users("flood-reader", 1).await?;
    let stop = AtomicBool::new(false);
    let limited = AtomicU64::new(0);
    let tried = AtomicU64::new(0);
    let total = ctx.size(100, 2000);
    let started = Instant::now();
    let flood = async {
        join_all((0..20).map(|worker| {
            let (url, limited, tried) = (&url, &limited, &tried);
            async move {
                for i in (worker..total).step_by(20) {
                    let username = if i % 2 == 0 { "victim".to_owned() } else { format!("ghost{i}") };
                    let response: Value = ctx
                        .http
                        .post(url)
                        .header("x-forwarded-for", format!("198.51.100.{}", i % 50))
                        .json(&json!({"query": LOGIN, "variables": {"u": username, "p": "wrong guess"}}))
                        .send()
                        .await?
                        .json()
                        .await?;
                    tried.fetch_add(1, Ordering::Relaxed);
                    if response["errors"][0]["extensions"]["code"] == "RATE_LIMITED" {
                        limited.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok::<_, anyhow::Error>(())
            }
        }))
        .await
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
        stop.store(true, Ordering::Relaxed);
        Ok::<_, anyhow::Error>(())
    };
    let logins = async {
        // The bystander's own logins, from its own address, within its
        // account's burst.
        let mut h = report::histogram()?;
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let sent = Instant::now();
            let response: Value = ctx
                .http
                .post(&url)
                .header("x-forwarded-for", "203.0.113.7")
                .json(
                    &json!({"query": LOGIN, "variables": {"u": "bystander", "p": "correct horse"}}),
                )
                .send()
                .await?
                .json()
                .await?;
            report::record(&mut h, sent.elapsed());
            if response["data"]["login"]["token"].as_str().is_none() {
                bail!("the bystander could not log in: {response}");
            }
        }
        Ok::<_, anyhow::Error>(h)
    };
    let (flooded, queries, logins) = tokio::join!(
        flood,
        bystander(ctx, target, &reader[0].token, &stop),
        logins
    );
    flooded?;
    let elapsed = started.elapsed();
    let (mut h, lost) = queries?;
    let logins = logins?;
    let login_max = logins.max() as f64 / 1000.0;
    h.add(&logins).context("merge")?;
    let tried = tried.load(Ordering::Relaxed);
    let limited = limited.load(Ordering::Relaxed);
    let mut row = Row::new("abuse", format!("others, {tried} wrong logins")).latencies(&h);
    row.lost = lost;
    let p99 = row.p99_ms;
    let rate = tried as f64 / elapsed.as_secs_f64();
    let mut row = row.judge(
        format!(
            "p99 {p99:.1} ms, bystander login max {login_max:.0} ms (<500), {limited} RATE_LIMITED, {rate:.0} guesses/s"
        ),
        login_max < 500.0 && limited > 0 && lost == 0,
    );
    row.rate = rate;
    Ok(row)
}

/// One socket sends pings and subscribe/complete pairs as fast as it can
/// for a few seconds; another client's plain queries meanwhile.
async fn ping_flood(ctx: &Ctx, target: &Target, seeder: &Seeder) -> Result<Row> {
    let users = seeder.users("pinger", 2).await?;
    let socket = open(target, &users[0].token)
        .await
        .map_err(anyhow::Error::msg)?;
    let stop = Arc::new(AtomicBool::new(false));
    let sent = AtomicU64::new(0);
    let duration = Duration::from_secs(ctx.size(1, 5) as u64);
    let flood = async {
        let until = Instant::now() + duration;
        let (mut write, mut read) = socket.split();
        let drain = tokio::spawn(async move { while let Some(Ok(_)) = read.next().await {} });
        let mut i = 0u64;
        while Instant::now() < until {
            write.feed(Message::text(r#"{"type":"ping"}"#)).await?;
            write
                .feed(subscribe(&format!("p{i}"), "{ me { id } }", json!({})))
                .await?;
            write
                .feed(Message::text(
                    json!({"type": "complete", "id": format!("p{i}")}).to_string(),
                ))
                .await?;
            if i.is_multiple_of(16) {
                write.flush().await?;
                tokio::task::yield_now().await;
            }
            i += 1;
            sent.fetch_add(3, Ordering::Relaxed);
        }
        write.flush().await?;
        drain.abort();
        stop.store(true, Ordering::Relaxed);
        Ok::<_, anyhow::Error>(())
    };
    let started = Instant::now();
    let (flooded, h) = tokio::join!(flood, bystander(ctx, target, &users[1].token, &stop));
    flooded?;
    let (h, lost) = h?;
    let sent = sent.load(Ordering::Relaxed);
    let mut row = Row::new("abuse", "other client, ping/subscribe flood").latencies(&h);
    row.lost = lost;
    let p99 = row.p99_ms;
    let rate = sent as f64 / started.elapsed().as_secs_f64();
    let mut row = row.judge(
        format!("p99 {p99:.1} ms (<250), flood {rate:.0} msgs/s"),
        p99 < 250.0 && lost == 0,
    );
    row.rate = rate;
    Ok(row)
}

/// 40 sockets for one user (cap 32), then 300 for as many users from one
/// address (cap 256, 32 of them already open).
async fn socket_caps(ctx: &Ctx, target: &Target, seeder: &Seeder) -> Result<Vec<Row>> {
    let per_user = 40;
    let one = seeder.users("hoarder", 1).await?;
    let mut kept = Vec::new();
    let mut refused_user = 0;
    for _ in 0..per_user {
        match open(target, &one[0].token).await {
            Ok(socket) => kept.push(socket),
            Err(_) => refused_user += 1,
        }
    }
    let user_row = Row::new("abuse", format!("{per_user} sockets, one user")).judge(
        format!(
            "{refused_user} refused (4429), {} open (cap 32)",
            kept.len()
        ),
        kept.len() == 32 && refused_user == per_user - 32,
    );
    let many = ctx.size(30, 300);
    let users = seeder.users("crowd", many).await?;
    let mut refused_address = 0;
    let opened = join_all(users.iter().map(|u| open(target, &u.token))).await;
    for result in opened {
        match result {
            Ok(socket) => kept.push(socket),
            Err(_) => refused_address += 1,
        }
    }
    let address_row = Row::new("abuse", format!("{many} more sockets, one address")).judge(
        format!(
            "{refused_address} refused (429), {} open (cap 256)",
            kept.len()
        ),
        kept.len() <= 256,
    );
    drop(kept);
    Ok(vec![user_row, address_row])
}

/// RSS of a fresh server, then after registering 20 users and 1,000
/// logins in bursts of 100 as them.
async fn login_memory(ctx: &Ctx, target: &Target) -> Result<Row> {
    let url = target.graphql_url();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let fresh = target.rss_kib();
    let users = ctx.size(5, 20);
    for i in 0..users {
        let response: Value = ctx
            .http
            .post(&url)
            .json(&json!({"query": REGISTER, "variables": {"u": format!("memory{i}")}}))
            .send()
            .await?
            .json()
            .await?;
        if response.get("errors").is_some() {
            bail!("register: {response}");
        }
    }
    let registered = target.rss_kib();
    let total = ctx.size(50, 1000);
    let burst = 100.min(total);
    let started = Instant::now();
    let mut h = report::histogram()?;
    for b in 0..total / burst {
        let results = join_all((0..burst).map(|i| {
            let url = &url;
            async move {
                let sent = Instant::now();
                let response: Value = ctx
                    .http
                    .post(url)
                    .json(&json!({"query": LOGIN, "variables": {"u": format!("memory{}", (b * burst + i) % users), "p": "correct horse"}}))
                    .send()
                    .await?
                    .json()
                    .await?;
                if response["data"]["login"]["token"].as_str().is_none() {
                    bail!("login failed: {response}");
                }
                Ok::<_, anyhow::Error>(sent.elapsed())
            }
        }))
        .await;
        for result in results {
            report::record(&mut h, result?);
        }
    }
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = target.rss_kib();
    let row = Row::new("abuse", format!("{total} logins, bursts of {burst}"))
        .latencies(&h)
        .rss(target);
    let mut row = match (fresh, after) {
        (Some(fresh), Some(after)) => {
            let grew = (after as f64 - fresh as f64) / 1024.0;
            row.judge(
                format!(
                    "RSS fresh {:.1}, registered {:.1}, after {:.1} MiB: +{grew:.1} MiB (<=64)",
                    fresh as f64 / 1024.0,
                    registered.unwrap_or(0) as f64 / 1024.0,
                    after as f64 / 1024.0,
                ),
                grew <= 64.0,
            )
        }
        _ => row.judge("server memory unknown", false),
    };
    row.rate = total as f64 / elapsed.as_secs_f64();
    Ok(row)
}
