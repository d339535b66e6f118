//! Moderation: blocking (a blocked person's messages reach the blocker
//! through no path), reports and the host app's queue, per-group bans, and
//! the admin key's audited reads.

use std::time::Duration;

use anyhow::{Result, bail};
use parley_tests::{TestApp, TestUser, WsClient, error_code, spawn_host_app};
use serde_json::{Value, json};

const HISTORY: &str = "query($c: ID!) { conversation(id: $c) { unreadCount lastMessage { body } messages(last: 50) { nodes { body } pageInfo { hasPreviousPage } } } }";
const SEARCH: &str =
    "query($q: String!) { searchMessages(query: $q) { nodes { message { body } } } }";
const EVENTS: &str = "subscription($a: String) { events(after: $a) { __typename cursor
    ... on MessageAddedEvent { message { body } }
    ... on TypingEvent { user { username } }
} }";
const FOLLOW: &str =
    "subscription($c: ID!, $s: Int) { messageAdded(conversationId: $c, afterSeq: $s) { body } }";
const REPLY: &str = "mutation($c: ID!, $b: String!, $r: ID) { sendMessage(input: {conversationId: $c, body: $b, replyToId: $r}) { id seq } }";

async fn send_reply(
    app: &TestApp,
    who: &TestUser,
    c: &str,
    body: &str,
    to: &Value,
) -> Result<Value> {
    Ok(app
        .ok(&who.token, REPLY, json!({"c": c, "b": body, "r": to}))
        .await?["sendMessage"]
        .clone())
}

