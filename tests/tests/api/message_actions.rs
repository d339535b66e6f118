//! Editing, deleting, replies and threads, reactions: what members may do
//! to messages after they are sent, what everyone else sees, and the
//! events each change logs.

use parley_tests::{TestApp, TestUser, decode_id, error_code, spawn_app, spawn_app_with};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use service::entity::event;

const EDIT: &str = "mutation($m: ID!, $b: String!) { editMessage(id: $m, body: $b) { id seq body editedAt edits { body editedAt } } }";
const DELETE: &str = "mutation($m: ID!) { deleteMessage(id: $m) { id seq body deletedAt metadata edits { body } reactions { emoji } } }";
const REACT: &str = "mutation($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { id reactions { emoji count reactedByMe } } }";
const UNREACT: &str = "mutation($m: ID!, $e: String!) { removeReaction(messageId: $m, emoji: $e) { id reactions { emoji count reactedByMe } } }";
const REPLY: &str = "mutation($c: ID!, $b: String!, $r: ID) { sendMessage(input: {conversationId: $c, body: $b, replyToId: $r}) { id seq createdAt threadRootId replyTo { id body } } }";
const MESSAGE: &str = "query($m: ID!) { node(id: $m) { ... on Message { id seq body editedAt deletedAt edits { body } replyCount lastReplyAt threadRootId replyTo { id } reactions { emoji count reactedByMe } } } }";
const HISTORY: &str = "query($c: ID!) { conversation(id: $c) { lastSeq messages(last: 100) { nodes { id seq kind body editedAt deletedAt edits { body } } } } }";
const UNREAD: &str = "query($c: ID!) { unreadCount conversation(id: $c) { unreadCount } }";

fn field(response: &Value) -> &str {
    response["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("<none>")
}

/// A group owned by `owner` with `members`; its id.
async fn group(app: &TestApp, owner: &TestUser, members: &[&TestUser]) -> anyhow::Result<String> {
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
        .unwrap()
        .to_owned())
}

async fn make_admin(
    app: &TestApp,
    owner: &TestUser,
    group: &str,
    user: &TestUser,
) -> anyhow::Result<()> {
    app.ok(
        &owner.token,
        "mutation($c: ID!, $u: ID!) { setMemberRole(conversationId: $c, userId: $u, role: ADMIN) { id } }",
        json!({"c": group, "u": user.id}),
    )
    .await?;
    Ok(())
}

/// Sends `body` and returns the message's id.
async fn send_id(app: &TestApp, user: &TestUser, c: &str, body: &str) -> anyhow::Result<String> {
    Ok(app.send(user, c, body).await?["id"]
        .as_str()
        .unwrap()
        .to_owned())
}

async fn message(app: &TestApp, viewer: &TestUser, id: &str) -> anyhow::Result<Value> {
    Ok(app.ok(&viewer.token, MESSAGE, json!({"m": id})).await?["node"].clone())
}

/// Event rows of `kind` about message `id` (a global id).
async fn events_of(app: &TestApp, kind: event::Kind, id: &str) -> anyhow::Result<u64> {
    Ok(event::Entity::find()
        .filter(event::Column::Kind.eq(kind))
        .filter(event::Column::MessageId.eq(decode_id(id)?))
        .count(app.service.db())
        .await?)
}

/// `(per-conversation, total)` unread counts of `viewer`.
async fn unread(app: &TestApp, viewer: &TestUser, c: &str) -> anyhow::Result<(i64, i64)> {
    let data = app.ok(&viewer.token, UNREAD, json!({"c": c})).await?;
    Ok((
        data["conversation"]["unreadCount"].as_i64().unwrap(),
        data["unreadCount"].as_i64().unwrap(),
    ))
}

