use std::collections::HashSet;

use parley_tests::{error_code, spawn_app};
use serde_json::{Value, json};

const OPEN: &str = "mutation($u: ID!) { openDirectConversation(userId: $u) { id kind title } }";
const INBOX: &str = "query($f: Int, $a: String) { unreadCount conversations(first: $f, after: $a) {
    pageInfo { hasNextPage endCursor }
    nodes { id kind title unreadCount lastSeq memberCount
            lastMessage { seq body sender { username } }
            members { nodes { role user { username } } } } } }";

#[tokio::test]
async fn a_direct_conversation_is_one_per_pair() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;

    let first = app.ok(&ann.token, OPEN, json!({"u": ben.id})).await?;
    let again = app.ok(&ann.token, OPEN, json!({"u": ben.id})).await?;
    let other_side = app.ok(&ben.token, OPEN, json!({"u": ann.id})).await?;
    let id = &first["openDirectConversation"]["id"];
    assert_eq!(&again["openDirectConversation"]["id"], id);
    assert_eq!(&other_side["openDirectConversation"]["id"], id);
    assert_eq!(first["openDirectConversation"]["kind"], "DIRECT");
    // The title of a direct conversation is the other person's name.
    assert_eq!(first["openDirectConversation"]["title"], "ben");
    assert_eq!(other_side["openDirectConversation"]["title"], "ann");
    Ok(())
}

