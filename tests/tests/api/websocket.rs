//! The graphql-transport-ws protocol, its close codes, and the legacy
//! graphql-ws subprotocol.

use std::time::Duration;

use parley_tests::{WsClient, spawn_app, spawn_app_with};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

const ME: &str = "{ me { username } }";

#[tokio::test]
async fn queries_and_pings_work_over_the_socket() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let user = app.register("socket").await?;
    let mut ws = app.ws(&user.token).await.unwrap();
    ws.send(json!({"type": "ping", "payload": {"t": 1}}))
        .await
        .unwrap();
    assert_eq!(
        ws.next().await.unwrap(),
        json!({"type": "pong", "payload": {"t": 1}})
    );
    ws.subscribe("q", ME, json!({})).await.unwrap();
    assert_eq!(
        ws.next_data("q").await.unwrap(),
        json!({"data": {"me": {"username": "socket"}}})
    );
    assert_eq!(
        ws.next().await.unwrap(),
        json!({"type": "complete", "id": "q"})
    );
    // A request error is an `error` message.
    ws.subscribe("bad", "{ nope }", json!({})).await.unwrap();
    let error = ws.next().await.unwrap();
    assert_eq!(error["type"], "error");
    assert_eq!(error["id"], "bad");
    assert_eq!(
        error["payload"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    Ok(())
}

#[tokio::test]
async fn tokens_are_accepted_in_every_documented_shape() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let user = app.register("shapes").await?;
    for payload in [
        json!({"authorization": format!("Bearer {}", user.token)}),
        json!({"Authorization": format!("bearer {}", user.token)}),
        json!({"token": user.token}),
    ] {
        let mut ws = WsClient::connect(&app.ws_url(), "graphql-transport-ws")
            .await
            .unwrap();
        ws.send(json!({"type": "connection_init", "payload": payload}))
            .await
            .unwrap();
        assert_eq!(
            ws.next().await.unwrap()["type"],
            "connection_ack",
            "{payload}"
        );
    }
    Ok(())
}

async fn close_code(
    app: &parley_tests::TestApp,
    protocol: &str,
    messages: Vec<serde_json::Value>,
) -> (u16, String) {
    let mut ws = WsClient::connect(&app.ws_url(), protocol).await.unwrap();
    for message in messages {
        ws.send(message).await.unwrap();
    }
    ws.closed().await.unwrap()
}

#[tokio::test]
async fn protocol_violations_get_their_close_codes() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let user = app.register("closer").await?;
    let init = json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {}", user.token)}});
    let subscribe = json!({"type": "subscribe", "id": "1", "payload": {"query": "subscription { messageAdded(conversationId: \"Q29udmVyc2F0aW9uOjE\") { seq } }"}});

    // No acceptable subprotocol.
    assert_eq!(close_code(&app, "", vec![]).await.0, 4406);
    // Offering only unknown subprotocols: the upgrade is refused (see
    // websocket_clients.rs).
    assert!(WsClient::connect(&app.ws_url(), "soap").await.is_err());
    // A missing or bad token is refused without an ack.
    let (code, reason) = close_code(
        &app,
        "graphql-transport-ws",
        vec![json!({"type": "connection_init"})],
    )
    .await;
    assert_eq!((code, reason.as_str()), (4403, "Forbidden"));
    let bad = json!({"type": "connection_init", "payload": {"authorization": "Bearer wrong"}});
    assert_eq!(
        close_code(&app, "graphql-transport-ws", vec![bad]).await.0,
        4403
    );
    // Subscribing before the ack.
    assert_eq!(
        close_code(&app, "graphql-transport-ws", vec![subscribe.clone()])
            .await
            .0,
        4401
    );
    // Initialising twice.
    let mut ws = WsClient::connect(&app.ws_url(), "graphql-transport-ws")
        .await
        .unwrap();
    ws.send(init.clone()).await.unwrap();
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    ws.send(init.clone()).await.unwrap();
    assert_eq!(ws.closed().await.unwrap().0, 4429);
    // A second subscriber with a live id.
    let mut ws = app.ws(&user.token).await.unwrap();
    let other = app.register("other").await?;
    let conversation = app.open_direct(&user, &other).await?;
    let follow = json!({"type": "subscribe", "id": "dup", "payload": {"query": "subscription($c: ID!) { messageAdded(conversationId: $c) { seq } }", "variables": {"c": conversation}}});
    ws.send(follow.clone()).await.unwrap();
    ws.send(follow).await.unwrap();
    let (code, reason) = ws.closed().await.unwrap();
    assert_eq!(
        (code, reason.as_str()),
        (4409, "Subscriber for dup already exists")
    );
    // Malformed messages.
    for junk in [
        json!({"type": "nonsense"}),
        json!({"no": "type"}),
        json!({"type": "subscribe", "id": "1"}),
    ] {
        let mut ws = app.ws(&user.token).await.unwrap();
        ws.send(junk.clone()).await.unwrap();
        assert_eq!(ws.closed().await.unwrap().0, 4400, "{junk}");
    }
    let mut ws = app.ws(&user.token).await.unwrap();
    ws.send_raw(Message::text("{not json")).await.unwrap();
    assert_eq!(ws.closed().await.unwrap().0, 4400);
    Ok(())
}