#[tokio::test]
async fn an_author_edits_and_members_see_the_history() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let id = send_id(&app, &ann, &c, "helo").await?;

    let edited = app
        .ok(&ann.token, EDIT, json!({"m": id, "b": "  hello  "}))
        .await?["editMessage"]
        .clone();
    assert_eq!(edited["body"], "hello");
    assert_eq!(edited["seq"], 1);
    assert!(edited["editedAt"].is_string());
    assert_eq!(edited["edits"][0]["body"], "helo");
    assert_eq!(edited["edits"][0]["editedAt"], edited["editedAt"]);
    app.ok(&ann.token, EDIT, json!({"m": id, "b": "hello, Ben"}))
        .await?;
    // The same body again is no change: no new version, no event.
    app.ok(&ann.token, EDIT, json!({"m": id, "b": "hello, Ben"}))
        .await?;

    // Ben reads the history: the new body, both earlier versions.
    let history = app.ok(&ben.token, HISTORY, json!({"c": c})).await?;
    let seen = &history["conversation"]["messages"]["nodes"][0];
    assert_eq!(seen["body"], "hello, Ben");
    assert!(seen["editedAt"].is_string());
    assert_eq!(seen["edits"], json!([{"body": "helo"}, {"body": "hello"}]));
    assert_eq!(events_of(&app, event::Kind::MessageEdited, &id).await?, 2);

    // Only the author edits.
    let response = app
        .gql(Some(&ben.token), EDIT, json!({"m": id, "b": "mine now"}))
        .await?;
    assert_eq!(error_code(&response), "FORBIDDEN", "{response}");
    for bad in ["   ", &"x".repeat(4001)] {
        let response = app
            .gql(Some(&ann.token), EDIT, json!({"m": id, "b": bad}))
            .await?;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
        assert_eq!(field(&response), "body");
    }
    assert_eq!(message(&app, &ben, &id).await?["body"], "hello, Ben");
    assert_eq!(events_of(&app, event::Kind::MessageEdited, &id).await?, 2);
    Ok(())
}

#[tokio::test]
async fn authors_and_group_managers_delete_and_plain_members_do_not() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let owner = app.register("owner").await?;
    let admin = app.register("admin").await?;
    let member = app.register("member").await?;
    let c = group(&app, &owner, &[&admin, &member]).await?;
    make_admin(&app, &owner, &c, &admin).await?;

    let by_owner = send_id(&app, &owner, &c, "owner's").await?;
    let by_admin = send_id(&app, &admin, &c, "admin's").await?;
    let first = send_id(&app, &member, &c, "member's first").await?;
    let second = send_id(&app, &member, &c, "member's second").await?;
    let third = send_id(&app, &member, &c, "member's third").await?;
    app.ok(&member.token, EDIT, json!({"m": first, "b": "edited"}))
        .await?;
    app.ok(&owner.token, REACT, json!({"m": first, "e": "🎉"}))
        .await?;

    // A plain member deletes only their own messages.
    for other in [&by_owner, &by_admin] {
        let response = app
            .gql(Some(&member.token), DELETE, json!({"m": other}))
            .await?;
        assert_eq!(error_code(&response), "FORBIDDEN", "{response}");
    }
    // Managers delete any message of the group, the owner's included.
    app.ok(&admin.token, DELETE, json!({"m": by_owner})).await?;
    app.ok(&owner.token, DELETE, json!({"m": second})).await?;
    app.ok(&admin.token, DELETE, json!({"m": third})).await?;

    // The author's own delete: a tombstone in the same seq, content gone.
    let seq = message(&app, &owner, &first).await?["seq"].clone();
    let tombstone =
        app.ok(&member.token, DELETE, json!({"m": first})).await?["deleteMessage"].clone();
    assert_eq!(tombstone["seq"], seq);
    assert_eq!(tombstone["body"], "");
    assert!(tombstone["deletedAt"].is_string());
    assert!(tombstone["metadata"].is_null());
    assert_eq!(tombstone["edits"], json!([]));
    assert_eq!(tombstone["reactions"], json!([]));
    // Deleting again returns the tombstone and logs nothing.
    let again = app.ok(&member.token, DELETE, json!({"m": first})).await?["deleteMessage"].clone();
    assert_eq!(again["deletedAt"], tombstone["deletedAt"]);

    // Others reading the history see tombstones in place.
    let history = app.ok(&owner.token, HISTORY, json!({"c": c})).await?;
    let nodes = history["conversation"]["messages"]["nodes"]
        .as_array()
        .unwrap();
    let deleted: Vec<&Value> = nodes
        .iter()
        .filter(|m| m["deletedAt"].is_string())
        .collect();
    assert_eq!(deleted.len(), 4);
    assert!(deleted.iter().all(|m| m["body"] == ""));
    let seqs: Vec<i64> = nodes.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());

    // A tombstone cannot be edited or reacted to.
    let response = app
        .gql(Some(&member.token), EDIT, json!({"m": first, "b": "back"}))
        .await?;
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
    assert_eq!(field(&response), "id");
    let response = app
        .gql(Some(&owner.token), REACT, json!({"m": first, "e": "👍"}))
        .await?;
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
    assert_eq!(field(&response), "messageId");

    for id in [&by_owner, &second, &third, &first] {
        assert_eq!(events_of(&app, event::Kind::MessageDeleted, id).await?, 1);
    }
    assert_eq!(
        events_of(&app, event::Kind::MessageDeleted, &by_admin).await?,
        0
    );
    Ok(())
}

