use std::collections::HashSet;

use parley_tests::{error_code, spawn_app};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const HISTORY: &str = "query($c: ID!, $f: Int, $a: String, $l: Int, $b: String) {
    conversation(id: $c) { messages(first: $f, after: $a, last: $l, before: $b) {
        pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
        edges { cursor node { seq body } } } } }";

fn seqs(data: &Value) -> Vec<i64> {
    data["conversation"]["messages"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["seq"].as_i64().unwrap())
        .collect()
}

async fn message_rows(app: &parley_tests::TestApp) -> usize {
    let db = app.service.db();
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT id FROM messages",
    ))
    .await
    .unwrap()
    .len()
}

#[tokio::test]
async fn a_message_has_what_a_client_needs() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.register("sender").await?;
    let b = app.register("reader").await?;
    let id = app.open_direct(&a, &b).await?;
    let data = app
        .ok(
            &a.token,
            "mutation($c: ID!) { sendMessage(input: {conversationId: $c, body: \"  hello there \\n\"}) {
                id seq body createdAt conversationId sender { username } conversation { lastSeq } } }",
            json!({"c": id}),
        )
        .await?;
    let message = &data["sendMessage"];
    assert_eq!(message["seq"], 1);
    assert_eq!(message["body"], "hello there");
    assert_eq!(message["conversationId"], id);
    assert_eq!(message["sender"]["username"], "sender");
    assert_eq!(message["conversation"]["lastSeq"], 1);
    let created = message["createdAt"].as_str().unwrap();
    assert!(chrono_like(created), "createdAt is not RFC 3339: {created}");
    Ok(())
}

fn chrono_like(s: &str) -> bool {
    s.len() >= 20
        && s.as_bytes()[4] == b'-'
        && s.as_bytes()[10] == b'T'
        && (s.ends_with('Z') || s.contains('+'))
}

#[tokio::test]
async fn history_is_paged_by_seq() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.register("talker").await?;
    let b = app.register("listener").await?;
    let id = app.open_direct(&a, &b).await?;
    for i in 1..=120 {
        app.send(&a, &id, &format!("message {i}")).await?;
    }

    let newest = app.ok(&b.token, HISTORY, json!({"c": id, "l": 50})).await?;
    assert_eq!(seqs(&newest), (71..=120).collect::<Vec<_>>());
    let info = &newest["conversation"]["messages"]["pageInfo"];
    assert_eq!(info["hasPreviousPage"], true);
    assert_eq!(info["hasNextPage"], false);

    let older = app
        .ok(
            &b.token,
            HISTORY,
            json!({"c": id, "l": 50, "b": info["startCursor"]}),
        )
        .await?;
    assert_eq!(seqs(&older), (21..=70).collect::<Vec<_>>());
    let oldest = app
        .ok(&b.token, HISTORY, json!({"c": id, "l": 50, "b": older["conversation"]["messages"]["pageInfo"]["startCursor"]}))
        .await?;
    assert_eq!(seqs(&oldest), (1..=20).collect::<Vec<_>>());
    assert_eq!(
        oldest["conversation"]["messages"]["pageInfo"]["hasPreviousPage"],
        false
    );

    let forward = app.ok(&b.token, HISTORY, json!({"c": id, "f": 10})).await?;
    assert_eq!(seqs(&forward), (1..=10).collect::<Vec<_>>());
    let next = app
        .ok(&b.token, HISTORY, json!({"c": id, "f": 10, "a": forward["conversation"]["messages"]["pageInfo"]["endCursor"]}))
        .await?;
    assert_eq!(seqs(&next), (11..=20).collect::<Vec<_>>());

    // No arguments: the newest page.
    let default = app.ok(&b.token, HISTORY, json!({"c": id})).await?;
    assert_eq!(seqs(&default), (71..=120).collect::<Vec<_>>());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_get_gapless_seqs() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let mut users = Vec::new();
    for i in 0..20 {
        users.push(app.register(&format!("sender{i:02}")).await?);
    }
    let ids: Vec<Value> = users[1..].iter().map(|u| json!(u.id)).collect();
    let created = app
        .ok(
            &users[0].token,
            "mutation($m: [ID!]!) { createGroupConversation(input: {title: \"load\", memberIds: $m}) { id } }",
            json!({"m": ids}),
        )
        .await?;
    let conversation = created["createGroupConversation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let senders = users.iter().map(|user| {
        let app = &app;
        let conversation = conversation.clone();
        async move {
            let mut seqs = Vec::new();
            for i in 0..50 {
                let message = app
                    .send(user, &conversation, &format!("{} #{i}", user.username))
                    .await?;
                seqs.push(message["seq"].as_i64().unwrap());
            }
            anyhow::Ok(seqs)
        }
    });
    let results = futures_util::future::try_join_all(senders).await?;
    let mut all: Vec<i64> = results.iter().flatten().copied().collect();
    for seqs in &results {
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "one sender's seqs went backwards"
        );
    }
    all.sort_unstable();
    assert_eq!(all, (1..=1000).collect::<Vec<_>>());
    assert_eq!(message_rows(&app).await, 1000);
    Ok(())
}