async fn create_group(app: &TestApp, owner: &TestUser, members: &[&TestUser]) -> Result<String> {
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let data = app
        .ok(
            &owner.token,
            "mutation($m: [ID!]!) { createGroupConversation(input: {title: \"g\", memberIds: $m}) { id } }",
            json!({"m": ids}),
        )
        .await?;
    Ok(data["createGroupConversation"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

fn bodies(messages: &Value) -> Vec<String> {
    messages["nodes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|m| m["body"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The next event on `id` that is not presence.
async fn next_event(ws: &mut WsClient, id: &str) -> Result<Value> {
    loop {
        let payload = ws.next_data(id).await?;
        if payload["errors"].is_array() {
            bail!("stream error: {payload}");
        }
        let event = payload["data"]["events"].clone();
        if event["__typename"] != "PresenceEvent" {
            return Ok(event);
        }
    }
}

/// Message bodies of the events on `id` up to the `StreamLiveEvent`, and
/// its cursor.
async fn until_live(ws: &mut WsClient, id: &str) -> Result<(Vec<String>, String)> {
    let mut seen = Vec::new();
    loop {
        let event = next_event(ws, id).await?;
        if event["__typename"] == "StreamLiveEvent" {
            return Ok((
                seen,
                event["cursor"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        if let Some(body) = event["message"]["body"].as_str() {
            seen.push(body.to_owned());
        }
    }
}

/// Message bodies of events on `id` until one with `body`.
async fn until_body(ws: &mut WsClient, id: &str, body: &str) -> Result<Vec<String>> {
    let mut seen = Vec::new();
    loop {
        let event = next_event(ws, id).await?;
        if let Some(got) = event["message"]["body"].as_str() {
            seen.push(got.to_owned());
            if got == body {
                return Ok(seen);
            }
        }
    }
}

#[tokio::test]
async fn a_blocked_users_messages_never_reach_the_blocker() -> Result<()> {
    let app = spawn_host_app().await?;
    let ann = app.register("ann").await?;
    let bob = app.register("bob").await?;
    let cy = app.register("cyd").await?;
    let group = create_group(&app, &ann, &[&bob, &cy]).await?;
    let direct = app.open_direct(&bob, &ann).await?;
    let root = app.send(&cy, &group, "root by cy").await?;
    app.ok(
        &ann.token,
        "mutation($c: ID!) { markRead(input: {conversationId: $c}) { id } }",
        json!({"c": group}),
    )
    .await?;

    // Ann's events stream, to resume later from this point.
    let mut ws = app.ws(&ann.token).await?;
    ws.subscribe("e", EVENTS, json!({})).await?;
    let (_, cursor) = until_live(&mut ws, "e").await?;
    drop(ws);

    let blocked = app
        .ok(
            &ann.token,
            "mutation($u: ID!) { blockUser(userId: $u) { username } }",
            json!({"u": bob.id}),
        )
        .await?;
    assert_eq!(blocked["blockUser"]["username"], "bob");
    // Blocking twice changes nothing; blocking yourself is refused.
    app.ok(
        &ann.token,
        "mutation($u: ID!) { blockUser(userId: $u) { id } }",
        json!({"u": bob.id}),
    )
    .await?;
    let own = app
        .gql(
            Some(&ann.token),
            "mutation($u: ID!) { blockUser(userId: $u) { id } }",
            json!({"u": ann.id}),
        )
        .await?;
    assert_eq!(error_code(&own), "BAD_USER_INPUT");
    let list = app
        .ok(&ann.token, "{ blockedUsers { username } }", json!({}))
        .await?;
    assert_eq!(list["blockedUsers"], json!([{"username": "bob"}]));

    let hidden = app.send(&bob, &group, "hidden words by bob").await?;
    send_reply(&app, &bob, &group, "hidden reply by bob", &root["id"]).await?;
    send_reply(&app, &cy, &group, "visible reply by cy", &root["id"]).await?;
    app.send(&bob, &group, "hidden last by bob").await?;

    // History, inbox preview, unread count.
    let seen = app.ok(&ann.token, HISTORY, json!({"c": group})).await?["conversation"].clone();
    let ann_bodies = bodies(&seen["messages"]);
    assert!(
        ann_bodies.iter().all(|b| !b.contains("bob")),
        "{ann_bodies:?}"
    );
    assert!(ann_bodies.contains(&"visible reply by cy".to_owned()));
    assert_eq!(seen["lastMessage"]["body"], "visible reply by cy");
    assert_eq!(seen["unreadCount"], 1, "only cy's reply counts");
    let total = app.ok(&ann.token, "{ unreadCount }", json!({})).await?;
    assert_eq!(total["unreadCount"], 1);
    // Cy sees everything.
    let cy_seen = app.ok(&cy.token, HISTORY, json!({"c": group})).await?["conversation"].clone();
    assert_eq!(
        bodies(&cy_seen["messages"])
            .iter()
            .filter(|b| b.contains("bob"))
            .count(),
        3
    );
    assert_eq!(cy_seen["lastMessage"]["body"], "hidden last by bob");

    // Search.
    let found = app.ok(&ann.token, SEARCH, json!({"q": "hidden"})).await?;
    assert_eq!(found["searchMessages"]["nodes"], json!([]));
    let found = app.ok(&cy.token, SEARCH, json!({"q": "hidden"})).await?;
    assert_eq!(
        found["searchMessages"]["nodes"].as_array().map(Vec::len),
        Some(3)
    );

    // By id, and as a reply target.
    let node = app
        .ok(
            &ann.token,
            "query($m: ID!) { node(id: $m) { id } }",
            json!({"m": hidden["id"]}),
        )
        .await?;
    assert_eq!(node["node"], Value::Null);
    let report = app
        .gql(
            Some(&ann.token),
            "mutation($m: ID!) { reportMessage(messageId: $m, reason: \"x\") { id } }",
            json!({"m": hidden["id"]}),
        )
        .await?;
    assert_eq!(error_code(&report), "NOT_FOUND");

    // Thread replies.
    let replies = app
        .ok(
            &ann.token,
            "query($m: ID!) { node(id: $m) { ... on Message { replies { nodes { body } } } } }",
            json!({"m": root["id"]}),
        )
        .await?;
    assert_eq!(
        bodies(&replies["node"]["replies"]),
        vec!["visible reply by cy"]
    );

    // Events replayed from before the block, then live.
    let mut ws = app.ws(&ann.token).await?;
    ws.subscribe("e", EVENTS, json!({"a": cursor})).await?;
    let (replayed, _) = until_live(&mut ws, "e").await?;
    assert!(replayed.iter().all(|b| !b.contains("bob")), "{replayed:?}");
    assert!(replayed.contains(&"visible reply by cy".to_owned()));
    // messageAdded, from the start, then live.
    let mut follow = app.ws(&ann.token).await?;
    follow
        .subscribe("m", FOLLOW, json!({"c": group, "s": 0}))
        .await?;
    let mut caught_up = Vec::new();
    while caught_up.last().map(String::as_str) != Some("visible reply by cy") {
        let payload = follow.next_data("m").await?;
        caught_up.push(
            payload["data"]["messageAdded"]["body"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    assert!(
        caught_up.iter().all(|b| !b.contains("bob")),
        "{caught_up:?}"
    );
    app.ok(
        &bob.token,
        "mutation($c: ID!) { setTyping(conversationId: $c, typing: true) }",
        json!({"c": group}),
    )
    .await?;
    app.send(&bob, &group, "live by bob").await?;
    app.send(&cy, &group, "live by cy").await?;
    let live = until_body(&mut ws, "e", "live by cy").await?;
    assert_eq!(live, vec!["live by cy"]);
    let next = follow.next_data("m").await?;
    assert_eq!(next["data"]["messageAdded"]["body"], "live by cy");

    // No direct messages either way, whoever asks.
    let send = app
        .gql(
            Some(&bob.token),
            "mutation($c: ID!) { sendMessage(input: {conversationId: $c, body: \"hi\"}) { id } }",
            json!({"c": direct}),
        )
        .await?;
    assert_eq!(error_code(&send), "FORBIDDEN");
    for (who, other) in [(&bob, &ann), (&ann, &bob)] {
        let open = app
            .gql(
                Some(&who.token),
                "mutation($u: ID!) { openDirectConversation(userId: $u) { id } }",
                json!({"u": other.id}),
            )
            .await?;
        assert_eq!(error_code(&open), "FORBIDDEN");
        assert_eq!(
            open["errors"][0]["message"],
            "direct messages with this user are not possible"
        );
    }

    // Unblocking brings everything back.
    app.ok(
        &ann.token,
        "mutation($u: ID!) { unblockUser(userId: $u) { id } }",
        json!({"u": bob.id}),
    )
    .await?;
    let seen = app.ok(&ann.token, HISTORY, json!({"c": group})).await?["conversation"].clone();
    assert!(bodies(&seen["messages"]).contains(&"live by bob".to_owned()));
    assert_eq!(seen["unreadCount"], 6);
    app.send(&bob, &direct, "hello again").await?;
    let list = app
        .ok(&ann.token, "{ blockedUsers { id } }", json!({}))
        .await?;
    assert_eq!(list["blockedUsers"], json!([]));
    Ok(())
}

#[tokio::test]
async fn reports_go_to_the_host_apps_queue() -> Result<()> {
    let app = spawn_host_app().await?;
    let ann = app.register("ann").await?;
    let bob = app.register("bob").await?;
    let eve = app.register("eve").await?;
    let direct = app.open_direct(&ann, &bob).await?;
    let message = app.send(&bob, &direct, "buy my stuff").await?;
    const REPORT: &str = "mutation($m: ID!, $r: String!) { reportMessage(messageId: $m, reason: $r) { id status reason } }";

    let report = app
        .ok(
            &ann.token,
            REPORT,
            json!({"m": message["id"], "r": "  spam  "}),
        )
        .await?["reportMessage"]
        .clone();
    assert_eq!(report["status"], "OPEN");
    assert_eq!(report["reason"], "spam");
    let again = app
        .gql(
            Some(&ann.token),
            REPORT,
            json!({"m": message["id"], "r": "spam"}),
        )
        .await?;
    assert_eq!(error_code(&again), "CONFLICT");
    let empty = app
        .gql(
            Some(&bob.token),
            REPORT,
            json!({"m": message["id"], "r": "  "}),
        )
        .await?;
    assert_eq!(error_code(&empty), "BAD_USER_INPUT");
    assert_eq!(empty["errors"][0]["extensions"]["field"], "reason");
    let long = app
        .gql(
            Some(&bob.token),
            REPORT,
            json!({"m": message["id"], "r": "x".repeat(1001)}),
        )
        .await?;
    assert_eq!(error_code(&long), "BAD_USER_INPUT");
    // Someone who cannot see the message cannot report it.
    let outsider = app
        .gql(
            Some(&eve.token),
            REPORT,
            json!({"m": message["id"], "r": "spam"}),
        )
        .await?;
    assert_eq!(error_code(&outsider), "NOT_FOUND");

    const QUEUE: &str = "query($s: ReportStatus) { reports(status: $s) { nodes { id reason status resolution reporter { username } message { body } } } }";
    let open = app.admin(QUEUE, json!({"s": "OPEN"})).await?;
    let nodes = open["reports"]["nodes"].clone();
    assert_eq!(nodes.as_array().map(Vec::len), Some(1));
    assert_eq!(nodes[0]["reporter"]["username"], "ann");
    assert_eq!(nodes[0]["message"]["body"], "buy my stuff");
    let people = app.gql(Some(&ann.token), QUEUE, json!({})).await?;
    assert_eq!(error_code(&people), "FORBIDDEN");

    const RESOLVE: &str = "mutation($i: ID!) { resolveReport(id: $i, resolution: \"warned the sender\") { status resolution } }";
    let resolved = app.admin(RESOLVE, json!({"i": report["id"]})).await?;
    assert_eq!(resolved["resolveReport"]["status"], "RESOLVED");
    let twice = app
        .gql(
            Some(parley_tests::jwt::ADMIN_KEY),
            RESOLVE,
            json!({"i": report["id"]}),
        )
        .await?;
    assert_eq!(error_code(&twice), "CONFLICT");
    let open = app.admin(QUEUE, json!({"s": "OPEN"})).await?;
    assert_eq!(open["reports"]["nodes"], json!([]));
    // Once resolved, the same person may report it again.
    app.ok(
        &ann.token,
        REPORT,
        json!({"m": message["id"], "r": "still spam"}),
    )
    .await?;
    let all = app.admin(QUEUE, json!({})).await?;
    assert_eq!(all["reports"]["nodes"].as_array().map(Vec::len), Some(2));
    Ok(())
}

#[tokio::test]
async fn a_banned_member_is_removed_and_cannot_be_added_back() -> Result<()> {
    let app = spawn_host_app().await?;
    let owner = app.register("owner").await?;
    let admin = app.register("admin").await?;
    let member = app.register("member").await?;
    let troll = app.register("troll").await?;
    let group = create_group(&app, &owner, &[&admin, &member, &troll]).await?;
    app.ok(&owner.token, "mutation($c: ID!, $u: ID!) { setMemberRole(conversationId: $c, userId: $u, role: ADMIN) { id } }", json!({"c": group, "u": admin.id}))
        .await?;
    const BAN: &str = "mutation($c: ID!, $u: ID!) { banMember(conversationId: $c, userId: $u, reason: \"trolling\") { reason user { username } bannedBy { username } } }";
    const ADD: &str = "mutation($c: ID!, $u: ID!) { addMembers(conversationId: $c, userIds: [$u]) { memberCount } }";

    // Members may not ban; admins may not ban admins; nobody bans the owner.
    let by_member = app
        .gql(Some(&member.token), BAN, json!({"c": group, "u": troll.id}))
        .await?;
    assert_eq!(error_code(&by_member), "FORBIDDEN");
    let admin_on_owner = app
        .gql(Some(&admin.token), BAN, json!({"c": group, "u": owner.id}))
        .await?;
    assert_eq!(error_code(&admin_on_owner), "FORBIDDEN");

    let mut ws = app.ws(&troll.token).await?;
    ws.subscribe("m", FOLLOW, json!({"c": group})).await?;
    let ban = app
        .ok(&admin.token, BAN, json!({"c": group, "u": troll.id}))
        .await?;
    assert_eq!(ban["banMember"]["user"]["username"], "troll");
    assert_eq!(ban["banMember"]["bannedBy"]["username"], "admin");
    // The removal reaches the timeline, and the troll's stream ends.
    let notice = app
        .ok(
            &owner.token,
            "query($c: ID!) { conversation(id: $c) { memberCount lastMessage { kind metadata } } }",
            json!({"c": group}),
        )
        .await?;
    assert_eq!(notice["conversation"]["memberCount"], 3);
    assert_eq!(notice["conversation"]["lastMessage"]["kind"], "SYSTEM");
    assert_eq!(
        notice["conversation"]["lastMessage"]["metadata"]["type"],
        "member_removed"
    );
    let ended = ws.next_within(Duration::from_secs(5)).await?;
    assert!(
        ended["type"] == "error" || ended["payload"]["errors"].is_array(),
        "{ended}"
    );

    // Nobody adds them back, not even the owner or the host app.
    let readd = app
        .gql(Some(&owner.token), ADD, json!({"c": group, "u": troll.id}))
        .await?;
    assert_eq!(error_code(&readd), "CONFLICT");
    assert_eq!(readd["errors"][0]["extensions"]["field"], "userIds");
    let host = app
        .gql(
            Some(parley_tests::jwt::ADMIN_KEY),
            ADD,
            json!({"c": group, "u": troll.id}),
        )
        .await?;
    assert_eq!(error_code(&host), "CONFLICT");

    const BANS: &str = "query($c: ID!) { bans(conversationId: $c) { user { username } reason } }";
    let bans = app.ok(&owner.token, BANS, json!({"c": group})).await?;
    assert_eq!(
        bans["bans"],
        json!([{"user": {"username": "troll"}, "reason": "trolling"}])
    );
    let by_member = app
        .gql(Some(&member.token), BANS, json!({"c": group}))
        .await?;
    assert_eq!(error_code(&by_member), "FORBIDDEN");

    app.ok(
        &admin.token,
        "mutation($c: ID!, $u: ID!) { unbanMember(conversationId: $c, userId: $u) }",
        json!({"c": group, "u": troll.id}),
    )
    .await?;
    let back = app
        .ok(&owner.token, ADD, json!({"c": group, "u": troll.id}))
        .await?;
    assert_eq!(back["addMembers"]["memberCount"], 4);
    let bans = app.ok(&owner.token, BANS, json!({"c": group})).await?;
    assert_eq!(bans["bans"], json!([]));
    Ok(())
}

#[tokio::test]
async fn the_admin_key_reads_what_it_needs_and_every_use_is_audited() -> Result<()> {
    let app = spawn_host_app().await?;
    let ann = app.register("ann").await?;
    let bob = app.register("bob").await?;
    let direct = app.open_direct(&ann, &bob).await?;
    let message = app.send(&bob, &direct, "a private word").await?;

    let conversation = app
        .admin(
            "query($c: ID!) { adminConversation(id: $c) { id kind memberCount } }",
            json!({"c": direct}),
        )
        .await?;
    assert_eq!(conversation["adminConversation"]["memberCount"], 2);
    let history = app
        .admin("query($c: ID!) { adminMessages(conversationId: $c) { nodes { body sender { username } } } }", json!({"c": direct}))
        .await?;
    assert_eq!(
        history["adminMessages"]["nodes"][0]["body"],
        "a private word"
    );
    let one = app
        .admin(
            "query($m: ID!) { adminMessage(id: $m) { body } }",
            json!({"m": message["id"]}),
        )
        .await?;
    assert_eq!(one["adminMessage"]["body"], "a private word");
    let user = app
        .admin(
            "query($u: ID!) { adminUser(id: $u) { username } }",
            json!({"u": bob.id}),
        )
        .await?;
    assert_eq!(user["adminUser"]["username"], "bob");
    let missing = app
        .gql(
            Some(parley_tests::jwt::ADMIN_KEY),
            "{ adminUser(id: \"VXNlcjo5OTk5OTk\") { id } }",
            json!({}),
        )
        .await?;
    assert_eq!(error_code(&missing), "NOT_FOUND");
    // People get none of it.
    let person = app
        .gql(
            Some(&ann.token),
            "query($c: ID!) { adminMessages(conversationId: $c) { nodes { body } } }",
            json!({"c": direct}),
        )
        .await?;
    assert_eq!(error_code(&person), "FORBIDDEN");

    let log = app
        .admin(
            "{ auditLog(first: 10) { nodes { actor action target ok at } } }",
            json!({}),
        )
        .await?;
    let entries = log["auditLog"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let actions: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        vec![
            "adminUser",
            "adminUser",
            "adminMessage",
            "adminMessages",
            "adminConversation"
        ],
        "newest first; the person's attempt is not the host app's"
    );
    assert!(
        entries
            .iter()
            .all(|e| e["actor"] == "host_app" && e["at"].is_string())
    );
    assert_eq!(entries[0]["ok"], false);
    assert_eq!(entries[1]["ok"], true);
    assert_eq!(entries[1]["target"], format!("id={}", bob.id));
    assert_eq!(entries[3]["target"], format!("conversationId={direct}"));
    // Actions are audited too, and reading the log is itself a read.
    app.admin(
        "mutation { upsertUser(input: {externalId: \"x-1\"}) { id } }",
        json!({}),
    )
    .await?;
    let log = app
        .admin("{ auditLog(first: 2) { nodes { action } } }", json!({}))
        .await?;
    assert_eq!(
        log["auditLog"]["nodes"],
        json!([{"action": "upsertUser"}, {"action": "auditLog"}])
    );
    let person = app
        .gql(
            Some(&ann.token),
            "{ auditLog { nodes { action } } }",
            json!({}),
        )
        .await?;
    assert_eq!(error_code(&person), "FORBIDDEN");
    Ok(())
}
