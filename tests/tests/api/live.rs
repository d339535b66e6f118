//! Typing, presence and delivery receipts.

use std::{sync::Arc, time::Duration};

use anyhow::{Context, Result, bail};
use parley_tests::{TestApp, TestUser, decode_id, error_code, spawn_app, spawn_app_with};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use service::{
    entity::event::{self, Kind},
    events::Ephemeral,
};
use tokio::sync::broadcast::Receiver;

const SET_TYPING: &str =
    "mutation($c: ID!, $t: Boolean!) { setTyping(conversationId: $c, typing: $t) }";
const MARK_DELIVERED: &str = "mutation($c: ID!, $s: Int!) { markDelivered(conversationId: $c, upToSeq: $s) { members { nodes { user { id } lastDeliveredSeq } } } }";
const STATUS: &str =
    "query($c: ID!) { conversation(id: $c) { messages { nodes { seq status } } } }";
const ONLINE: &str = "query($u: ID!) { user(id: $u) { online lastSeenAt } }";

/// The next ephemeral event, or an error when none comes within `wait`.
async fn next_event(events: &mut Receiver<Arc<Ephemeral>>, wait: Duration) -> Result<Ephemeral> {
    let event = tokio::time::timeout(wait, events.recv())
        .await
        .context("no ephemeral event in time")??;
    Ok((*event).clone())
}

/// True when no ephemeral event arrives within `wait`.
async fn quiet(events: &mut Receiver<Arc<Ephemeral>>, wait: Duration) -> bool {
    tokio::time::timeout(wait, events.recv()).await.is_err()
}

fn typing(conversation: &str, user: &TestUser, typing: bool) -> Result<(i64, i64, bool)> {
    Ok((decode_id(conversation)?, decode_id(&user.id)?, typing))
}

fn as_typing(event: Ephemeral) -> Result<(i64, i64, bool)> {
    match event {
        Ephemeral::Typing {
            conversation_id,
            user_id,
            typing,
        } => Ok((conversation_id, user_id, typing)),
        other => bail!("expected a typing event, got {other:?}"),
    }
}

async fn set_typing(app: &TestApp, user: &TestUser, conversation: &str, on: bool) -> Result<()> {
    let data = app
        .ok(&user.token, SET_TYPING, json!({"c": conversation, "t": on}))
        .await?;
    assert_eq!(data["setTyping"], true);
    Ok(())
}

async fn pair(app: &TestApp) -> Result<(TestUser, TestUser, String)> {
    let a = app.register("ann").await?;
    let b = app.register("ben").await?;
    let id = app.open_direct(&a, &b).await?;
    Ok((a, b, id))
}

#[tokio::test]
async fn typing_is_published_and_never_stored() -> Result<()> {
    let app = spawn_app().await?;
    let (a, _b, id) = pair(&app).await?;
    let mut events = app.service.bus().subscribe_ephemeral();
    let count = "SELECT COUNT(*) FROM events";
    let logged = app.sql_ints(count, vec![]).await?;

    set_typing(&app, &a, &id, true).await?;
    let got = as_typing(next_event(&mut events, Duration::from_secs(5)).await?)?;
    assert_eq!(got, typing(&id, &a, true)?);
    set_typing(&app, &a, &id, false).await?;
    let got = as_typing(next_event(&mut events, Duration::from_secs(5)).await?)?;
    assert_eq!(got, typing(&id, &a, false)?);
    assert_eq!(app.service.typing_count(), 0);
    // Nothing of it reached the durable log.
    assert_eq!(app.sql_ints(count, vec![]).await?, logged);
    Ok(())
}

