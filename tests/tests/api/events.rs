//! The resumable event stream: live delivery, replay after a cursor under
//! concurrent writers, rights checked at delivery, and cursors too old to
//! replay.

use std::collections::HashSet;

use anyhow::{Result, bail};
use futures_util::future::try_join_all;
use parley_tests::{TestApp, TestUser, WsClient, error_code, spawn_app};
use serde_json::{Value, json};

const EVENTS: &str =
    "subscription($a: String) { events(after: $a) { __typename cursor conversationId
    ... on MessageAddedEvent { message { id seq body } }
    ... on ReadReceiptEvent { user { username } lastReadSeq }
    ... on UnreadCountsChangedEvent { unreadCount totalUnreadCount }
    ... on MemberJoinedEvent { user { username } }
    ... on MemberRemovedEvent { user { username } }
    ... on ConversationUpdatedEvent { fields }
} }";

const CONVERSATION_EVENTS: &str = "subscription($c: ID!, $a: String) { conversationEvents(conversationId: $c, after: $a) { __typename cursor
    ... on MessageAddedEvent { message { body } }
    ... on MemberRemovedEvent { user { username } }
} }";

/// The next event of subscription `id`, skipping presence (which comes
/// and goes with every test's sockets).
async fn next_event(ws: &mut WsClient, id: &str) -> Result<Value> {
    loop {
        let event = next_any_event(ws, id).await?;
        if event["__typename"] != "PresenceEvent" {
            return Ok(event);
        }
    }
}

async fn next_any_event(ws: &mut WsClient, id: &str) -> Result<Value> {
    let payload = ws.next_data(id).await?;
    if payload["errors"].is_array() {
        bail!("stream error: {payload}");
    }
    Ok(payload["data"]
        .as_object()
        .and_then(|d| d.values().next().cloned())
        .unwrap_or(Value::Null))
}

/// Events until one of type `kind`, which is returned last.
async fn until(ws: &mut WsClient, id: &str, kind: &str) -> Result<Vec<Value>> {
    let mut seen = Vec::new();
    loop {
        let event = next_event(ws, id).await?;
        let done = event["__typename"] == kind;
        seen.push(event);
        if done {
            return Ok(seen);
        }
    }
}

/// Subscribes to `events` and waits until it is live; its cursor.
async fn live(
    app: &TestApp,
    user: &TestUser,
    after: Option<&str>,
) -> Result<(WsClient, Vec<Value>)> {
    let mut ws = app.ws(&user.token).await?;
    ws.subscribe("e", EVENTS, json!({"a": after})).await?;
    let replayed = until(&mut ws, "e", "StreamLiveEvent").await?;
    Ok((ws, replayed))
}

