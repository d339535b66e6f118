//! Sends that share a commit: many at once into one group and into several
//! conversations, with refused sends and repeated client ids in the same
//! batch. Seqs stay gap-free, unread counts exact, refusals affect no one
//! else.

use std::collections::HashMap;

use anyhow::{Context, Result};
use futures_util::future::join_all;
use parley_tests::{TestApp, TestUser, error_code, spawn_app};
use serde_json::{Value, json};

const SEND: &str = "mutation($c: ID!, $b: String!, $k: String) {
    sendMessage(input: {conversationId: $c, body: $b, clientMessageId: $k}) { id seq body } }";

async fn send(
    app: &TestApp,
    user: &TestUser,
    c: &str,
    body: &str,
    key: Option<&str>,
) -> Result<Value> {
    app.gql(
        Some(&user.token),
        SEND,
        json!({"c": c, "b": body, "k": key}),
    )
    .await
}

async fn unread(app: &TestApp, user: &TestUser, c: &str) -> Result<i64> {
    let data = app
        .ok(
            &user.token,
            "query($c: ID!) { conversation(id: $c) { unreadCount } }",
            json!({"c": c}),
        )
        .await?;
    data["conversation"]["unreadCount"]
        .as_i64()
        .context("unreadCount")
}

#[tokio::test]
async fn a_burst_of_sends_keeps_seqs_counts_and_refusals_exact() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let cat = app.register("cat").await?;
    let eve = app.register("eve").await?;
    let g = app.create_group(&ann, &[&ben, &cat]).await?;
    let direct = app.open_direct(&ann, &ben).await?;
    let before = app.send(&cat, &g, "first").await?["seq"]
        .as_i64()
        .context("seq")?;

    // 30 sends at once: ann and ben into the group, ann into the direct
    // conversation, eve (not a member) into the group, and one client id
    // sent three times.
    let mut calls = Vec::new();
    for i in 0..10 {
        calls.push((&ann, g.as_str(), format!("a{i}"), None));
        calls.push((&ben, g.as_str(), format!("b{i}"), None));
        calls.push((&ann, direct.as_str(), format!("d{i}"), None));
    }
    for _ in 0..3 {
        calls.push((&ben, g.as_str(), "once".to_owned(), Some("key-1")));
    }
    calls.push((&eve, g.as_str(), "intruder".to_owned(), None));
    let answers = join_all(
        calls
            .iter()
            .map(|(user, c, body, key)| send(&app, user, c, body, *key)),
    )
    .await;
    let mut refused = 0;
    let mut keyed = Vec::new();
    for ((user, _, body, key), answer) in calls.iter().zip(answers) {
        let answer = answer?;
        if user.username == "eve" {
            assert_eq!(error_code(&answer), "NOT_FOUND", "{answer}");
            refused += 1;
            continue;
        }
        let message = &answer["data"]["sendMessage"];
        assert_eq!(message["body"].as_str(), Some(body.as_str()), "{answer}");
        if key.is_some() {
            keyed.push(message["id"].clone());
        }
    }
    assert_eq!(refused, 1);
    // One message for the three sends of one client id.
    assert!(keyed.windows(2).all(|w| w[0] == w[1]), "{keyed:?}");

    // The group has every message once, in consecutive seqs.
    let page = app
        .ok(
            &cat.token,
            "query($c: ID!) { conversation(id: $c) { messages(last: 100) { nodes { seq body sender { username } } } } }",
            json!({"c": g}),
        )
        .await?;
    let nodes = page["conversation"]["messages"]["nodes"]
        .as_array()
        .context("nodes")?;
    let seqs: Vec<i64> = nodes.iter().filter_map(|n| n["seq"].as_i64()).collect();
    let expected: Vec<i64> = (1..=before + 21).collect();
    assert_eq!(seqs, expected);
    let mut bodies: HashMap<&str, usize> = HashMap::new();
    for n in nodes {
        *bodies
            .entry(n["body"].as_str().unwrap_or_default())
            .or_default() += 1;
    }
    assert_eq!(bodies.get("once"), Some(&1));
    assert_eq!(bodies.get("intruder"), None);

    // Unread: cat sent none of the burst, so all 21 are unread; ann and
    // ben have unread exactly what the other sent after their last one.
    assert_eq!(unread(&app, &cat, &g).await?, 21);
    for (me, other) in [("ann", "ben"), ("ben", "ann")] {
        let last_own = nodes
            .iter()
            .rposition(|n| n["sender"]["username"] == me)
            .context("an own message")?;
        let after = nodes[last_own + 1..]
            .iter()
            .filter(|n| n["sender"]["username"] == other)
            .count() as i64;
        let user = if me == "ann" { &ann } else { &ben };
        assert_eq!(unread(&app, user, &g).await?, after, "{me}");
    }
    assert_eq!(unread(&app, &ben, &direct).await?, 10);
    assert_eq!(unread(&app, &ann, &direct).await?, 0);
    Ok(())
}