#[tokio::test]
async fn system_messages_cannot_be_changed() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let owner = app.register("owner").await?;
    let ben = app.register("ben").await?;
    let cy = app.register("cyd").await?;
    let c = group(&app, &owner, &[&ben]).await?;
    app.ok(
        &owner.token,
        "mutation($c: ID!, $u: [ID!]!) { addMembers(conversationId: $c, userIds: $u) { id } }",
        json!({"c": c, "u": [cy.id]}),
    )
    .await?;
    let history = app.ok(&owner.token, HISTORY, json!({"c": c})).await?;
    let notice = history["conversation"]["messages"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "SYSTEM")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (query, vars, field_name) in [
        (EDIT, json!({"m": notice, "b": "x"}), "id"),
        (DELETE, json!({"m": notice}), "id"),
        (REACT, json!({"m": notice, "e": "👍"}), "messageId"),
        (REPLY, json!({"c": c, "b": "x", "r": notice}), "replyToId"),
    ] {
        let response = app.gql(Some(&owner.token), query, vars).await?;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
        assert_eq!(field(&response), field_name);
    }
    Ok(())
}

#[tokio::test]
async fn a_delete_takes_the_message_out_of_unread_counts() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let cy = app.register("cyd").await?;
    let c = group(&app, &ann, &[&ben, &cy]).await?;
    let first = send_id(&app, &ann, &c, "one").await?;
    let second = send_id(&app, &ann, &c, "two").await?;
    send_id(&app, &ann, &c, "three").await?;
    let seq = message(&app, &ben, &first).await?["seq"].as_i64().unwrap();
    app.ok(
        &ben.token,
        "mutation($c: ID!, $s: Int) { markRead(input: {conversationId: $c, upToSeq: $s}) { id } }",
        json!({"c": c, "s": seq}),
    )
    .await?;
    assert_eq!(unread(&app, &ben, &c).await?, (2, 2));
    assert_eq!(unread(&app, &cy, &c).await?, (3, 3));

    // Unread for both: both lose one.
    app.ok(&ann.token, DELETE, json!({"m": second})).await?;
    assert_eq!(unread(&app, &ben, &c).await?, (1, 1));
    assert_eq!(unread(&app, &cy, &c).await?, (2, 2));
    assert_eq!(unread(&app, &ann, &c).await?, (0, 0));
    // Ben had read the first one: only Cy's count drops.
    app.ok(&ann.token, DELETE, json!({"m": first})).await?;
    assert_eq!(unread(&app, &ben, &c).await?, (1, 1));
    assert_eq!(unread(&app, &cy, &c).await?, (1, 1));
    // A recount (marking read part of the way) skips tombstones too.
    app.ok(
        &cy.token,
        "mutation($c: ID!, $s: Int) { markRead(input: {conversationId: $c, upToSeq: $s}) { unreadCount } }",
        json!({"c": c, "s": seq}),
    )
    .await?;
    assert_eq!(unread(&app, &cy, &c).await?, (1, 1));
    Ok(())
}