#[tokio::test]
async fn a_socket_stops_working_when_its_session_ends() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let user = app.register("leaver").await?;
    let mut ws = app.ws(&user.token).await.unwrap();
    ws.subscribe("1", ME, json!({})).await.unwrap();
    assert_eq!(
        ws.next_data("1").await.unwrap()["data"]["me"]["username"],
        "leaver"
    );
    assert_eq!(ws.next().await.unwrap()["type"], "complete");
    app.ok(&user.token, "mutation { logout }", json!({}))
        .await?;
    ws.subscribe("2", ME, json!({})).await.unwrap();
    assert_eq!(ws.closed().await.unwrap().0, 4403);
    Ok(())
}

#[tokio::test]
async fn a_silent_client_is_closed_after_the_init_timeout() -> anyhow::Result<()> {
    let app = spawn_app_with(|c| c.ws_init_timeout = Duration::from_millis(300)).await?;
    let mut ws = WsClient::connect(&app.ws_url(), "graphql-transport-ws")
        .await
        .unwrap();
    let (code, reason) = ws.closed().await.unwrap();
    assert_eq!(
        (code, reason.as_str()),
        (4408, "Connection initialisation timeout")
    );
    Ok(())
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_works() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.register("legacy").await?;
    let b = app.register("modern").await?;
    let id = app.open_direct(&a, &b).await?;
    let mut ws = WsClient::connect(&app.ws_url(), "graphql-ws")
        .await
        .unwrap();
    ws.send(json!({"type": "connection_init", "payload": {"authToken": "x", "authorization": format!("Bearer {}", a.token)}}))
        .await
        .unwrap();
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    assert_eq!(ws.next().await.unwrap()["type"], "ka");
    ws.send(json!({"type": "start", "id": "7", "payload": {"query": "subscription($c: ID!) { messageAdded(conversationId: $c) { body } }", "variables": {"c": id}}}))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.send(&b, &id, "to the old client").await?;
    let data = ws.next().await.unwrap();
    assert_eq!(data["type"], "data");
    assert_eq!(
        data["payload"]["data"]["messageAdded"]["body"],
        "to the old client"
    );
    ws.send(json!({"type": "stop", "id": "7"})).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap(),
        json!({"type": "complete", "id": "7"})
    );

    // A bad token gets connection_error, then the socket closes.
    let mut ws = WsClient::connect(&app.ws_url(), "graphql-ws")
        .await
        .unwrap();
    ws.send(json!({"type": "connection_init", "payload": {"authorization": "Bearer nope"}}))
        .await
        .unwrap();
    assert_eq!(ws.next().await.unwrap()["type"], "connection_error");
    assert_eq!(ws.closed().await.unwrap().0, 4403);
    Ok(())
}

#[tokio::test]
async fn shutdown_closes_sockets_with_going_away() -> anyhow::Result<()> {
    let mut app = spawn_app().await?;
    let user = app.register("leaving").await?;
    let mut ws = app.ws(&user.token).await.unwrap();
    let mut idle = WsClient::connect(&app.ws_url(), "graphql-transport-ws")
        .await
        .unwrap();
    app.stop().await.unwrap();
    assert_eq!(ws.closed().await.unwrap().0, 1001);
    assert_eq!(idle.closed().await.unwrap().0, 1001);
    // The listener is gone.
    assert!(app.http.get(app.url("/health")).send().await.is_err());
    Ok(())
}
