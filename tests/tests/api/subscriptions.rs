use std::time::Duration;

use parley_tests::spawn_app;
use serde_json::json;

const FOLLOW: &str = "subscription($c: ID!, $after: Int) { messageAdded(conversationId: $c, afterSeq: $after) { seq body sender { username } } }";

#[tokio::test]
async fn a_subscriber_receives_what_the_other_sends() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.register("writer").await?;
    let b = app.register("watcher").await?;
    let id = app.open_direct(&a, &b).await?;
    let mut ws = app.ws(&b.token).await.unwrap();
    ws.subscribe("1", FOLLOW, json!({"c": id})).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    app.send(&a, &id, "hello, live").await?;
    let payload = ws.next_data("1").await.unwrap();
    assert_eq!(
        payload["data"]["messageAdded"],
        json!({"seq": 1, "body": "hello, live", "sender": {"username": "writer"}})
    );
    // The sender's own messages arrive too (other tabs, other devices).
    app.send(&b, &id, "and back").await?;
    let payload = ws.next_data("1").await.unwrap();
    assert_eq!(
        payload["data"]["messageAdded"]["sender"]["username"],
        "watcher"
    );
    Ok(())
}

#[tokio::test]
async fn resuming_with_after_seq_delivers_exactly_the_missed_messages() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.register("writer").await?;
    let b = app.register("reader").await?;
    let id = app.open_direct(&a, &b).await?;

    let mut ws = app.ws(&b.token).await.unwrap();
    ws.subscribe("1", FOLLOW, json!({"c": id})).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    for i in 1..=3 {
        app.send(&a, &id, &format!("m{i}")).await?;
    }
    let mut last = 0;
    for _ in 0..3 {
        last = ws.next_data("1").await.unwrap()["data"]["messageAdded"]["seq"]
            .as_i64()
            .unwrap();
    }
    assert_eq!(last, 3);
    drop(ws);

    for i in 4..=8 {
        app.send(&a, &id, &format!("m{i}")).await?;
    }
    let mut ws = app.ws(&b.token).await.unwrap();
    ws.subscribe("2", FOLLOW, json!({"c": id, "after": last}))
        .await
        .unwrap();
    let mut got = Vec::new();
    for _ in 4..=8 {
        got.push(
            ws.next_data("2").await.unwrap()["data"]["messageAdded"]["seq"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(got, vec![4, 5, 6, 7, 8]);
    // Then live, with nothing repeated.
    app.send(&a, &id, "m9").await?;
    assert_eq!(
        ws.next_data("2").await.unwrap()["data"]["messageAdded"]["seq"],
        9
    );
    assert!(ws.quiet_for(Duration::from_millis(300)).await);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_during_concurrent_sends_has_no_gap_or_duplicate() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.register("writer").await?;
    let b = app.register("reader").await?;
    let id = app.open_direct(&a, &b).await?;
    for i in 1..=20 {
        app.send(&a, &id, &format!("before {i}")).await?;
    }
    let writer = {
        let (app_url, token, id) = (app.url("/graphql"), a.token.clone(), id.clone());
        let http = app.http.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                let response = http
                    .post(&app_url)
                    .bearer_auth(&token)
                    .json(&json!({"query": "mutation($c: ID!, $b: String!) { sendMessage(input: {conversationId: $c, body: $b}) { seq } }", "variables": {"c": id, "b": format!("during {i}")}}))
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
            }
        })
    };
    let mut ws = app.ws(&b.token).await.unwrap();
    ws.subscribe("r", FOLLOW, json!({"c": id, "after": 5}))
        .await
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 55 {
        got.push(
            ws.next_data("r").await.unwrap()["data"]["messageAdded"]["seq"]
                .as_i64()
                .unwrap(),
        );
    }
    writer.await.unwrap();
    assert_eq!(got, (6..=60).collect::<Vec<_>>());
    assert!(ws.quiet_for(Duration::from_millis(300)).await);
    Ok(())
}

#[tokio::test]
async fn an_after_seq_past_the_end_still_delivers_new_messages() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.register("writer").await?;
    let b = app.register("reader").await?;
    let id = app.open_direct(&a, &b).await?;
    app.send(&a, &id, "one").await?;
    let mut ws = app.ws(&b.token).await.unwrap();
    ws.subscribe("1", FOLLOW, json!({"c": id, "after": 50}))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.send(&a, &id, "two").await?;
    assert_eq!(
        ws.next_data("1").await.unwrap()["data"]["messageAdded"]["seq"],
        2
    );
    Ok(())
}

#[tokio::test]
async fn a_non_member_cannot_subscribe() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.register("alpha").await?;
    let b = app.register("bravo").await?;
    let eve = app.register("eve").await?;
    let id = app.open_direct(&a, &b).await?;
    let mut ws = app.ws(&eve.token).await.unwrap();
    // A conversation that exists and one that does not look the same.
    let mut answers = Vec::new();
    for (op, target) in [("x", id.as_str()), ("y", "Q29udmVyc2F0aW9uOjk5OTk")] {
        ws.subscribe(op, FOLLOW, json!({"c": target}))
            .await
            .unwrap();
        let message = ws.next().await.unwrap();
        assert_eq!(message["type"], "next");
        assert_eq!(
            message["payload"]["errors"][0]["extensions"]["code"],
            "NOT_FOUND"
        );
        answers.push((
            message["payload"]["data"].clone(),
            message["payload"]["errors"][0]["message"].clone(),
        ));
        assert_eq!(
            ws.next().await.unwrap(),
            json!({"type": "complete", "id": op})
        );
    }
    assert_eq!(answers[0], answers[1]);
    Ok(())
}
