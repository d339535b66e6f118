//! WebSocket details browsers and their libraries notice: the closing
//! handshake, result field order, and subprotocols Parley does not speak.

use parley_tests::{WsClient, spawn_app};
use serde_json::json;
use tokio_tungstenite::tungstenite::{
    self, Message, client::IntoClientRequest, http::HeaderValue, protocol::CloseFrame,
    protocol::frame::coding::CloseCode,
};

#[tokio::test]
async fn a_clients_close_is_echoed_so_it_sees_its_own_code() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let user = app.register("closer").await?;
    let mut ws = app.ws(&user.token).await?;
    ws.send_raw(Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    })))
    .await?;
    // The server answers with a Close frame carrying the same code (a
    // browser reports 1006 when the TCP connection ends without one).
    assert_eq!(ws.closed().await?, (1000, "bye".to_owned()));
    Ok(())
}

#[tokio::test]
async fn result_fields_arrive_in_the_order_asked() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let user = app.register("order").await?;
    // Not alphabetical, under one root field (the order of root fields
    // from different parts of the merged Query is async-graphql's, the
    // same on both transports).
    let query = "{ me { username id displayName createdAt } }";
    let http = app.ok(&user.token, query, json!({})).await?;
    let mut ws = app.ws(&user.token).await?;
    ws.subscribe("q", query, json!({})).await?;
    let text = ws.next_text().await?;
    let data = &text[text.find("\"payload\"").expect("a payload")..];
    let at = |needle: &str| {
        data.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing in {text}"))
    };
    assert!(at("\"username\"") < at("\"id\""), "{text}");
    assert!(at("\"id\"") < at("\"displayName\""), "{text}");
    assert!(at("\"displayName\"") < at("\"createdAt\""), "{text}");
    // The same document as over HTTP, key for key.
    let message: serde_json::Value = serde_json::from_str(&text)?;
    assert_eq!(message["payload"]["data"], http);
    assert_eq!(message["type"], "next");
    Ok(())
}

#[tokio::test]
async fn an_unknown_subprotocol_is_refused_at_the_upgrade() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let mut request = app.ws_url().into_client_request()?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("soap, wamp"),
    );
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 400);
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                .into_owned();
            assert!(body.contains("graphql-transport-ws"), "{body}");
        }
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("the upgrade was accepted"),
    }
    // An unknown one offered next to a supported one is fine.
    let user = app.register("picky").await?;
    let mut ws = WsClient::connect(&app.ws_url(), "soap, graphql-transport-ws").await?;
    ws.send(json!({"type": "connection_init", "payload": {"token": user.token}}))
        .await?;
    assert_eq!(ws.next().await?["type"], "connection_ack");
    Ok(())
}
