//! Mentions (`@username` and explicit ids), their unread counts, the
//! `MentionEvent` only the mentioned member gets, and `markUnread`.

use anyhow::{Result, bail};
use parley_tests::{TestApp, TestUser, WsClient, error_code, spawn_app};
use serde_json::{Value, json};

const SEND: &str = "mutation($c: ID!, $b: String!, $m: [ID!]) { sendMessage(input: {conversationId: $c, body: $b, mentions: $m}) { id seq mentions { username } } }";
const COUNTS: &str = "query($c: ID!) { unreadCount unreadMentionCount conversation(id: $c) { unreadCount unreadMentionCount lastReadSeq } }";
const EDIT: &str =
    "mutation($m: ID!, $b: String!) { editMessage(id: $m, body: $b) { id mentions { username } } }";
const MARK_UNREAD: &str = "mutation($c: ID!, $s: Int!) { markUnread(conversationId: $c, fromSeq: $s) { id unreadCount unreadMentionCount lastReadSeq } }";
const MARK_READ: &str = "mutation($c: ID!) { markRead(input: {conversationId: $c}) { id } }";
const EVENTS: &str = "subscription { events { __typename cursor conversationId
    ... on MessageAddedEvent { message { id } }
    ... on MentionEvent { message { id body } user { username } }
    ... on ReadReceiptEvent { user { username } lastReadSeq }
    ... on UnreadCountsChangedEvent { unreadCount totalUnreadCount unreadMentionCount totalUnreadMentionCount }
} }";