#[tokio::test]
async fn concurrent_opens_yield_one_conversation() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let calls = (0..10).map(|i| {
        let (me, other) = if i % 2 == 0 {
            (&ann, &ben)
        } else {
            (&ben, &ann)
        };
        app.ok(&me.token, OPEN, json!({"u": other.id}))
    });
    let ids: HashSet<String> = futures_util::future::try_join_all(calls)
        .await?
        .into_iter()
        .map(|d| {
            d["openDirectConversation"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    Ok(())
}

#[tokio::test]
async fn opening_with_yourself_or_nobody_is_an_error() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let ann = app.register("ann").await?;
    let conversation_id = {
        let ben = app.register("ben").await?;
        app.open_direct(&ann, &ben).await?
    };
    let myself = app
        .gql(Some(&ann.token), OPEN, json!({"u": ann.id}))
        .await?;
    assert_eq!(error_code(&myself), "BAD_USER_INPUT");
    assert_eq!(myself["errors"][0]["extensions"]["field"], "userId");

    // A well-formed id of a user that does not exist.
    let ghost = "VXNlcjo5OTk5"; // base64("User:9999")
    let nobody = app.gql(Some(&ann.token), OPEN, json!({"u": ghost})).await?;
    assert_eq!(error_code(&nobody), "NOT_FOUND");

    // An id of the wrong type, and garbage.
    for bad in [conversation_id.as_str(), "garbage!"] {
        let response = app.gql(Some(&ann.token), OPEN, json!({"u": bad})).await?;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{bad}");
        assert_eq!(response["errors"][0]["extensions"]["field"], "userId");
    }
    Ok(())
}

#[tokio::test]
async fn groups_have_an_owner_and_members() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let owner = app.register("owner").await?;
    let m1 = app.register("member1").await?;
    let m2 = app.register("member2").await?;
    let create =
        "mutation($i: CreateGroupConversationInput!) { createGroupConversation(input: $i) {
        id kind title memberCount members { nodes { role user { username } } } } }";
    let data = app
        .ok(
            &owner.token,
            create,
            json!({"i": {"title": "  Study group ", "memberIds": [m1.id, m2.id, m1.id, owner.id]}}),
        )
        .await?;
    let group = &data["createGroupConversation"];
    assert_eq!(group["kind"], "GROUP");
    assert_eq!(group["title"], "Study group");
    assert_eq!(group["memberCount"], 3);
    let roles: Vec<(String, String)> = group["members"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user"]["username"].as_str().unwrap().into(),
                m["role"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        roles.contains(&("owner".into(), "OWNER".into())),
        "{roles:?}"
    );
    assert!(
        roles.contains(&("member1".into(), "MEMBER".into())),
        "{roles:?}"
    );
    assert!(
        roles.contains(&("member2".into(), "MEMBER".into())),
        "{roles:?}"
    );

    // Members are paged with opaque cursors; a forged one is refused.
    let page = "query($c: ID!, $a: String) { conversation(id: $c) { members(first: 2, after: $a) { nodes { role } pageInfo { hasNextPage endCursor } } } }";
    let gid = group["id"].as_str().unwrap();
    let first = app.ok(&owner.token, page, json!({"c": gid})).await?;
    let members = &first["conversation"]["members"];
    assert_eq!(members["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(members["pageInfo"]["hasNextPage"], true);
    let rest = app
        .ok(
            &owner.token,
            page,
            json!({"c": gid, "a": members["pageInfo"]["endCursor"]}),
        )
        .await?;
    assert_eq!(
        rest["conversation"]["members"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // base64("18446744073709551615"): the largest index there is.
    let forged = app
        .gql(
            Some(&owner.token),
            page,
            json!({"c": gid, "a": "MTg0NDY3NDQwNzM3MDk1NTE2MTU"}),
        )
        .await?;
    assert_eq!(error_code(&forged), "BAD_USER_INPUT", "{forged}");
    assert_eq!(forged["errors"][0]["extensions"]["field"], "after");

    // Members see it; they can send.
    let id = group["id"].as_str().unwrap();
    app.send(&m2, id, "hi all").await?;

    let bad_title = app
        .gql(
            Some(&owner.token),
            create,
            json!({"i": {"title": "x".repeat(129), "memberIds": [m1.id]}}),
        )
        .await?;
    assert_eq!(error_code(&bad_title), "BAD_USER_INPUT");
    assert_eq!(bad_title["errors"][0]["extensions"]["field"], "title");
    let unknown_member = app
        .gql(
            Some(&owner.token),
            create,
            json!({"i": {"title": "x", "memberIds": ["VXNlcjo5OTk5"]}}),
        )
        .await?;
    assert_eq!(error_code(&unknown_member), "BAD_USER_INPUT");
    assert_eq!(
        unknown_member["errors"][0]["extensions"]["field"],
        "memberIds"
    );
    Ok(())
}

#[tokio::test]
async fn the_inbox_is_sorted_by_activity_with_unread_counts() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let me = app.register("myself").await?;
    let a = app.register("a_friend").await?;
    let b = app.register("b_friend").await?;
    let with_a = app.open_direct(&me, &a).await?;
    let with_b = app.open_direct(&me, &b).await?;
    app.send(&a, &with_a, "one").await?;
    app.send(&a, &with_a, "two").await?;
    app.send(&b, &with_b, "three").await?;
    app.send(&me, &with_b, "my reply").await?;

    let inbox = app.ok(&me.token, INBOX, json!({})).await?;
    let nodes = inbox["conversations"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0]["id"], with_b, "most recent activity first");
    assert_eq!(nodes[0]["title"], "b_friend");
    assert_eq!(nodes[0]["lastMessage"]["body"], "my reply");
    assert_eq!(nodes[0]["lastMessage"]["sender"]["username"], "myself");
    // Sending moved my read pointer past b's message.
    assert_eq!(nodes[0]["unreadCount"], 0);
    assert_eq!(nodes[1]["unreadCount"], 2);
    assert_eq!(nodes[1]["memberCount"], 2);
    assert_eq!(inbox["unreadCount"], 2);

    // A new message moves a conversation to the top and raises the count.
    app.send(&a, &with_a, "three").await?;
    let inbox = app.ok(&me.token, INBOX, json!({})).await?;
    assert_eq!(inbox["conversations"]["nodes"][0]["id"], with_a);
    assert_eq!(inbox["conversations"]["nodes"][0]["unreadCount"], 3);
    assert_eq!(inbox["unreadCount"], 3);

    // Paging.
    let page = app.ok(&me.token, INBOX, json!({"f": 1})).await?;
    assert_eq!(page["conversations"]["pageInfo"]["hasNextPage"], true);
    let cursor = page["conversations"]["pageInfo"]["endCursor"].clone();
    let next = app
        .ok(&me.token, INBOX, json!({"f": 1, "a": cursor}))
        .await?;
    assert_eq!(next["conversations"]["nodes"][0]["id"], with_b);
    assert_eq!(next["conversations"]["pageInfo"]["hasNextPage"], false);
    Ok(())
}

#[tokio::test]
async fn mark_read_moves_forward_only() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let me = app.register("myself").await?;
    let friend = app.register("friend").await?;
    let id = app.open_direct(&me, &friend).await?;
    for i in 0..5 {
        app.send(&friend, &id, &format!("m{i}")).await?;
    }
    let mark = "mutation($c: ID!, $s: Int) { markRead(input: {conversationId: $c, upToSeq: $s}) { unreadCount lastReadSeq } }";
    let unread = |v: &Value| v["markRead"]["unreadCount"].as_i64().unwrap();
    let data = app.ok(&me.token, mark, json!({"c": id, "s": 3})).await?;
    assert_eq!(unread(&data), 2);
    assert_eq!(data["markRead"]["lastReadSeq"], 3);
    // Never back.
    let data = app.ok(&me.token, mark, json!({"c": id, "s": 1})).await?;
    assert_eq!(unread(&data), 2);
    assert_eq!(data["markRead"]["lastReadSeq"], 3);
    // Past the end is the end; without upToSeq, everything.
    let data = app.ok(&me.token, mark, json!({"c": id, "s": 99})).await?;
    assert_eq!(data["markRead"]["lastReadSeq"], 5);
    app.send(&friend, &id, "more").await?;
    let data = app.ok(&me.token, mark, json!({"c": id})).await?;
    assert_eq!(unread(&data), 0);
    let total = app.ok(&me.token, "{ unreadCount }", json!({})).await?;
    assert_eq!(total["unreadCount"], 0);

    let negative = app
        .gql(Some(&me.token), mark, json!({"c": id, "s": -1}))
        .await?;
    assert_eq!(error_code(&negative), "BAD_USER_INPUT");
    assert_eq!(negative["errors"][0]["extensions"]["field"], "upToSeq");
    Ok(())
}

#[tokio::test]
async fn the_inbox_costs_the_same_statements_for_any_page_size() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let me = app.register("myself").await?;
    for i in 0..12 {
        let friend = app.register(&format!("friend{i}")).await?;
        let id = app.open_direct(&me, &friend).await?;
        app.send(&friend, &id, "hello").await?;
    }
    let mut costs = Vec::new();
    for first in [2, 12] {
        // The event log's background poll (every 500 ms) may land inside
        // one measurement; the cheapest of three is the page's own cost.
        let mut cost = u64::MAX;
        for _ in 0..3 {
            let before = app.service.statement_count();
            let data = app.ok(&me.token, INBOX, json!({"f": first})).await?;
            cost = cost.min(app.service.statement_count() - before);
            assert_eq!(
                data["conversations"]["nodes"].as_array().unwrap().len(),
                first
            );
        }
        costs.push(cost);
    }
    assert_eq!(
        costs[0], costs[1],
        "statements per inbox page grow with its size: {costs:?}"
    );
    assert!(costs[0] <= 8, "an inbox page costs {} statements", costs[0]);
    Ok(())
}