#[tokio::test]
async fn replies_form_threads_in_the_timeline() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let root = send_id(&app, &ann, &c, "lunch?").await?;
    let reply = |user: &TestUser, body: &str, to: &str| {
        let (token, vars) = (user.token.clone(), json!({"c": c, "b": body, "r": to}));
        let app = &app;
        async move { anyhow::Ok(app.ok(&token, REPLY, vars).await?["sendMessage"].clone()) }
    };
    let first = reply(&ben, "yes", &root).await?;
    assert_eq!(first["seq"], 2);
    assert_eq!(first["replyTo"]["id"], root.as_str());
    assert_eq!(first["threadRootId"], root.as_str());
    // Replies are timeline messages too: the next seq, in between.
    send_id(&app, &ann, &c, "unrelated").await?;
    let second = reply(&ann, "where?", first["id"].as_str().unwrap()).await?;
    assert_eq!(second["seq"], 4);
    // A reply to a reply names its target and joins the root's thread.
    assert_eq!(second["replyTo"]["id"], first["id"]);
    assert_eq!(second["replyTo"]["body"], "yes");
    assert_eq!(second["threadRootId"], root.as_str());
    let third = reply(&ben, "the usual", &root).await?;

    let seen = message(&app, &ben, &root).await?;
    assert_eq!(seen["replyCount"], 3);
    assert_eq!(seen["lastReplyAt"], third["createdAt"]);
    assert!(seen["threadRootId"].is_null());
    assert!(seen["replyTo"].is_null());
    assert_eq!(
        message(&app, &ben, first["id"].as_str().unwrap()).await?["replyCount"],
        0
    );

    // The thread, oldest first, paged.
    const REPLIES: &str = "query($m: ID!, $a: String) { node(id: $m) { ... on Message { replies(first: 2, after: $a) { nodes { body } pageInfo { hasNextPage endCursor } } } } }";
    let page = app
        .ok(&ann.token, REPLIES, json!({"m": root, "a": null}))
        .await?["node"]["replies"]
        .clone();
    assert_eq!(page["nodes"], json!([{"body": "yes"}, {"body": "where?"}]));
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let next = app
        .ok(
            &ann.token,
            REPLIES,
            json!({"m": root, "a": page["pageInfo"]["endCursor"]}),
        )
        .await?["node"]["replies"]
        .clone();
    assert_eq!(next["nodes"], json!([{"body": "the usual"}]));
    assert_eq!(next["pageInfo"]["hasNextPage"], false);

    // A deleted reply leaves the count; the last reply time steps back.
    app.ok(&ben.token, DELETE, json!({"m": third["id"]}))
        .await?;
    let seen = message(&app, &ann, &root).await?;
    assert_eq!(seen["replyCount"], 2);
    assert_eq!(seen["lastReplyAt"], second["createdAt"]);
    Ok(())
}

#[tokio::test]
async fn a_reply_must_answer_a_live_message_of_the_same_conversation() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let cy = app.register("cyd").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let elsewhere = app.open_direct(&ann, &cy).await?;
    let other = send_id(&app, &ann, &elsewhere, "elsewhere").await?;
    let gone = send_id(&app, &ann, &c, "gone").await?;
    app.ok(&ann.token, DELETE, json!({"m": gone})).await?;
    let missing = "TWVzc2FnZTo5OTk5OTk5";
    for target in [other.as_str(), gone.as_str(), missing] {
        let response = app
            .gql(
                Some(&ann.token),
                REPLY,
                json!({"c": c, "b": "re", "r": target}),
            )
            .await?;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
        assert_eq!(field(&response), "replyToId");
    }
    let response = app
        .gql(Some(&ann.token), REPLY, json!({"c": c, "b": "re", "r": c}))
        .await?;
    assert_eq!(field(&response), "replyToId", "{response}");
    // Nothing was stored.
    let history = app.ok(&ann.token, HISTORY, json!({"c": c})).await?;
    assert_eq!(history["conversation"]["lastSeq"], 1);
    // Someone outside the conversation learns nothing about the target.
    let response = app
        .gql(
            Some(&cy.token),
            REPLY,
            json!({"c": c, "b": "re", "r": gone}),
        )
        .await?;
    assert_eq!(error_code(&response), "NOT_FOUND", "{response}");
    Ok(())
}

