//! The load generator's clients: GraphQL over HTTP and graphql-transport-ws,
//! with small buffers so that thousands of sockets stay cheap.

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async_with_config,
    tungstenite::{
        Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
    },
};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Global id of a conversation row (the API's opaque id format).
pub fn conversation_gid(id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("Conversation:{id}"))
}

pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// POSTs a GraphQL request; fails on transport errors and GraphQL errors.
pub async fn gql(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Result<Value> {
    let response: Value = http
        .post(url)
        .bearer_auth(token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await?
        .json()
        .await?;
    if let Some(errors) = response.get("errors") {
        bail!("GraphQL errors: {errors}");
    }
    Ok(response["data"].clone())
}

pub const SEND: &str =
    "mutation($c: ID!, $b: String!) { sendMessage(input: {conversationId: $c, body: $b}) { id } }";

/// Sends a message whose body carries the send time; returns its id.
pub async fn send_timed(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    conversation: &str,
) -> Result<String> {
    let body = format!("t={} load test message", now_micros());
    let data = gql(
        http,
        url,
        token,
        SEND,
        json!({"c": conversation, "b": body}),
    )
    .await?;
    data["sendMessage"]["id"]
        .as_str()
        .map(str::to_owned)
        .context("no id")
}

/// A socket initialised with `token` and subscribed to `messageAdded`.
pub async fn subscribe(
    ws_url: &str,
    token: &str,
    conversation: &str,
    after: Option<i64>,
) -> Result<Socket> {
    let mut socket = open_socket(ws_url, token).await?;
    start(
        &mut socket,
        "subscription($c: ID!, $a: Int) { messageAdded(conversationId: $c, afterSeq: $a) { seq body } }",
        json!({"c": conversation, "a": after}),
    )
    .await?;
    Ok(socket)
}

/// The `events` selection the load tool reads.
pub const EVENTS: &str = "subscription($a: String) { events(after: $a) { __typename cursor
    ... on MessageAddedEvent { message { id body } } } }";

/// A socket initialised with `token` and subscribed to `events`.
pub async fn subscribe_events(ws_url: &str, token: &str, after: Option<&str>) -> Result<Socket> {
    let mut socket = open_socket(ws_url, token).await?;
    start(&mut socket, EVENTS, json!({"a": after})).await?;
    Ok(socket)
}

/// A graphql-transport-ws socket with small buffers, acknowledged.
async fn open_socket(ws_url: &str, token: &str) -> Result<Socket> {
    let mut request = ws_url.into_client_request()?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024);
    let (mut socket, _) = connect_async_with_config(request, Some(config), true).await?;
    socket
        .send(Message::text(
            json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}}).to_string(),
        ))
        .await?;
    let ack = next_json(&mut socket).await?;
    if ack["type"] != "connection_ack" {
        bail!("no connection_ack: {ack}");
    }
    Ok(socket)
}

/// Starts operation "1" on the socket.
async fn start(socket: &mut Socket, query: &str, variables: Value) -> Result<()> {
    socket
        .send(Message::text(
            json!({
                "type": "subscribe",
                "id": "1",
                "payload": {"query": query, "variables": variables},
            })
            .to_string(),
        ))
        .await?;
    Ok(())
}

/// The next JSON message, skipping pings.
pub async fn next_json(socket: &mut Socket) -> Result<Value> {
    loop {
        match socket
            .next()
            .await
            .ok_or_else(|| anyhow!("socket ended"))??
        {
            Message::Text(text) => return Ok(serde_json::from_str(text.as_str())?),
            Message::Close(frame) => bail!("closed: {frame:?}"),
            _ => continue,
        }
    }
}

/// The send time in µs a load-test body carries.
pub fn sent_at(body: &str) -> Option<i64> {
    body.strip_prefix("t=")?.split(' ').next()?.parse().ok()
}

/// `(seq, send time in µs)` of a `messageAdded` event.
pub fn parse_event(message: &Value) -> Option<(i64, Option<i64>)> {
    let added = &message["payload"]["data"]["messageAdded"];
    let seq = added["seq"].as_i64()?;
    let sent = added["body"].as_str().and_then(sent_at);
    Some((seq, sent))
}
