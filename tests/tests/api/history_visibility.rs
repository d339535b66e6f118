//! History visibility: a group whose history is `SINCE_JOINED` hides what
//! came before a member's latest join from every read path (history,
//! search, threads, `node`, reply targets, `messageAdded` catch-up and the
//! event streams); `SHARED` (the default) hides nothing.

use std::time::Duration;

use anyhow::{Result, bail};
use parley_tests::{TestApp, TestUser, WsClient, error_code, spawn_app};
use serde_json::{Value, json};

const CREATE: &str = "mutation($m: [ID!]!, $h: HistoryVisibility) { createGroupConversation(input: {title: \"g\", memberIds: $m, historyVisibility: $h}) { id historyVisibility } }";
const UPDATE: &str = "mutation($c: ID!, $h: HistoryVisibility) { updateConversation(input: {id: $c, historyVisibility: $h}) { id historyVisibility } }";
const ADD: &str =
    "mutation($c: ID!, $u: [ID!]!) { addMembers(conversationId: $c, userIds: $u) { id } }";
const REMOVE: &str =
    "mutation($c: ID!, $u: ID!) { removeMember(conversationId: $c, userId: $u) { id } }";
const REPLY: &str = "mutation($c: ID!, $b: String!, $r: ID) { sendMessage(input: {conversationId: $c, body: $b, replyToId: $r}) { id seq } }";
const HISTORY: &str = "query($c: ID!) { conversation(id: $c) { messages(first: 100) { pageInfo { hasPreviousPage } nodes { body kind replyTo { body } } } } }";
const NODE: &str = "query($m: ID!) { node(id: $m) { ... on Message { body } } }";
const SEARCH: &str =
    "query($q: String!) { searchMessages(query: $q) { nodes { message { body } } } }";
const EDIT: &str = "mutation($m: ID!, $b: String!) { editMessage(id: $m, body: $b) { id } }";