fn cursor_of(event: &Value) -> String {
    event["cursor"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn messages_reads_and_unread_counts_arrive_live() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let (mut ann_ws, _) = live(&app, &ann, None).await?;
    let (mut ben_ws, _) = live(&app, &ben, None).await?;

    let sent = app.send(&ben, &c, "hello ann").await?;
    let added = next_event(&mut ann_ws, "e").await?;
    assert_eq!(added["__typename"], "MessageAddedEvent");
    assert_eq!(added["conversationId"], c);
    assert_eq!(added["message"]["id"], sent["id"]);
    assert!(!cursor_of(&added).is_empty());
    let counts = next_event(&mut ann_ws, "e").await?;
    assert_eq!(
        (
            counts["__typename"].as_str(),
            &counts["unreadCount"],
            &counts["totalUnreadCount"]
        ),
        (Some("UnreadCountsChangedEvent"), &json!(1), &json!(1))
    );
    // The sender sees their own message, and no unread change.
    let own = next_event(&mut ben_ws, "e").await?;
    assert_eq!(own["__typename"], "MessageAddedEvent");
    // Reaching ann's stream delivered it to her.
    let status = "query($m: ID!) { node(id: $m) { ... on Message { status } } }";
    let seen = app.ok(&ben.token, status, json!({"m": sent["id"]})).await?;
    assert_eq!(seen["node"]["status"], "DELIVERED");

    app.ok(
        &ann.token,
        "mutation($c: ID!) { markRead(input: {conversationId: $c}) { id } }",
        json!({"c": c}),
    )
    .await?;
    let receipt = next_event(&mut ben_ws, "e").await?;
    assert_eq!(receipt["__typename"], "ReadReceiptEvent");
    assert_eq!(receipt["user"]["username"], "ann");
    assert_eq!(receipt["lastReadSeq"], 1);
    let mine = next_event(&mut ann_ws, "e").await?;
    assert_eq!(mine["__typename"], "ReadReceiptEvent");
    let zero = next_event(&mut ann_ws, "e").await?;
    assert_eq!(zero["unreadCount"], 0);
    assert_eq!(zero["totalUnreadCount"], 0);

    // A member's own archive reaches only them.
    app.ok(
        &ann.token,
        "mutation($c: ID!) { archiveConversation(id: $c) { id } }",
        json!({"c": c}),
    )
    .await?;
    let archived = next_event(&mut ann_ws, "e").await?;
    assert_eq!(archived["__typename"], "ConversationUpdatedEvent");
    assert!(
        ben_ws
            .quiet_for(std::time::Duration::from_millis(300))
            .await
    );
    Ok(())
}

#[tokio::test]
async fn replay_after_a_cursor_is_exact_under_concurrent_writers() -> Result<()> {
    let app = spawn_app().await?;
    let viewer = app.register("viewer").await?;
    let mut writers = Vec::new();
    for i in 0..4 {
        writers.push(app.register(&format!("writer{i}")).await?);
    }
    let mut conversations = Vec::new();
    for writer in &writers {
        conversations.push(app.open_direct(&viewer, writer).await?);
    }
    // Someone else's conversation: its events must never show up.
    let stranger = app.register("stranger").await?;
    let elsewhere = app.open_direct(&writers[0], &stranger).await?;

    let (ws, replayed) = live(&app, &viewer, None).await?;
    let cursor = cursor_of(replayed.last().unwrap_or(&Value::Null));
    drop(ws);

    // Offline: writers send at once, into the viewer's conversations and
    // elsewhere.
    let burst = |round: usize| {
        let app = &app;
        let writers = &writers;
        let conversations = &conversations;
        let elsewhere = &elsewhere;
        let stranger = &stranger;
        async move {
            let theirs = async move {
                for _ in 0..5 {
                    app.send(stranger, elsewhere, "not for the viewer").await?;
                }
                anyhow::Ok(())
            };
            let ours = try_join_all(writers.iter().zip(conversations).map(|(w, c)| async move {
                for n in 0..5 {
                    app.send(w, c, &format!("r{round} n{n} {}", w.username))
                        .await?;
                }
                anyhow::Ok(())
            }));
            tokio::try_join!(theirs, ours).map(|_| ())
        }
    };
    burst(0).await?;

    // Reconnect after the cursor while the writers keep going: every
    // message exactly once, cursors strictly rising, replay then live.
    let mut ws = app.ws(&viewer.token).await?;
    ws.subscribe("e", EVENTS, json!({"a": cursor})).await?;
    let (_, got) = tokio::try_join!(burst(1), async {
        let mut bodies = Vec::new();
        let mut cursors = Vec::new();
        while bodies.len() < 40 {
            let event = next_event(&mut ws, "e").await?;
            if let Some(c) = event["cursor"].as_str() {
                cursors.push(c.to_owned());
            }
            if event["__typename"] == "MessageAddedEvent" {
                bodies.push(
                    event["message"]["body"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
        anyhow::Ok((bodies, cursors))
    })?;
    let (bodies, cursors) = got;
    assert!(!bodies.iter().any(|b| b.contains("not for")), "{bodies:?}");
    let distinct: HashSet<&String> = bodies.iter().collect();
    assert_eq!(distinct.len(), 40, "duplicates in {bodies:?}");
    let ids: Vec<i64> = cursors
        .iter()
        .filter_map(|c| {
            let raw = base64_decode(c)?;
            raw.strip_prefix("ev:")?.parse().ok()
        })
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] <= w[1]),
        "cursors must not go back: {ids:?}"
    );
    // No more messages are owed (an unread count may follow the last,
    // and the switch to live may come only now if replay caught up with
    // the writers).
    while let Ok(message) = ws.next_within(std::time::Duration::from_millis(300)).await {
        let kind = &message["payload"]["data"]["events"]["__typename"];
        assert_ne!(kind, "MessageAddedEvent", "{message}");
    }
    Ok(())
}

fn base64_decode(text: &str) -> Option<String> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
}

#[tokio::test]
async fn a_removed_member_gets_their_removal_then_nothing() -> Result<()> {
    let app = spawn_app().await?;
    let owner = app.register("owner").await?;
    let gone = app.register("gone").await?;
    let group = app
        .ok(
            &owner.token,
            "mutation($m: [ID!]!) { createGroupConversation(input: {title: \"g\", memberIds: $m}) { id } }",
            json!({"m": [gone.id]}),
        )
        .await?["createGroupConversation"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let other = app.open_direct(&owner, &gone).await?;
    let (mut all, _) = live(&app, &gone, None).await?;
    let mut one = app.ws(&gone.token).await?;
    one.subscribe("c", CONVERSATION_EVENTS, json!({"c": group}))
        .await?;
    // The one-conversation stream is live too (its first event).
    let first = next_event(&mut one, "c").await?;
    assert_eq!(first["__typename"], "StreamLiveEvent");

    app.ok(
        &owner.token,
        "mutation($c: ID!, $u: ID!) { removeMember(conversationId: $c, userId: $u) { id } }",
        json!({"c": group, "u": gone.id}),
    )
    .await?;
    app.send(&owner, &group, "after the removal").await?;
    app.send(&owner, &other, "sentinel").await?;

    // The conversation stream: the notice, the removal, then complete.
    let notice = next_event(&mut one, "c").await?;
    assert_eq!(notice["__typename"], "MessageAddedEvent");
    let removed = next_event(&mut one, "c").await?;
    assert_eq!(removed["__typename"], "MemberRemovedEvent");
    assert_eq!(removed["user"]["username"], "gone");
    let complete = one.next().await?;
    assert_eq!(complete["type"], "complete", "{complete}");

    // The all-conversations stream: the removal, then only the sentinel.
    let mut bodies = Vec::new();
    let mut kinds = Vec::new();
    loop {
        let event = next_event(&mut all, "e").await?;
        kinds.push(event["__typename"].as_str().unwrap_or_default().to_owned());
        if let Some(body) = event["message"]["body"].as_str() {
            bodies.push(body.to_owned());
            if body == "sentinel" {
                break;
            }
        }
    }
    assert!(
        kinds.contains(&"MemberRemovedEvent".to_owned()),
        "{kinds:?}"
    );
    assert!(
        !bodies.contains(&"after the removal".to_owned()),
        "{bodies:?}"
    );

    // Replaying from the start: the removal is there, the group's
    // messages are not.
    let mut replay = app.ws(&gone.token).await?;
    replay
        .subscribe("e", EVENTS, json!({"a": "ZXY6MA"}))
        .await?;
    let replayed = until(&mut replay, "e", "StreamLiveEvent").await?;
    assert!(replayed.iter().all(|e| e["conversationId"] != group
        || e["__typename"] == "MemberRemovedEvent"
        || e["__typename"] == "StreamLiveEvent"));
    assert!(
        replayed
            .iter()
            .any(|e| e["__typename"] == "MemberRemovedEvent")
    );
    Ok(())
}

#[tokio::test]
async fn cursors_the_log_cannot_replay_say_so() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    app.send(&ben, &c, "one").await?;

    // A cursor from the future (another server's, a made-up one).
    let mut ws = app.ws(&ann.token).await?;
    let future = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("ev:999999")
    };
    ws.subscribe("e", EVENTS, json!({"a": future})).await?;
    let expired = next_event(&mut ws, "e").await?;
    assert_eq!(expired["__typename"], "CursorExpiredEvent");
    let resume = cursor_of(&expired);
    let live_event = next_event(&mut ws, "e").await?;
    assert_eq!(live_event["__typename"], "StreamLiveEvent");
    assert_eq!(cursor_of(&live_event), resume);

    // Pruned history: the log says how far it was pruned.
    app.sql("UPDATE event_log SET pruned_through = last_id", vec![])
        .await?;
    let mut old = app.ws(&ann.token).await?;
    old.subscribe("e", EVENTS, json!({"a": "ZXY6MA"})).await?;
    assert_eq!(
        next_event(&mut old, "e").await?["__typename"],
        "CursorExpiredEvent"
    );

    // Not a cursor at all.
    let bad = app.ws(&ann.token).await;
    let mut bad = bad?;
    bad.subscribe("e", EVENTS, json!({"a": "not a cursor"}))
        .await?;
    let payload = bad.next().await?;
    let errors = if payload["type"] == "error" {
        payload["payload"].clone()
    } else {
        payload["payload"]["errors"].clone()
    };
    let response = json!({"errors": errors});
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{payload}");
    assert_eq!(errors[0]["extensions"]["field"], "after", "{payload}");
    Ok(())
}