#[tokio::test]
async fn a_non_member_sees_nothing() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.register("alpha").await?;
    let b = app.register("bravo").await?;
    let eve = app.register("eve").await?;
    let id = app.open_direct(&a, &b).await?;
    app.send(&a, &id, "secret").await?;
    let missing = "Q29udmVyc2F0aW9uOjk5OTk"; // base64("Conversation:9999")

    for target in [id.as_str(), missing] {
        let read = app
            .gql(
                Some(&eve.token),
                "query($c: ID!) { conversation(id: $c) { id messages { nodes { body } } } }",
                json!({"c": target}),
            )
            .await?;
        assert_eq!(read["data"]["conversation"], Value::Null, "{read}");
        assert!(read.get("errors").is_none());

        let send = app
            .gql(Some(&eve.token), "mutation($c: ID!) { sendMessage(input: {conversationId: $c, body: \"x\"}) { id } }", json!({"c": target}))
            .await?;
        assert_eq!(error_code(&send), "NOT_FOUND");
        assert_eq!(send["errors"][0]["message"], "conversation not found");

        let mark = app
            .gql(
                Some(&eve.token),
                "mutation($c: ID!) { markRead(input: {conversationId: $c}) { id } }",
                json!({"c": target}),
            )
            .await?;
        assert_eq!(error_code(&mark), "NOT_FOUND");
    }
    // Nothing was written for them.
    let data = app
        .ok(
            &a.token,
            "query($c: ID!) { conversation(id: $c) { lastSeq messages { nodes { body } } } }",
            json!({"c": id}),
        )
        .await?;
    assert_eq!(data["conversation"]["lastSeq"], 1);
    assert_eq!(
        data["conversation"]["messages"]["nodes"],
        json!([{"body": "secret"}])
    );
    let inbox = app.ok(&eve.token, INBOX, json!({})).await?;
    assert_eq!(inbox["conversations"]["nodes"], json!([]));
    assert_eq!(inbox["unreadCount"], 0);
    Ok(())
}