#[tokio::test]
async fn a_repeated_client_message_id_stores_one_message() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.register("retrier").await?;
    let b = app.register("friend").await?;
    let id = app.open_direct(&a, &b).await?;
    let send = "mutation($c: ID!, $b: String!, $k: String) { sendMessage(input: {conversationId: $c, body: $b, clientMessageId: $k}) { id seq body } }";

    let mut ws = app.ws(&b.token).await.unwrap();
    ws.subscribe(
        "s",
        "subscription($c: ID!) { messageAdded(conversationId: $c) { seq body } }",
        json!({"c": id}),
    )
    .await
    .unwrap();
    // Give the subscription a moment to register before sending.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let first = app
        .ok(&a.token, send, json!({"c": id, "b": "once", "k": "k-1"}))
        .await?;
    let again = app
        .ok(&a.token, send, json!({"c": id, "b": "twice?", "k": "k-1"}))
        .await?;
    assert_eq!(first, again);
    // Concurrent retries too.
    let retries = (0..5).map(|_| app.ok(&a.token, send, json!({"c": id, "b": "race", "k": "k-2"})));
    let ids: HashSet<String> = futures_util::future::try_join_all(retries)
        .await?
        .iter()
        .map(|d| d["sendMessage"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(message_rows(&app).await, 2);

    // The same key from the other member is their own message.
    let theirs = app
        .ok(&b.token, send, json!({"c": id, "b": "mine", "k": "k-1"}))
        .await?;
    assert_eq!(theirs["sendMessage"]["seq"], 3);

    // Exactly one event per stored message.
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(
            ws.next_data("s").await.unwrap()["data"]["messageAdded"]["seq"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(seen, vec![1, 2, 3]);
    assert!(ws.quiet_for(std::time::Duration::from_millis(300)).await);
    Ok(())
}

#[tokio::test]
async fn bad_input_gets_its_code_and_writes_nothing() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.register("author").await?;
    let b = app.register("other").await?;
    let id = app.open_direct(&a, &b).await?;
    let send = "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }";
    let too_long = "é".repeat(4001);
    let cases = [
        (json!({"conversationId": id, "body": ""}), "body"),
        (json!({"conversationId": id, "body": " \n\t "}), "body"),
        (json!({"conversationId": id, "body": too_long}), "body"),
        (
            json!({"conversationId": id, "body": "x", "clientMessageId": ""}),
            "clientMessageId",
        ),
        (
            json!({"conversationId": id, "body": "x", "clientMessageId": "k".repeat(65)}),
            "clientMessageId",
        ),
        (
            json!({"conversationId": "nope", "body": "x"}),
            "conversationId",
        ),
        (
            json!({"conversationId": a.id, "body": "x"}),
            "conversationId",
        ),
    ];
    for (input, field) in cases {
        let response = app.gql(Some(&a.token), send, json!({"i": input})).await?;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field);
    }
    let pages = [
        (json!({"c": id, "f": 101}), "first"),
        (json!({"c": id, "l": -1}), "last"),
        (json!({"c": id, "f": 1, "l": 1}), "last"),
        (json!({"c": id, "a": "not-a-cursor"}), "after"),
        (json!({"c": id, "b": "bm9wZQ"}), "before"),
    ];
    for (variables, field) in pages {
        let response = app.gql(Some(&a.token), HISTORY, variables.clone()).await?;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{variables}");
        assert_eq!(
            response["errors"][0]["extensions"]["field"], field,
            "{variables}"
        );
    }
    assert_eq!(message_rows(&app).await, 0);

    // The longest allowed body is fine, counted in characters.
    let longest = "é".repeat(4000);
    app.ok(
        &a.token,
        send,
        json!({"i": {"conversationId": id, "body": longest}}),
    )
    .await?;
    assert_eq!(message_rows(&app).await, 1);
    Ok(())
}