#[tokio::test]
async fn pruning_keeps_recent_events_and_expires_older_cursors() -> Result<()> {
    use base64::Engine;
    let cursor =
        |id: i64| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("ev:{id}"));
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    // Events 1 and 2: both join; 3 to 5: messages.
    let c = app.open_direct(&ann, &ben).await?;
    for body in ["one", "two", "three"] {
        app.send(&ben, &c, body).await?;
    }
    let old = chrono::Utc::now() - chrono::Duration::days(8);
    app.sql(
        "UPDATE events SET created_at = $1 WHERE id <= 3",
        vec![old.into()],
    )
    .await?;
    assert_eq!(app.service.prune_events().await?, 3);
    assert_eq!(app.service.prune_events().await?, 0);

    let mut expired = app.ws(&ann.token).await?;
    expired
        .subscribe("e", EVENTS, json!({"a": cursor(2)}))
        .await?;
    assert_eq!(
        next_event(&mut expired, "e").await?["__typename"],
        "CursorExpiredEvent"
    );

    let mut kept = app.ws(&ann.token).await?;
    kept.subscribe("e", EVENTS, json!({"a": cursor(3)})).await?;
    let replayed = until(&mut kept, "e", "StreamLiveEvent").await?;
    let bodies: Vec<&str> = replayed
        .iter()
        .filter_map(|e| e["message"]["body"].as_str())
        .collect();
    assert_eq!(bodies, ["two", "three"]);
    Ok(())
}