async fn bodies(app: &TestApp, user: &TestUser, c: &str) -> Result<Vec<String>> {
    let data = app.ok(&user.token, HISTORY, json!({"c": c})).await?;
    Ok(data["conversation"]["messages"]["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .filter(|n| n["kind"] != "SYSTEM")
                .filter_map(|n| n["body"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

async fn found(app: &TestApp, user: &TestUser, q: &str) -> Result<usize> {
    let data = app.ok(&user.token, SEARCH, json!({"q": q})).await?;
    Ok(data["searchMessages"]["nodes"]
        .as_array()
        .map_or(0, Vec::len))
}

async fn reply(
    app: &TestApp,
    user: &TestUser,
    c: &str,
    body: &str,
    to: Option<&str>,
) -> Result<String> {
    Ok(app
        .ok(&user.token, REPLY, json!({"c": c, "b": body, "r": to}))
        .await?["sendMessage"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

async fn next_event(ws: &mut WsClient, id: &str) -> Result<Value> {
    loop {
        let payload = ws.next_data(id).await?;
        if payload["errors"].is_array() {
            bail!("stream error: {payload}");
        }
        let event = payload["data"]
            .as_object()
            .and_then(|d| d.values().next().cloned())
            .unwrap_or(Value::Null);
        if event["__typename"] != "PresenceEvent" {
            return Ok(event);
        }
    }
}

#[tokio::test]
async fn since_joined_hides_the_past_from_every_read_path() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let cyd = app.register("cyd").await?;
    let created = app
        .ok(
            &ann.token,
            CREATE,
            json!({"m": [ben.id], "h": "SINCE_JOINED"}),
        )
        .await?;
    assert_eq!(
        created["createGroupConversation"]["historyVisibility"],
        "SINCE_JOINED"
    );
    let c = created["createGroupConversation"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let old = reply(&app, &ann, &c, "the old zebra plan", None).await?;
    reply(&app, &ben, &c, "zebra reply before", Some(&old)).await?;

    app.ok(&ann.token, ADD, json!({"c": c, "u": [cyd.id]}))
        .await?;
    let new = reply(&app, &ben, &c, "zebra answer after", Some(&old)).await?;

    // History: only from the join on, and the page says nothing is before.
    assert_eq!(bodies(&app, &cyd, &c).await?, ["zebra answer after"]);
    let page = app.ok(&cyd.token, HISTORY, json!({"c": c})).await?;
    let page = &page["conversation"]["messages"];
    assert_eq!(page["pageInfo"]["hasPreviousPage"], false);
    // The reply target from before is hidden; ben sees it.
    let last = page["nodes"]
        .as_array()
        .and_then(|n| n.last().cloned())
        .unwrap_or_default();
    assert_eq!(last["replyTo"], Value::Null);
    assert_eq!(bodies(&app, &ben, &c).await?.len(), 3);
    // node(id) and search.
    let node = app.ok(&cyd.token, NODE, json!({"m": old})).await?;
    assert_eq!(node["node"], Value::Null);
    assert_eq!(found(&app, &cyd, "zebra").await?, 1);
    assert_eq!(found(&app, &ben, "zebra").await?, 3);
    // Threads: the root is out of reach, and so are its old replies.
    let root = app
        .gql(
            Some(&cyd.token),
            "query($m: ID!) { node(id: $m) { ... on Message { replies { nodes { body } } } } }",
            json!({"m": old}),
        )
        .await?;
    assert_eq!(root["data"]["node"], Value::Null);
    // messageAdded catch-up starts at the join.
    let mut ws = app.ws(&cyd.token).await?;
    ws.subscribe(
        "m",
        "subscription($c: ID!) { messageAdded(conversationId: $c, afterSeq: 0) { body kind } }",
        json!({"c": c}),
    )
    .await?;
    let first = ws.next_data("m").await?;
    assert_eq!(first["data"]["messageAdded"]["kind"], "SYSTEM", "{first}");
    let second = ws.next_data("m").await?;
    assert_eq!(second["data"]["messageAdded"]["body"], "zebra answer after");

    // The events stream: an edit of an old message reaches ben, not cyd.
    ws.subscribe(
        "e",
        "subscription { events { __typename ... on MessageEditedEvent { message { body } } ... on MessageAddedEvent { message { body } } } }",
        json!({}),
    )
    .await?;
    while next_event(&mut ws, "e").await?["__typename"] != "StreamLiveEvent" {}
    app.ok(
        &ann.token,
        EDIT,
        json!({"m": old, "b": "the old zebra plan, edited"}),
    )
    .await?;
    // ben's own edit of the new reply comes next: the old one was skipped.
    app.ok(&ben.token, EDIT, json!({"m": new, "b": "x"}))
        .await?;
    let e = next_event(&mut ws, "e").await?;
    assert_eq!(e["__typename"], "MessageEditedEvent", "{e}");
    assert_eq!(e["message"]["body"], "x");
    Ok(())
}

#[tokio::test]
async fn a_re_added_member_sees_only_from_their_latest_join() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let dan = app.register("dan").await?;
    let created = app.ok(&ann.token, CREATE, json!({"m": [dan.id]})).await?;
    assert_eq!(
        created["createGroupConversation"]["historyVisibility"],
        "SHARED"
    );
    let c = created["createGroupConversation"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    reply(&app, &ann, &c, "one", None).await?;
    app.ok(&ann.token, REMOVE, json!({"c": c, "u": dan.id}))
        .await?;
    reply(&app, &ann, &c, "while away", None).await?;
    app.ok(&ann.token, ADD, json!({"c": c, "u": [dan.id]}))
        .await?;
    reply(&app, &ann, &c, "back", None).await?;
    // Shared: everything.
    assert_eq!(bodies(&app, &dan, &c).await?, ["one", "while away", "back"]);
    // Since joined, from the latest join: the setting applies at once.
    let updated = app
        .ok(&ann.token, UPDATE, json!({"c": c, "h": "SINCE_JOINED"}))
        .await?;
    assert_eq!(
        updated["updateConversation"]["historyVisibility"],
        "SINCE_JOINED"
    );
    assert_eq!(bodies(&app, &dan, &c).await?, ["back"]);
    assert_eq!(bodies(&app, &ann, &c).await?, ["one", "while away", "back"]);
    // Only owners and admins set it; direct conversations have none.
    let refused = app
        .gql(Some(&dan.token), UPDATE, json!({"c": c, "h": "SHARED"}))
        .await?;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let d = app.open_direct(&ann, &dan).await?;
    let direct = app
        .gql(
            Some(&ann.token),
            UPDATE,
            json!({"c": d, "h": "SINCE_JOINED"}),
        )
        .await?;
    assert_eq!(error_code(&direct), "BAD_USER_INPUT");
    assert_eq!(
        direct["errors"][0]["extensions"]["field"],
        "historyVisibility"
    );
    // Back to shared: everything again.
    app.ok(&ann.token, UPDATE, json!({"c": c, "h": "SHARED"}))
        .await?;
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(bodies(&app, &dan, &c).await?.len(), 3);
    Ok(())
}