fn field(response: &Value) -> &str {
    response["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("<none>")
}

async fn group(app: &TestApp, owner: &TestUser, members: &[&TestUser]) -> Result<String> {
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

async fn send(
    app: &TestApp,
    user: &TestUser,
    c: &str,
    body: &str,
    mentions: Option<Vec<&str>>,
) -> Result<Value> {
    Ok(app
        .ok(&user.token, SEND, json!({"c": c, "b": body, "m": mentions}))
        .await?["sendMessage"]
        .clone())
}

fn names(message: &Value) -> Vec<String> {
    message["mentions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u["username"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `(conversation unread, conversation mentions, total unread, total mentions)`.
async fn counts(app: &TestApp, user: &TestUser, c: &str) -> Result<(i64, i64, i64, i64)> {
    let data = app.ok(&user.token, COUNTS, json!({"c": c})).await?;
    let n = |v: &Value| v.as_i64().unwrap_or(-1);
    Ok((
        n(&data["conversation"]["unreadCount"]),
        n(&data["conversation"]["unreadMentionCount"]),
        n(&data["unreadCount"]),
        n(&data["unreadMentionCount"]),
    ))
}

/// The next event that is not presence.
async fn next_event(ws: &mut WsClient) -> Result<Value> {
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

async fn live(app: &TestApp, user: &TestUser) -> Result<WsClient> {
    let mut ws = app.ws(&user.token).await?;
    ws.subscribe("e", EVENTS, json!({})).await?;
    while next_event(&mut ws).await?["__typename"] != "StreamLiveEvent" {}
    Ok(ws)
}

#[tokio::test]
async fn usernames_and_ids_mention_members_only() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("Ben.B").await?;
    let cyd = app.register("cyd").await?;
    let out = app.register("outsider").await?;
    let c = group(&app, &ann, &[&ben, &cyd]).await?;

    // Case does not matter; a trailing full stop ends the sentence; the
    // sender, an e-mail address and a non-member mention no one.
    let m = send(
        &app,
        &ann,
        &c,
        "hi @ben.b. and @ann, mail x@cyd.example, @outsider",
        None,
    )
    .await?;
    assert_eq!(names(&m), ["Ben.B"]);
    // Explicit ids: members count (once, with the body's), others are
    // ignored.
    let m2 = send(
        &app,
        &ann,
        &c,
        "see @cyd",
        Some(vec![&cyd.id, &out.id, &ben.id]),
    )
    .await?;
    let mut got = names(&m2);
    got.sort();
    assert_eq!(got, ["Ben.B", "cyd"]);
    // A plain message mentions no one.
    assert!(names(&send(&app, &ann, &c, "no one", None).await?).is_empty());

    assert_eq!(counts(&app, &ben, &c).await?, (3, 2, 3, 2));
    assert_eq!(counts(&app, &cyd, &c).await?, (3, 1, 3, 1));
    assert_eq!(counts(&app, &ann, &c).await?, (0, 0, 0, 0));
    assert_eq!(counts(&app, &out, &c).await?.3, 0);

    // Muting hides the unread count from the total, not the mentions.
    app.ok(
        &ben.token,
        "mutation($c: ID!) { muteConversation(id: $c) { id } }",
        json!({"c": c}),
    )
    .await?;
    assert_eq!(counts(&app, &ben, &c).await?, (3, 2, 0, 2));

    // Reading reads the mentions.
    app.ok(&ben.token, MARK_READ, json!({"c": c})).await?;
    assert_eq!(counts(&app, &ben, &c).await?, (0, 0, 0, 0));

    // Too many explicit ids are refused, naming the field.
    let many: Vec<String> = (0..51).map(|_| cyd.id.clone()).collect();
    let refused = app
        .gql(Some(&ann.token), SEND, json!({"c": c, "b": "x", "m": many}))
        .await?;
    assert_eq!(
        (error_code(&refused), field(&refused)),
        ("BAD_USER_INPUT", "mentions")
    );
    Ok(())
}

#[tokio::test]
async fn edits_add_and_remove_mentions_and_deletes_uncount_them() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let cyd = app.register("cyd").await?;
    let c = group(&app, &ann, &[&ben, &cyd]).await?;
    let m = send(&app, &ann, &c, "hey @ben", None).await?;
    let id = m["id"].as_str().unwrap_or_default();
    assert_eq!(counts(&app, &ben, &c).await?.1, 1);

    let edited = app
        .ok(&ann.token, EDIT, json!({"m": id, "b": "hey @cyd"}))
        .await?;
    assert_eq!(names(&edited["editMessage"]), ["cyd"]);
    assert_eq!(counts(&app, &ben, &c).await?.1, 0);
    assert_eq!(counts(&app, &cyd, &c).await?.1, 1);

    // An explicit mention survives edits of the body.
    let m2 = send(&app, &ann, &c, "look", Some(vec![&ben.id])).await?;
    let id2 = m2["id"].as_str().unwrap_or_default();
    let edited = app
        .ok(&ann.token, EDIT, json!({"m": id2, "b": "look again"}))
        .await?;
    assert_eq!(names(&edited["editMessage"]), ["ben"]);
    assert_eq!(counts(&app, &ben, &c).await?.1, 1);

    app.ok(
        &ann.token,
        "mutation($m: ID!) { deleteMessage(id: $m) { id mentions { username } } }",
        json!({"m": id2}),
    )
    .await?;
    assert_eq!(counts(&app, &ben, &c).await?.1, 0);
    Ok(())
}

#[tokio::test]
async fn only_the_mentioned_member_gets_the_mention_event() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let cyd = app.register("cyd").await?;
    let c = group(&app, &ann, &[&ben, &cyd]).await?;
    let mut ben_ws = live(&app, &ben).await?;
    let mut cyd_ws = live(&app, &cyd).await?;

    let m = send(&app, &ann, &c, "@ben look", None).await?;
    // ben: the message, his counts, the mention, his counts again.
    let mut mention = None;
    let mut last_counts = None;
    for _ in 0..4 {
        let e = next_event(&mut ben_ws).await?;
        match e["__typename"].as_str() {
            Some("MentionEvent") => mention = Some(e),
            Some("UnreadCountsChangedEvent") => last_counts = Some(e),
            _ => {}
        }
    }
    let mention = mention.unwrap_or_default();
    assert_eq!(mention["message"]["id"], m["id"]);
    assert_eq!(mention["user"]["username"], "ben");
    assert_eq!(mention["conversationId"], c);
    assert!(mention["cursor"].is_string());
    let last_counts = last_counts.unwrap_or_default();
    assert_eq!(last_counts["unreadMentionCount"], 1);
    assert_eq!(last_counts["totalUnreadMentionCount"], 1);

    // cyd: the message and her counts, no mention.
    for _ in 0..2 {
        let e = next_event(&mut cyd_ws).await?;
        assert_ne!(e["__typename"], "MentionEvent");
        if e["__typename"] == "UnreadCountsChangedEvent" {
            assert_eq!(e["unreadMentionCount"], 0);
        }
    }
    // Nothing of ben's mention slipped in: cyd's next event is the next
    // message.
    let m2 = send(&app, &ann, &c, "plain", None).await?;
    let e = next_event(&mut cyd_ws).await?;
    assert_eq!(e["__typename"], "MessageAddedEvent", "{e}");
    assert_eq!(e["message"]["id"], m2["id"]);
    Ok(())
}

#[tokio::test]
async fn mark_unread_moves_the_pointer_back_and_tells_other_clients() -> Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = group(&app, &ann, &[&ben]).await?;
    send(&app, &ann, &c, "one", None).await?;
    let two = send(&app, &ann, &c, "two @ben", None).await?["seq"]
        .as_i64()
        .unwrap_or_default();
    send(&app, &ann, &c, "three", None).await?;
    let last = send(&app, &ben, &c, "mine", None).await?["seq"]
        .as_i64()
        .unwrap_or_default();
    assert_eq!(counts(&app, &ben, &c).await?, (0, 0, 0, 0));

    let mut other_client = live(&app, &ben).await?;
    let marked = app
        .ok(&ben.token, MARK_UNREAD, json!({"c": c, "s": two}))
        .await?;
    let conversation = &marked["markUnread"];
    assert_eq!(conversation["lastReadSeq"], two - 1);
    assert_eq!(conversation["unreadCount"], 2);
    assert_eq!(conversation["unreadMentionCount"], 1);
    assert_eq!(counts(&app, &ben, &c).await?, (2, 1, 2, 1));

    let receipt = next_event(&mut other_client).await?;
    assert_eq!(receipt["__typename"], "ReadReceiptEvent");
    assert_eq!(receipt["lastReadSeq"], two - 1);
    let update = next_event(&mut other_client).await?;
    assert_eq!(update["__typename"], "UnreadCountsChangedEvent");
    assert_eq!(
        (&update["unreadCount"], &update["unreadMentionCount"]),
        (&json!(2), &json!(1))
    );

    // The same point again changes nothing and logs nothing.
    app.ok(&ben.token, MARK_UNREAD, json!({"c": c, "s": two}))
        .await?;
    assert!(
        other_client
            .quiet_for(std::time::Duration::from_millis(300))
            .await
    );

    for bad in [0, last + 1] {
        let refused = app
            .gql(Some(&ben.token), MARK_UNREAD, json!({"c": c, "s": bad}))
            .await?;
        assert_eq!(
            (error_code(&refused), field(&refused)),
            ("BAD_USER_INPUT", "fromSeq"),
            "{bad}"
        );
    }
    // markRead still moves it forward.
    app.ok(&ben.token, MARK_READ, json!({"c": c})).await?;
    assert_eq!(counts(&app, &ben, &c).await?, (0, 0, 0, 0));
    Ok(())
}