#[tokio::test]
async fn streamed_text_arrives_live_and_the_finish_is_durable() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let mut ws = app.ws(&ben.token).await?;
    ws.subscribe(
        "e",
        "subscription { events { __typename cursor
            ... on MessageAppendedEvent { messageId text }
            ... on MessageFinishedEvent { message { id body streaming } } } }",
        json!({}),
    )
    .await?;
    assert_eq!(
        next_event(&mut ws, "e").await?["__typename"],
        "StreamLiveEvent"
    );

    let started = app
        .ok(
            &ann.token,
            "mutation($c: ID!) { sendMessage(input: {conversationId: $c, streaming: true}) { id } }",
            json!({"c": c}),
        )
        .await?;
    let id = started["sendMessage"]["id"].clone();
    let added = until(&mut ws, "e", "MessageAddedEvent").await?;
    assert_eq!(
        added.last().map(|e| e["__typename"].clone()),
        Some(json!("MessageAddedEvent"))
    );
    for part in ["Hel", "lo!"] {
        app.ok(
            &ann.token,
            "mutation($m: ID!, $t: String!) { appendToMessage(id: $m, text: $t) { length } }",
            json!({"m": id, "t": part}),
        )
        .await?;
        let appended = until(&mut ws, "e", "MessageAppendedEvent").await?;
        let appended = appended.last().cloned().unwrap_or_default();
        assert_eq!(appended["cursor"], Value::Null, "live only");
        assert_eq!(appended["messageId"], id);
        assert_eq!(appended["text"], part);
    }
    app.ok(
        &ann.token,
        "mutation($m: ID!) { finishMessage(id: $m) { id } }",
        json!({"m": id}),
    )
    .await?;
    let finished = until(&mut ws, "e", "MessageFinishedEvent").await?;
    let finished = finished.last().cloned().unwrap_or_default();
    assert!(finished["cursor"].is_string());
    assert_eq!(
        finished["message"],
        json!({"id": id, "body": "Hello!", "streaming": false})
    );
    Ok(())
}