#[tokio::test]
async fn reactions_count_people_and_repeating_one_changes_nothing() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let cy = app.register("cyd").await?;
    let c = group(&app, &ann, &[&ben, &cy]).await?;
    let id = send_id(&app, &ann, &c, "ship it?").await?;

    let first = app
        .ok(&ben.token, REACT, json!({"m": id, "e": "👍"}))
        .await?;
    let again = app
        .ok(&ben.token, REACT, json!({"m": id, "e": "👍"}))
        .await?;
    assert_eq!(first, again);
    assert_eq!(
        again["addReaction"]["reactions"],
        json!([{"emoji": "👍", "count": 1, "reactedByMe": true}])
    );
    app.ok(&cy.token, REACT, json!({"m": id, "e": "🚀"}))
        .await?;
    app.ok(&cy.token, REACT, json!({"m": id, "e": "👍"}))
        .await?;
    // A family emoji is one emoji of several characters.
    app.ok(&ann.token, REACT, json!({"m": id, "e": "👨‍👩‍👧"}))
        .await?;

    // In order of first use, with each viewer's own share.
    let by_ann = message(&app, &ann, &id).await?["reactions"].clone();
    assert_eq!(
        by_ann,
        json!([
            {"emoji": "👍", "count": 2, "reactedByMe": false},
            {"emoji": "🚀", "count": 1, "reactedByMe": false},
            {"emoji": "👨‍👩‍👧", "count": 1, "reactedByMe": true},
        ])
    );
    let by_cy = message(&app, &cy, &id).await?["reactions"].clone();
    assert_eq!(by_cy[0]["reactedByMe"], true);
    assert_eq!(by_cy[1]["reactedByMe"], true);
    assert_eq!(by_cy[2]["reactedByMe"], false);

    let removed = app
        .ok(&ben.token, UNREACT, json!({"m": id, "e": "👍"}))
        .await?;
    // Order follows the earliest reaction that still stands: Cy's 👍
    // came after the 🚀.
    assert_eq!(
        removed["removeReaction"]["reactions"],
        json!([
            {"emoji": "🚀", "count": 1, "reactedByMe": false},
            {"emoji": "👍", "count": 1, "reactedByMe": false},
            {"emoji": "👨‍👩‍👧", "count": 1, "reactedByMe": false},
        ])
    );
    // Removing one that is not there is fine, and changes nothing.
    app.ok(&ben.token, UNREACT, json!({"m": id, "e": "👍"}))
        .await?;
    // Four additions and one removal really changed something.
    assert_eq!(events_of(&app, event::Kind::ReactionChanged, &id).await?, 5);
    let last = event::Entity::find()
        .filter(event::Column::Kind.eq(event::Kind::ReactionChanged))
        .filter(event::Column::MessageId.eq(decode_id(&id)?))
        .filter(event::Column::UserId.eq(decode_id(&ben.id)?))
        .all(app.service.db())
        .await?;
    let data: Vec<Value> = last
        .iter()
        .map(|e| serde_json::from_str(e.data.as_deref().unwrap()).unwrap())
        .collect();
    assert_eq!(
        data,
        vec![
            json!({"emoji": "👍", "added": true}),
            json!({"emoji": "👍", "added": false})
        ]
    );

    let long = "😀".repeat(9); // 36 bytes
    let many = "a".repeat(17);
    for bad in ["", " ", "👍 👍", "\t", &long, &many] {
        for query in [REACT, UNREACT] {
            let response = app
                .gql(Some(&ben.token), query, json!({"m": id, "e": bad}))
                .await?;
            assert_eq!(
                error_code(&response),
                "BAD_USER_INPUT",
                "{bad:?}: {response}"
            );
            assert_eq!(field(&response), "emoji");
        }
    }
    Ok(())
}

