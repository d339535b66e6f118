//! `history`: the newest page and a page in the middle of a long
//! conversation, at two lengths.

use std::time::Instant;

use anyhow::Result;
use base64::Engine;
use serde_json::json;
use service::entity::conversation::Kind;

use crate::{
    Ctx,
    client::{conversation_gid, gql},
    report::{CpuWatch, Row, histogram, record},
};

const PAGE: &str = "query($c: ID!, $b: String) { conversation(id: $c) { messages(last: 50, before: $b) { nodes { seq body createdAt sender { displayName } } } } }";

pub async fn run(ctx: &Ctx) -> Result<Vec<Row>> {
    let users = ctx.seeder.users("reader", 2).await?;
    let requests = ctx.size(50, 1000);
    let mut rows = Vec::new();
    let mut p99s = Vec::new();
    for length in [1_000, ctx.size(20_000, 1_000_000)] {
        let id = ctx
            .seeder
            .conversations(Kind::Group, &[vec![users[0].id, users[1].id]])
            .await?[0];
        let seeded = Instant::now();
        ctx.seeder.messages(id, users[1].id, length).await?;
        eprintln!("seeded {length} messages in {:.1?}", seeded.elapsed());
        let gid = conversation_gid(id);
        let middle =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("seq:{}", length / 2));
        for (page, before) in [("newest page", None), ("middle page", Some(middle))] {
            let mut h = histogram()?;
            let watch = CpuWatch::start();
            let started = Instant::now();
            for _ in 0..requests {
                let sent = Instant::now();
                let data = gql(
                    &ctx.http,
                    &ctx.target.graphql_url(),
                    &users[0].token,
                    PAGE,
                    json!({"c": gid, "b": before}),
                )
                .await?;
                record(&mut h, sent.elapsed());
                debug_assert_eq!(
                    data["conversation"]["messages"]["nodes"]
                        .as_array()
                        .map(Vec::len),
                    Some(50)
                );
            }
            watch.check("history");
            let row = Row::new("history", format!("{page}, {length} messages"))
                .latencies(&h)
                .rate(requests as u64, started.elapsed())
                .rss(&ctx.target);
            p99s.push(row.p99_ms);
            rows.push(row);
        }
    }
    // Judge: p99 <= 10 ms, and the long conversation no slower than the
    // short one (within 50% + 0.5 ms of noise).
    for (i, row) in rows.iter_mut().enumerate() {
        let short = p99s[i % 2];
        let pass = row.p99_ms <= 10.0 && row.p99_ms <= short * 1.5 + 0.5;
        *row = row.clone().judge("p99<=10ms, flat in length", pass);
    }
    Ok(rows)
}