#[tokio::test]
async fn typing_and_presence_reach_the_people_who_share_a_conversation() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let stranger = app.register("stranger").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let mut ws = app.ws(&ann.token).await?;
    ws.subscribe(
        "e",
        "subscription { events { __typename cursor
            ... on PresenceEvent { user { username } online }
            ... on TypingEvent { user { username } typing } } }",
        json!({}),
    )
    .await?;
    assert_eq!(
        next_any_event(&mut ws, "e").await?["__typename"],
        "StreamLiveEvent"
    );

    // A stranger coming online is none of ann's business; ben is.
    let stranger_ws = app.ws(&stranger.token).await?;
    let ben_ws = app.ws(&ben.token).await?;
    let online = next_any_event(&mut ws, "e").await?;
    assert_eq!(
        online,
        json!({"__typename": "PresenceEvent", "cursor": null, "user": {"username": "ben"}, "online": true})
    );
    app.ok(
        &ben.token,
        "mutation($c: ID!) { setTyping(conversationId: $c, typing: true) }",
        json!({"c": c}),
    )
    .await?;
    let typing = next_any_event(&mut ws, "e").await?;
    assert_eq!(typing["__typename"], "TypingEvent");
    assert_eq!(typing["user"]["username"], "ben");
    assert_eq!(typing["typing"], true);
    drop(ben_ws);
    drop(stranger_ws);
    // Ben's typing ends with his message or on its own; then he is gone.
    let mut kinds = Vec::new();
    loop {
        let event = next_any_event(&mut ws, "e").await?;
        kinds.push(event.clone());
        if event["__typename"] == "PresenceEvent" {
            assert_eq!(event["user"]["username"], "ben");
            assert_eq!(event["online"], false);
            break;
        }
    }
    assert!(
        kinds.iter().all(|e| e["user"]["username"] == "ben"),
        "{kinds:?}"
    );
    Ok(())
}