/// A hostile member cannot grow a message's reactions without bound, nor
/// react with something invisible; a reaction already there can always be
/// repeated.
#[tokio::test]
async fn reactions_are_bounded_and_visible() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let cy = app.register("cyd").await?;
    let dee = app.register("dee").await?;
    let c = group(&app, &ann, &[&ben, &cy, &dee]).await?;
    let id = send_id(&app, &ann, &c, "vote").await?;

    for i in 0..20 {
        app.ok(&ben.token, REACT, json!({"m": id, "e": format!("b{i}")}))
            .await?;
    }
    let over = app
        .gql(Some(&ben.token), REACT, json!({"m": id, "e": "b20"}))
        .await?;
    assert_eq!((error_code(&over), field(&over)), ("CONFLICT", "emoji"));
    // Repeating one of them is still the no-op it always was.
    app.ok(&ben.token, REACT, json!({"m": id, "e": "b3"}))
        .await?;
    for i in 0..20 {
        app.ok(&cy.token, REACT, json!({"m": id, "e": format!("c{i}")}))
            .await?;
    }
    for i in 0..10 {
        app.ok(&dee.token, REACT, json!({"m": id, "e": format!("d{i}")}))
            .await?;
    }
    // Fifty different emoji: a new one is refused, joining one is not.
    let full = app
        .gql(Some(&ann.token), REACT, json!({"m": id, "e": "new"}))
        .await?;
    assert_eq!((error_code(&full), field(&full)), ("CONFLICT", "emoji"));
    app.ok(&ann.token, REACT, json!({"m": id, "e": "b0"}))
        .await?;
    let groups = message(&app, &ann, &id).await?["reactions"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(groups, 50);

    for invisible in ["\u{200B}", "a\u{202E}", "\u{FEFF}"] {
        let response = app
            .gql(Some(&ann.token), REACT, json!({"m": id, "e": invisible}))
            .await?;
        assert_eq!(
            (error_code(&response), field(&response)),
            ("BAD_USER_INPUT", "emoji"),
            "{invisible:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn to_non_members_a_message_does_not_exist() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let eve = app.register("eve").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let id = send_id(&app, &ann, &c, "private").await?;
    let missing = "TWVzc2FnZTo5OTk5OTk5";
    for target in [id.as_str(), missing] {
        for (query, vars) in [
            (EDIT, json!({"m": target, "b": "x"})),
            (DELETE, json!({"m": target})),
            (REACT, json!({"m": target, "e": "👍"})),
            (UNREACT, json!({"m": target, "e": "👍"})),
        ] {
            let response = app.gql(Some(&eve.token), query, vars).await?;
            assert_eq!(error_code(&response), "NOT_FOUND", "{response}");
        }
        assert!(message(&app, &eve, target).await?.is_null());
    }
    // Nothing changed.
    let seen = message(&app, &ben, &id).await?;
    assert_eq!(seen["body"], "private");
    assert_eq!(seen["reactions"], json!([]));
    Ok(())
}

#[tokio::test]
async fn a_page_of_messages_reads_their_reactions_in_a_fixed_number_of_statements()
-> anyhow::Result<()> {
    // The statement counter is the whole server's: the timers that write
    // in the background (receipts, webhook leases) wait out the test.
    let app = spawn_app_with(|c| {
        c.delivery_flush = std::time::Duration::from_secs(3600);
        c.webhook_poll = std::time::Duration::from_secs(3600);
        c.webhook_lease = std::time::Duration::from_secs(3 * 3600);
    })
    .await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let mut previous: Option<String> = None;
    for i in 0..50 {
        let id = match &previous {
            // Every other message replies to the one before it.
            Some(to) if i % 2 == 1 => app
                .ok(
                    &ann.token,
                    REPLY,
                    json!({"c": c, "b": format!("m{i}"), "r": to}),
                )
                .await?["sendMessage"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
            _ => send_id(&app, &ann, &c, &format!("m{i}")).await?,
        };
        app.ok(&ben.token, REACT, json!({"m": id, "e": "👍"}))
            .await?;
        app.ok(&ann.token, EDIT, json!({"m": id, "b": format!("m{i}!")}))
            .await?;
        previous = Some(id);
    }
    let page = |n: i64| {
        let app = &app;
        let (token, c) = (ben.token.clone(), c.clone());
        async move {
            let before = app.service.statement_count();
            let data = app
                .ok(
                    &token,
                    "query($c: ID!, $n: Int) { conversation(id: $c) { messages(last: $n) { nodes { id edits { body } replyTo { id } reactions { emoji count reactedByMe } } } } }",
                    json!({"c": c, "n": n}),
                )
                .await?;
            let nodes = data["conversation"]["messages"]["nodes"]
                .as_array()
                .map_or(0, Vec::len);
            anyhow::Ok((nodes, app.service.statement_count() - before))
        }
    };
    let (small, small_cost) = page(5).await?;
    let (large, large_cost) = page(50).await?;
    assert_eq!((small, large), (5, 50));
    // Per-message reads would cost 50 or more; a background poll of the
    // event log may add a statement to either.
    assert!(
        large_cost <= small_cost + 2,
        "5 messages: {small_cost} statements; 50: {large_cost}"
    );
    Ok(())
}
