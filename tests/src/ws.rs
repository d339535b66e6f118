//! A minimal GraphQL-over-WebSocket client for tests.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

/// How long a test waits for a message that should come.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Connects offering `protocol` ("" offers none).
    pub async fn connect(url: &str, protocol: &str) -> Result<Self> {
        let mut request = url.into_client_request()?;
        if !protocol.is_empty() {
            request
                .headers_mut()
                .insert("sec-websocket-protocol", HeaderValue::from_str(protocol)?);
        }
        let (stream, _) = connect_async(request).await.context("websocket connect")?;
        Ok(Self { stream })
    }

    pub async fn send(&mut self, message: Value) -> Result<()> {
        self.stream.send(Message::text(message.to_string())).await?;
        Ok(())
    }

    pub async fn send_raw(&mut self, message: Message) -> Result<()> {
        self.stream.send(message).await?;
        Ok(())
    }

    /// The next protocol message (JSON text), skipping WebSocket pings.
    pub async fn next(&mut self) -> Result<Value> {
        self.next_within(WAIT).await
    }

    pub async fn next_within(&mut self, wait: Duration) -> Result<Value> {
        loop {
            let frame = tokio::time::timeout(wait, self.stream.next())
                .await
                .map_err(|_| anyhow!("no message within {wait:?}"))?
                .ok_or_else(|| anyhow!("socket ended"))??;
            match frame {
                Message::Text(text) => return Ok(serde_json::from_str(text.as_str())?),
                Message::Ping(_) | Message::Pong(_) => continue,
                Message::Close(frame) => bail!("closed: {frame:?}"),
                other => bail!("unexpected frame {other:?}"),
            }
        }
    }

    /// The next text frame exactly as sent (field order included),
    /// skipping WebSocket pings.
    pub async fn next_text(&mut self) -> Result<String> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .map_err(|_| anyhow!("no message within {WAIT:?}"))?
                .ok_or_else(|| anyhow!("socket ended"))??;
            match frame {
                Message::Text(text) => return Ok(text.as_str().to_owned()),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => bail!("unexpected frame {other:?}"),
            }
        }
    }

    /// True when nothing arrives within `wait`.
    pub async fn quiet_for(&mut self, wait: Duration) -> bool {
        tokio::time::timeout(wait, self.stream.next())
            .await
            .is_err()
    }

    /// Waits for the server's close frame; its code and reason.
    pub async fn closed(&mut self) -> Result<(u16, String)> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .map_err(|_| anyhow!("not closed within {WAIT:?}"))?;
            match frame {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return Ok((frame.code.into(), frame.reason.to_string()));
                }
                Some(Ok(Message::Close(None))) => bail!("closed without a code"),
                Some(Ok(_)) => continue,
                Some(Err(err)) => bail!("socket error before close: {err}"),
                None => bail!("socket ended without a close frame"),
            }
        }
    }

    /// Starts an operation (`subscribe`).
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) -> Result<()> {
        self.send(json!({
            "type": "subscribe",
            "id": id,
            "payload": {"query": query, "variables": variables},
        }))
        .await
    }

    /// The payload of the next `next` message for `id`.
    pub async fn next_data(&mut self, id: &str) -> Result<Value> {
        let message = self.next().await?;
        if message["type"] != "next" || message["id"] != id {
            bail!("expected next for {id}, got {message}");
        }
        Ok(message["payload"].clone())
    }
}