#[tokio::test]
async fn renewals_within_a_second_are_accepted_but_not_rebroadcast() -> Result<()> {
    let app = spawn_app().await?;
    let (a, _b, id) = pair(&app).await?;
    let mut events = app.service.bus().subscribe_ephemeral();

    set_typing(&app, &a, &id, true).await?;
    set_typing(&app, &a, &id, true).await?;
    set_typing(&app, &a, &id, true).await?;
    let got = as_typing(next_event(&mut events, Duration::from_secs(5)).await?)?;
    assert_eq!(got, typing(&id, &a, true)?);
    assert!(quiet(&mut events, Duration::from_millis(300)).await);

    // A second later, a renewal goes out again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    set_typing(&app, &a, &id, true).await?;
    let got = as_typing(next_event(&mut events, Duration::from_secs(5)).await?)?;
    assert_eq!(got, typing(&id, &a, true)?);

    // Stopping is never held back.
    set_typing(&app, &a, &id, false).await?;
    let got = as_typing(next_event(&mut events, Duration::from_secs(5)).await?)?;
    assert_eq!(got, typing(&id, &a, false)?);
    Ok(())
}

#[tokio::test]
async fn typing_ends_by_itself_when_not_renewed() -> Result<()> {
    let app = spawn_app_with(|c| c.typing_timeout = Duration::from_millis(400)).await?;
    let (a, _b, id) = pair(&app).await?;
    let mut events = app.service.bus().subscribe_ephemeral();

    set_typing(&app, &a, &id, true).await?;
    let started = tokio::time::Instant::now();
    assert_eq!(
        as_typing(next_event(&mut events, Duration::from_secs(5)).await?)?,
        typing(&id, &a, true)?
    );
    assert_eq!(
        as_typing(next_event(&mut events, Duration::from_secs(5)).await?)?,
        typing(&id, &a, false)?
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(app.service.typing_count(), 0);
    Ok(())
}

#[tokio::test]
async fn sending_a_message_ends_typing() -> Result<()> {
    let app = spawn_app().await?;
    let (a, b, id) = pair(&app).await?;
    let mut events = app.service.bus().subscribe_ephemeral();

    set_typing(&app, &a, &id, true).await?;
    next_event(&mut events, Duration::from_secs(5)).await?;
    app.send(&a, &id, "done typing").await?;
    assert_eq!(
        as_typing(next_event(&mut events, Duration::from_secs(5)).await?)?,
        typing(&id, &a, false)?
    );
    assert_eq!(app.service.typing_count(), 0);
    // Someone who was not typing sends without a typing event.
    app.send(&b, &id, "hi").await?;
    assert!(quiet(&mut events, Duration::from_millis(300)).await);
    Ok(())
}

#[tokio::test]
async fn outsiders_cannot_type_and_cannot_mark_delivered() -> Result<()> {
    let app = spawn_app().await?;
    let (_a, _b, id) = pair(&app).await?;
    let outsider = app.register("olga").await?;
    let mut events = app.service.bus().subscribe_ephemeral();
    for c in [id.as_str(), "Q29udmVyc2F0aW9uOjk5OTk5OTk"] {
        let response = app
            .gql(
                Some(&outsider.token),
                SET_TYPING,
                json!({"c": c, "t": true}),
            )
            .await?;
        assert_eq!(error_code(&response), "NOT_FOUND", "{response}");
        let response = app
            .gql(
                Some(&outsider.token),
                MARK_DELIVERED,
                json!({"c": c, "s": 1}),
            )
            .await?;
        assert_eq!(error_code(&response), "NOT_FOUND", "{response}");
    }
    assert!(quiet(&mut events, Duration::from_millis(200)).await);
    Ok(())
}

async fn online(app: &TestApp, viewer: &TestUser, user: &TestUser) -> Result<Value> {
    Ok(app.ok(&viewer.token, ONLINE, json!({"u": user.id})).await?["user"].clone())
}

/// Polls until `user`'s `online` is `want`.
async fn wait_online(
    app: &TestApp,
    viewer: &TestUser,
    user: &TestUser,
    want: bool,
) -> Result<Value> {
    for _ in 0..100 {
        let seen = online(app, viewer, user).await?;
        if seen["online"] == want {
            return Ok(seen);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{} never became online={want}", user.username)
}

#[tokio::test]
async fn a_user_is_online_while_a_socket_is_open() -> Result<()> {
    let app = spawn_app().await?;
    let (a, b, _id) = pair(&app).await?;
    assert_eq!(online(&app, &b, &a).await?["online"], false);

    let ws = app.ws(&a.token).await?;
    assert_eq!(online(&app, &b, &a).await?["online"], true);
    let before = online(&app, &b, &a).await?["lastSeenAt"].clone();
    // Going offline writes "last seen" at once, not a minute later.
    tokio::time::sleep(Duration::from_millis(20)).await;
    drop(ws);
    wait_online(&app, &b, &a, false).await?;
    for _ in 0..100 {
        let after = online(&app, &b, &a).await?["lastSeenAt"].clone();
        if after != before {
            let time = |v: &Value| {
                v.as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            };
            assert!(time(&after) > time(&before), "{after} after {before}");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("lastSeenAt stayed {before}")
}

#[tokio::test]
async fn two_sockets_then_one_closed_stays_online_and_presence_is_published() -> Result<()> {
    let app = spawn_app().await?;
    let (a, b, _id) = pair(&app).await?;
    let a_id = decode_id(&a.id)?;
    let mut events = app.service.bus().subscribe_ephemeral();
    let presence = |event: Ephemeral| match event {
        Ephemeral::Presence { user_id, online } => Ok((user_id, online)),
        other => bail!("expected presence, got {other:?}"),
    };

    let first = app.ws(&a.token).await?;
    assert_eq!(
        presence(next_event(&mut events, Duration::from_secs(5)).await?)?,
        (a_id, true)
    );
    let second = app.ws(&a.token).await?;
    drop(first);
    // The second socket keeps Ann online: no event, still online.
    assert!(quiet(&mut events, Duration::from_millis(300)).await);
    assert_eq!(online(&app, &b, &a).await?["online"], true);

    drop(second);
    assert_eq!(
        presence(next_event(&mut events, Duration::from_secs(5)).await?)?,
        (a_id, false)
    );
    wait_online(&app, &b, &a, false).await?;
    Ok(())
}

#[tokio::test]
async fn contacts_are_the_people_who_share_a_live_conversation() -> Result<()> {
    let app = spawn_app().await?;
    let (a, b, _id) = pair(&app).await?;
    let c = app.register("cyd").await?;
    let d = app.register("dee").await?;
    let group = app
        .ok(
            &c.token,
            "mutation($m: [ID!]!) { createGroupConversation(input: {title: \"g\", memberIds: $m}) { id } }",
            json!({"m": [a.id]}),
        )
        .await?["createGroupConversation"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let [a, b, c, d] = [&a, &b, &c, &d].map(|u| decode_id(&u.id).unwrap_or_default());
    let contacts = app.service.contacts_of(a).await?;
    assert_eq!(contacts, [b, c].into_iter().collect());
    let of_b = app.service.contacts_of(b).await?;
    assert!(of_b.contains(&a));
    assert!(!of_b.contains(&c));
    assert!(!contacts.contains(&d));
    assert!(!contacts.contains(&a));

    // A deleted conversation connects no one.
    app.sql(
        "UPDATE conversations SET deleted_at = created_at WHERE id = $1",
        vec![decode_id(&group)?.into()],
    )
    .await?;
    assert_eq!(app.service.contacts_of(a).await?, [b].into_iter().collect());
    Ok(())
}

/// Every member's delivered pointer as the API shows it, by user id.
async fn delivered(
    app: &TestApp,
    viewer: &TestUser,
    conversation: &str,
) -> Result<Vec<(String, i64)>> {
    let data = app
        .ok(
            &viewer.token,
            "query($c: ID!) { conversation(id: $c) { members { nodes { user { id } lastDeliveredSeq } } } }",
            json!({"c": conversation}),
        )
        .await?;
    let mut rows: Vec<(String, i64)> = data["conversation"]["members"]["nodes"]
        .as_array()
        .context("members")?
        .iter()
        .map(|m| {
            (
                m["user"]["id"].as_str().unwrap_or_default().to_owned(),
                m["lastDeliveredSeq"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    rows.sort();
    Ok(rows)
}

async fn receipts(app: &TestApp, conversation: &str) -> Result<Vec<(Option<i64>, Value)>> {
    let rows = event::Entity::find()
        .filter(event::Column::ConversationId.eq(decode_id(conversation)?))
        .filter(event::Column::Kind.eq(Kind::DeliveryReceipt))
        .order_by_asc(event::Column::Id)
        .all(app.service.db())
        .await?;
    rows.into_iter()
        .map(|e| {
            let data = serde_json::from_str(e.data.as_deref().unwrap_or("null"))?;
            Ok((e.user_id, data))
        })
        .collect()
}

#[tokio::test]
async fn fetching_messages_moves_the_delivered_pointer_and_logs_one_receipt() -> Result<()> {
    let app = spawn_app().await?;
    let (a, b, id) = pair(&app).await?;
    for i in 1..=3 {
        app.send(&a, &id, &format!("m{i}")).await?;
    }
    assert_eq!(app.stored_delivered(&b, &id).await?, 0);
    // The sender has their own messages.
    assert_eq!(app.stored_delivered(&a, &id).await?, 3);

    // Two fetches and a page of older messages: one coalesced write.
    for args in ["last: 2", "last: 50", "first: 1"] {
        app.ok(
            &b.token,
            &format!("query($c: ID!) {{ conversation(id: $c) {{ messages({args}) {{ nodes {{ seq }} }} }} }}"),
            json!({"c": id}),
        )
        .await?;
    }
    // Shown at once, before it is written.
    let mut want = vec![(a.id.clone(), 3), (b.id.clone(), 3)];
    want.sort();
    assert_eq!(delivered(&app, &a, &id).await?, want);

    app.service.flush_deliveries().await?;
    assert_eq!(app.stored_delivered(&b, &id).await?, 3);
    assert_eq!(
        receipts(&app, &id).await?,
        vec![(Some(decode_id(&b.id)?), json!({"seq": 3}))]
    );
    // Nothing new: a second flush writes nothing.
    app.service.flush_deliveries().await?;
    assert_eq!(receipts(&app, &id).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn the_flusher_writes_receipts_on_its_timer() -> Result<()> {
    let app = spawn_app_with(|c| c.delivery_flush = Duration::from_millis(50)).await?;
    let (a, b, id) = pair(&app).await?;
    app.send(&a, &id, "hello").await?;
    app.ok(&b.token, STATUS, json!({"c": id})).await?;
    for _ in 0..100 {
        if app.stored_delivered(&b, &id).await? == 1 {
            assert_eq!(receipts(&app, &id).await?.len(), 1);
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("the receipt was never written")
}

#[tokio::test]
async fn live_delivery_moves_the_delivered_pointer() -> Result<()> {
    let app = spawn_app().await?;
    let (a, b, id) = pair(&app).await?;
    let mut ws = app.ws(&b.token).await?;
    ws.subscribe(
        "1",
        "subscription($c: ID!) { messageAdded(conversationId: $c, afterSeq: 0) { seq } }",
        json!({"c": id}),
    )
    .await?;
    app.send(&a, &id, "one").await?;
    app.send(&a, &id, "two").await?;
    for seq in 1..=2 {
        assert_eq!(ws.next_data("1").await?["data"]["messageAdded"]["seq"], seq);
    }
    app.service.flush_deliveries().await?;
    assert_eq!(app.stored_delivered(&b, &id).await?, 2);
    assert_eq!(
        receipts(&app, &id).await?.last().cloned(),
        Some((Some(decode_id(&b.id)?), json!({"seq": 2})))
    );
    Ok(())
}

#[tokio::test]
async fn mark_delivered_moves_forward_only_and_not_past_the_newest() -> Result<()> {
    let app = spawn_app().await?;
    let (a, b, id) = pair(&app).await?;
    for i in 1..=4 {
        app.send(&a, &id, &format!("m{i}")).await?;
    }
    for (seq, want) in [(2, 2), (1, 2), (99, 4)] {
        app.ok(&b.token, MARK_DELIVERED, json!({"c": id, "s": seq}))
            .await?;
        app.service.flush_deliveries().await?;
        assert_eq!(app.stored_delivered(&b, &id).await?, want, "after {seq}");
    }
    let response = app
        .gql(Some(&b.token), MARK_DELIVERED, json!({"c": id, "s": -1}))
        .await?;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
    assert_eq!(response["errors"][0]["extensions"]["field"], "upToSeq");
    // Two receipts: 2, then 4; the step back wrote nothing.
    let seqs: Vec<Value> = receipts(&app, &id)
        .await?
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    assert_eq!(seqs, vec![json!({"seq": 2}), json!({"seq": 4})]);

    // Reading raises the delivered pointer too.
    app.send(&a, &id, "m5").await?;
    app.ok(
        &b.token,
        "mutation($c: ID!) { markRead(input: {conversationId: $c}) { id } }",
        json!({"c": id}),
    )
    .await?;
    assert_eq!(app.stored_delivered(&b, &id).await?, 5);
    Ok(())
}

/// The `status` of each message of a conversation, as `viewer` sees it.
async fn statuses(app: &TestApp, viewer: &TestUser, conversation: &str) -> Result<Vec<Value>> {
    let data = app
        .ok(&viewer.token, STATUS, json!({"c": conversation}))
        .await?;
    Ok(data["conversation"]["messages"]["nodes"]
        .as_array()
        .context("messages")?
        .iter()
        .map(|m| m["status"].clone())
        .collect())
}

#[tokio::test]
async fn the_author_of_a_direct_message_sees_sent_delivered_read() -> Result<()> {
    let app = spawn_app().await?;
    let (a, b, id) = pair(&app).await?;
    app.send(&a, &id, "one").await?;
    app.send(&a, &id, "two").await?;
    assert_eq!(
        statuses(&app, &a, &id).await?,
        vec![json!("SENT"), json!("SENT")]
    );

    app.ok(&b.token, MARK_DELIVERED, json!({"c": id, "s": 1}))
        .await?;
    assert_eq!(
        statuses(&app, &a, &id).await?,
        vec![json!("DELIVERED"), json!("SENT")]
    );
    app.service.flush_deliveries().await?;
    assert_eq!(
        statuses(&app, &a, &id).await?,
        vec![json!("DELIVERED"), json!("SENT")]
    );
    app.ok(
        &b.token,
        "mutation($c: ID!) { markRead(input: {conversationId: $c, upToSeq: 1}) { id } }",
        json!({"c": id}),
    )
    .await?;
    assert_eq!(
        statuses(&app, &a, &id).await?,
        vec![json!("READ"), json!("SENT")]
    );
    // The other person (whose fetch just delivered both) sees no status.
    assert_eq!(
        statuses(&app, &b, &id).await?,
        vec![Value::Null, Value::Null]
    );
    assert_eq!(
        statuses(&app, &a, &id).await?,
        vec![json!("READ"), json!("DELIVERED")]
    );
    Ok(())
}

#[tokio::test]
async fn group_messages_have_no_status() -> Result<()> {
    let app = spawn_app().await?;
    let (a, b, _id) = pair(&app).await?;
    let group = app
        .ok(
            &a.token,
            "mutation($m: [ID!]!) { createGroupConversation(input: {title: \"g\", memberIds: $m}) { id } }",
            json!({"m": [b.id]}),
        )
        .await?["createGroupConversation"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.send(&a, &group, "to all").await?;
    app.ok(
        &b.token,
        "mutation($c: ID!) { markRead(input: {conversationId: $c}) { id } }",
        json!({"c": group}),
    )
    .await?;
    let seen = statuses(&app, &a, &group).await?;
    assert!(
        !seen.is_empty() && seen.iter().all(Value::is_null),
        "{seen:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_page_of_statuses_costs_a_fixed_number_of_statements() -> Result<()> {
    let app = spawn_app().await?;
    let (a, b, id) = pair(&app).await?;
    let mut costs = Vec::new();
    for round in 0..2 {
        for i in 0..10 {
            app.send(&a, &id, &format!("r{round} m{i}")).await?;
        }
        app.send(&b, &id, "reply").await?;
        app.service.flush_deliveries().await?;
        // Background tasks (the event log's poll) share the counter: the
        // least of a few runs is the page's own cost.
        let mut least = u64::MAX;
        for _ in 0..3 {
            let before = app.service.statement_count();
            statuses(&app, &a, &id).await?;
            least = least.min(app.service.statement_count() - before);
        }
        costs.push(least);
    }
    // 11 messages, then 22: the same statements.
    assert_eq!(costs[0], costs[1], "{costs:?}");
    Ok(())
}