#[tokio::test]
async fn edits_deletes_and_reactions_arrive_live_and_on_replay() -> Result<()> {
    const CHANGES: &str = "subscription($a: String) { events(after: $a) { __typename cursor
        ... on MessageEditedEvent { message { id body editedAt } }
        ... on MessageDeletedEvent { messageId message { body deletedAt } }
        ... on ReactionChangedEvent { emoji added user { username } } } }";
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let sent = app.send(&ann, &c, "deploy on friday").await?;
    let id = sent["id"].clone();

    let mut ws = app.ws(&ben.token).await?;
    ws.subscribe("e", CHANGES, json!({})).await?;
    let start = until(&mut ws, "e", "StreamLiveEvent").await?;
    let cursor = cursor_of(start.last().unwrap_or(&Value::Null));

    app.ok(
        &ann.token,
        "mutation($m: ID!) { editMessage(id: $m, body: \"deploy on monday\") { id } }",
        json!({"m": id}),
    )
    .await?;
    app.ok(
        &ann.token,
        "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"👍\") { id } }",
        json!({"m": id}),
    )
    .await?;
    app.ok(
        &ann.token,
        "mutation($m: ID!) { deleteMessage(id: $m) { id } }",
        json!({"m": id}),
    )
    .await?;
    let check = |events: &[Value]| {
        let changes: Vec<&Value> = events
            .iter()
            .filter(|e| {
                e["__typename"] != "StreamLiveEvent"
                    && e["__typename"] != "UnreadCountsChangedEvent"
            })
            .collect();
        let kinds: Vec<&str> = changes
            .iter()
            .filter_map(|e| e["__typename"].as_str())
            .collect();
        assert_eq!(
            kinds,
            [
                "MessageEditedEvent",
                "ReactionChangedEvent",
                "MessageDeletedEvent"
            ],
            "{events:?}"
        );
        assert_eq!(changes[1]["emoji"], "👍");
        assert_eq!(changes[1]["added"], true);
        assert_eq!(changes[2]["messageId"], id);
        assert_eq!(changes[2]["message"]["body"], "");
        assert!(changes[2]["message"]["deletedAt"].is_string());
    };
    let mut live = Vec::new();
    while live.len() < 3
        || live.last().map(|e: &Value| e["__typename"].clone())
            != Some(json!("MessageDeletedEvent"))
    {
        live.push(next_event(&mut ws, "e").await?);
    }
    check(&live);

    // The same after reconnecting with the cursor from before them.
    let mut again = app.ws(&ben.token).await?;
    again.subscribe("e", CHANGES, json!({"a": cursor})).await?;
    let replayed = until(&mut again, "e", "StreamLiveEvent").await?;
    check(&replayed);

    // A deleted message is out of search too.
    let found = app
        .ok(
            &ben.token,
            "{ searchMessages(query: \"deploy\") { nodes { message { id } } } }",
            json!({}),
        )
        .await?;
    assert_eq!(found["searchMessages"]["nodes"], json!([]));
    Ok(())
}

/// Archiving and muting log an event without locking the conversation,
/// while reads and sends lock it and then log theirs. On PostgreSQL the
/// conversation lock once conflicted with the events insert's foreign-key
/// check, and the two deadlocked over the event counter; every one of
/// these concurrent changes must succeed.
#[tokio::test]
async fn membership_settings_and_reads_never_deadlock() -> Result<()> {
    const READ: &str =
        "mutation($c: ID!, $s: Int!) { markRead(input: {conversationId: $c, upToSeq: $s}) { id } }";
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    for i in 0..20 {
        app.send(&ann, &c, &format!("m{i}")).await?;
    }
    let rounds = (1..=20).map(|seq| {
        let (app, ann, ben, c) = (&app, &ann, &ben, &c);
        async move {
            let toggle = if seq % 2 == 0 {
                "mutation($c: ID!) { archiveConversation(id: $c) { id } }"
            } else {
                "mutation($c: ID!) { unarchiveConversation(id: $c) { id } }"
            };
            let (archived, read, sent) = tokio::join!(
                app.gql(Some(&ann.token), toggle, json!({"c": c})),
                app.gql(Some(&ben.token), READ, json!({"c": c, "s": seq})),
                app.send(ann, c, "more"),
            );
            for response in [archived?, read?] {
                if response.get("errors").is_some() {
                    bail!("round {seq}: {response}");
                }
            }
            sent?;
            Ok(())
        }
    });
    try_join_all(rounds).await?;
    Ok(())
}
