//! Receipts in groups: read receipts reach the other members live only and
//! are logged for the reader alone; delivery receipts move pointers and
//! log nothing. Direct conversations keep their logged receipts (see
//! `events` and `live`).

use anyhow::{Context, Result, bail};
use parley_tests::{TestApp, TestUser, WsClient, decode_id, spawn_app};
use serde_json::{Value, json};

const EVENTS: &str =
    "subscription($a: String) { events(after: $a) { __typename cursor conversationId
    ... on MessageAddedEvent { message { seq } }
    ... on ReadReceiptEvent { user { username } lastReadSeq }
} }";

/// The next event that is not presence or typing.
async fn next(ws: &mut WsClient) -> Result<Value> {
    loop {
        let payload = ws.next_data("e").await?;
        if payload["errors"].is_array() {
            bail!("stream error: {payload}");
        }
        let event = payload["data"]["events"].clone();
        if event["__typename"] != "PresenceEvent" {
            return Ok(event);
        }
    }
}

/// Events until one of `kind`, returned last.
async fn until(ws: &mut WsClient, kind: &str) -> Result<Vec<Value>> {
    let mut seen = Vec::new();
    loop {
        let event = next(ws).await?;
        let done = event["__typename"] == kind;
        seen.push(event);
        if done {
            return Ok(seen);
        }
    }
}

async fn live(
    app: &TestApp,
    user: &TestUser,
    after: Option<&str>,
) -> Result<(WsClient, Vec<Value>)> {
    let mut ws = app.ws(&user.token).await?;
    ws.subscribe("e", EVENTS, json!({"a": after})).await?;
    let replayed = until(&mut ws, "StreamLiveEvent").await?;
    Ok((ws, replayed))
}

async fn mark_read(app: &TestApp, user: &TestUser, conversation: &str) -> Result<()> {
    app.ok(
        &user.token,
        "mutation($c: ID!) { markRead(input: {conversationId: $c}) { id } }",
        json!({"c": conversation}),
    )
    .await?;
    Ok(())
}

/// Logged events of a conversation of one kind: (user, only user).
async fn logged(app: &TestApp, conversation: &str, kind: &str) -> Result<Vec<(i64, i64)>> {
    let id = decode_id(conversation)?;
    let users = app
        .sql_ints(
            "SELECT user_id FROM events WHERE conversation_id = $1 AND kind = $2 ORDER BY id",
            vec![id.into(), kind.into()],
        )
        .await?;
    let only = app
        .sql_ints(
            "SELECT COALESCE(only_user_id, 0) FROM events WHERE conversation_id = $1 AND kind = $2 ORDER BY id",
            vec![id.into(), kind.into()],
        )
        .await?;
    Ok(users.into_iter().zip(only).collect())
}

#[tokio::test]
async fn a_group_read_reaches_others_live_and_is_logged_for_the_reader_only() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let cat = app.register("cat").await?;
    let g = app.create_group(&ann, &[&ben, &cat]).await?;
    let sent = app.send(&ann, &g, "hello group").await?;
    let (mut ben_ws, replayed) = live(&app, &ben, None).await?;
    let start = replayed
        .iter()
        .rev()
        .find_map(|e| e["cursor"].as_str())
        .context("a cursor to resume from")?
        .to_owned();
    let (mut cat_ws, _) = live(&app, &cat, None).await?;

    mark_read(&app, &cat, &g).await?;
    // Ben (another member) gets it live, without a cursor.
    let receipt = until(&mut ben_ws, "ReadReceiptEvent")
        .await?
        .pop()
        .context("receipt")?;
    assert_eq!(receipt["user"]["username"], "cat");
    assert_eq!(receipt["lastReadSeq"], sent["seq"]);
    assert_eq!(receipt["conversationId"], g);
    assert!(
        receipt["cursor"].is_null(),
        "a live-only receipt: {receipt}"
    );
    // Cat's own clients get the logged one: their counts resume exactly.
    let own = until(&mut cat_ws, "ReadReceiptEvent")
        .await?
        .pop()
        .context("own receipt")?;
    assert!(
        own["cursor"].is_string(),
        "the reader's receipt is logged: {own}"
    );

    // One logged receipt, for cat alone; none for the other members.
    let cat_id = decode_id(&cat.id)?;
    assert_eq!(
        logged(&app, &g, "read_receipt").await?,
        vec![(cat_id, cat_id)]
    );
    // Ben replaying from before the read does not get it; the member list
    // has the pointer.
    let (_ws, replay) = live(&app, &ben, Some(&start)).await?;
    assert!(
        replay.iter().all(|e| e["__typename"] != "ReadReceiptEvent"),
        "replayed: {replay:?}"
    );
    let members = app
        .ok(
            &ben.token,
            "query($c: ID!) { conversation(id: $c) { members { nodes { user { username } lastReadSeq } } } }",
            json!({"c": g}),
        )
        .await?;
    let cat_row = members["conversation"]["members"]["nodes"]
        .as_array()
        .context("members")?
        .iter()
        .find(|m| m["user"]["username"] == "cat")
        .cloned()
        .context("cat's membership")?;
    assert_eq!(cat_row["lastReadSeq"], sent["seq"]);
    Ok(())
}

#[tokio::test]
async fn group_deliveries_move_pointers_and_log_no_receipts() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let cat = app.register("cat").await?;
    let g = app.create_group(&ann, &[&ben, &cat]).await?;
    let direct = app.open_direct(&ann, &ben).await?;
    for body in ["one", "two"] {
        app.send(&ann, &g, body).await?;
        app.send(&ann, &direct, body).await?;
    }
    // Ben and cat fetch both; the flush writes every pointer.
    let page = "query($c: ID!) { conversation(id: $c) { messages(last: 10) { nodes { seq } } } }";
    for (user, conversation) in [(&ben, &g), (&cat, &g), (&ben, &direct)] {
        app.ok(&user.token, page, json!({"c": conversation}))
            .await?;
    }
    app.service.flush_deliveries().await?;
    // Both messages, in the group as in the direct conversation.
    assert_eq!(app.stored_delivered(&ben, &g).await?, 2);
    assert_eq!(app.stored_delivered(&cat, &g).await?, 2);
    assert_eq!(app.stored_delivered(&ben, &direct).await?, 2);
    assert!(logged(&app, &g, "delivery_receipt").await?.is_empty());
    let ben_id = decode_id(&ben.id)?;
    assert_eq!(
        logged(&app, &direct, "delivery_receipt").await?,
        vec![(ben_id, 0)]
    );
    Ok(())
}
