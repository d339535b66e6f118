//! GraphQL over WebSocket at `/graphql/ws`.
//!
//! Speaks `graphql-transport-ws` (the graphql-ws library's PROTOCOL.md,
//! with its close codes) and the legacy `graphql-ws` subprotocol of
//! subscriptions-transport-ws. async-graphql-axum's stock service closes
//! with generic codes and has no init timeout, so the protocol is driven
//! here, on top of async-graphql's `execute_stream`.
//!
//! One task per socket multiplexes the client's frames, every running
//! operation, keep-alives, the end of its session and the server's
//! shutdown; nothing is spawned per operation, so an idle socket costs
//! little more than its buffers.
//!
//! While the socket waits (for a send, or for its own token check), its
//! operations are not polled, and one that is mid-query keeps its pool
//! connection. So operations set up (and queries run) at most
//! [`WsSettings::max_starting`] at a time: one socket holds at most that
//! many connections, and its own check always finds a free one.
//!
//! A socket ends with 4403 the moment its session ends: revocations come
//! from the service over the bus, expiry from a timer set at
//! `connection_init`.

use std::{
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::Arc,
    time::Duration,
};

use async_graphql::{Request, Response, ServerError, parser::types::OperationType};
use axum::{
    extract::{
        ConnectInfo, Extension, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response as HttpResponse},
};
use futures_util::{SinkExt, Stream, StreamExt, stream};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use service::{Viewer, events::Revoked, live::PresenceGuard};
use tokio::sync::{Semaphore, broadcast};
use tokio_stream::StreamMap;

use super::{AppState, caps::Slot, client::client_addr};
use crate::graphql::{
    context::{Auth, ClientAddr, StartSlots},
    error::code,
    request::{self, RequestError},
};

pub const GRAPHQL_TRANSPORT_WS: &str = "graphql-transport-ws";
pub const GRAPHQL_WS: &str = "graphql-ws";

/// Largest client message. Subscribe payloads are small; anything bigger is
/// refused by the WebSocket layer.
const MAX_MESSAGE: usize = 64 * 1024;
/// Socket read buffer. The default (128 KiB) would dominate the cost of an
/// idle connection; messages larger than this still arrive, in pieces.
const READ_BUFFER: usize = 4 * 1024;
/// How long one send may block on a client that does not read.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// A timer that never fires in practice (`Sleep` needs some deadline).
const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Per-app WebSocket settings.
#[derive(Clone, Debug)]
pub struct WsSettings {
    /// Time a client has to send `connection_init`.
    pub init_timeout: Duration,
    /// Interval between keep-alive pings.
    pub keepalive: Duration,
    /// Time a peer has to answer a ping (any frame counts).
    pub pong_timeout: Duration,
    /// Operations one socket may run at once.
    pub max_operations: usize,
    /// Operations of one socket setting up at once.
    pub max_starting: usize,
    /// Open sockets per user.
    pub max_per_user: usize,
    /// Open sockets per client address.
    pub max_per_address: usize,
}

impl Default for WsSettings {
    fn default() -> Self {
        Self {
            init_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(25),
            pong_timeout: Duration::from_secs(20),
            max_operations: 100,
            max_starting: 2,
            max_per_user: 32,
            max_per_address: 256,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    TransportWs,
    LegacyWs,
}

pub async fn upgrade(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> HttpResponse {
    if state.shutdown.is_cancelled() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if !state.http.allowed_origins.allows(&headers) {
        tracing::info!(origin = ?headers.get(header::ORIGIN), "websocket from a foreign origin refused");
        return (
            StatusCode::FORBIDDEN,
            "this origin may not open a WebSocket here (see --cors-origins)\n",
        )
            .into_response();
    }
    let client = client_addr(
        peer.as_ref().map(|p| &p.0),
        &headers,
        state.http.trust_forwarded_for,
    );
    let address_slot = match client {
        // Keyed as the login limits are: an IPv6 client counts per /64,
        // which one host can fill with addresses of its own.
        Some(addr) => match state.caps.by_address.take(
            service::accounts::address_key(addr),
            state.ws.max_per_address,
        ) {
            Some(slot) => Some(slot),
            None => {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    "too many WebSockets from this address\n",
                )
                    .into_response();
            }
        },
        None => None,
    };
    // Subscribed before the socket signs in, so that no revocation between
    // the check of its token and the first `recv` is missed.
    let revoked = state.service.bus().subscribe_revoked();
    let ws = ws.protocols([GRAPHQL_TRANSPORT_WS, GRAPHQL_WS]);
    let protocol = match ws.selected_protocol().and_then(|p| p.to_str().ok()) {
        Some(GRAPHQL_TRANSPORT_WS) => Some(Protocol::TransportWs),
        Some(GRAPHQL_WS) => Some(Protocol::LegacyWs),
        _ => None,
    };
    // Subprotocols offered, none of them ours: refuse the upgrade, rather
    // than accept without one (which strict clients treat as a failed
    // handshake, and which would hide why). Offering none still upgrades,
    // to be closed with 4406 below.
    if protocol.is_none() && headers.contains_key(header::SEC_WEBSOCKET_PROTOCOL) {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "unsupported WebSocket subprotocol: offer graphql-transport-ws (or graphql-ws)\n",
        )
            .into_response();
    }
    let header_token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(super::bearer_token)
        .map(str::to_owned);
    // Shutdown waits for this socket until the guard is dropped.
    let guard = state.sockets.token();
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_MESSAGE * 4)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| async move {
            let _guard = guard;
            let _address_slot = address_slot;
            let start_slots = StartSlots(Arc::new(Semaphore::new(state.ws.max_starting.max(1))));
            let mut connection = Connection {
                socket,
                state,
                header_token,
                client,
                init_received: false,
                viewer: None,
                token: None,
                presence: None,
                user_slot: None,
                revoked: Some(revoked),
                expires_in: None,
                start_slots,
                operations: StreamMap::new(),
            };
            match protocol {
                Some(protocol) => connection.run(protocol).await,
                None => {
                    connection
                        .close(4406, "Subprotocol not acceptable: use graphql-transport-ws")
                        .await;
                }
            }
        })
}

/// A client message of either protocol.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {},
    /// `subscribe` (graphql-transport-ws) or `start` (legacy).
    #[serde(alias = "start")]
    Subscribe {
        id: String,
        payload: Box<Request>,
    },
    /// `complete` (graphql-transport-ws) or `stop` (legacy).
    #[serde(alias = "stop")]
    Complete {
        id: String,
    },
    ConnectionTerminate {},
}

/// What the connection does after handling one thing.
enum Flow {
    Continue,
    Close(u16, String),
    /// The client sent a Close frame: echo it, then end.
    PeerClosed,
    Stop,
}

type Operation = Pin<Box<dyn Stream<Item = (usize, Option<Response>)> + Send>>;

struct Connection {
    socket: WebSocket,
    state: AppState,
    header_token: Option<String>,
    init_received: bool,
    viewer: Option<Viewer>,
    /// The token the socket signed in with (a session token or a host-app
    /// JWT), checked again for every operation and when revocations were
    /// missed (the bus lagged).
    token: Option<String>,
    /// Keeps the viewer online from `connection_ack` until the socket's
    /// task ends, however it ends (the guard goes with the connection).
    presence: Option<PresenceGuard>,
    client: Option<IpAddr>,
    /// The viewer's place among their open sockets.
    user_slot: Option<Slot<i64>>,
    /// Sessions ending; `None` once the bus is gone.
    revoked: Option<broadcast::Receiver<Revoked>>,
    /// Time left until the credential expires, from `connection_init`.
    expires_in: Option<Duration>,
    start_slots: StartSlots,
    /// Running operations by client id. Each yields its responses numbered
    /// from 0, then `None` when it ends.
    operations: StreamMap<String, Operation>,
}

impl Connection {
    async fn run(&mut self, protocol: Protocol) {
        let settings = self.state.ws.clone();
        let init_deadline = tokio::time::sleep(settings.init_timeout);
        tokio::pin!(init_deadline);
        let mut keepalive = tokio::time::interval_at(
            tokio::time::Instant::now() + settings.keepalive,
            settings.keepalive,
        );
        let shutdown = self.state.shutdown.clone();
        let expiry = tokio::time::sleep(FAR);
        tokio::pin!(expiry);
        let mut expiry_set = false;
        let pong_deadline = tokio::time::sleep(FAR);
        tokio::pin!(pong_deadline);
        let mut awaiting_pong = false;
        loop {
            if !expiry_set && let Some(left) = self.expires_in {
                expiry.as_mut().reset(tokio::time::Instant::now() + left);
                expiry_set = true;
            }
            let flow = tokio::select! {
                () = shutdown.cancelled() => Flow::Close(1001, "Server shutting down".into()),
                () = &mut init_deadline, if self.viewer.is_none() => {
                    Flow::Close(4408, "Connection initialisation timeout".into())
                }
                () = &mut expiry, if expiry_set => {
                    Flow::Close(4403, "Forbidden: the session has expired".into())
                }
                () = &mut pong_deadline, if awaiting_pong => {
                    Flow::Close(KEEPALIVE_TIMEOUT, "Keep-alive timeout: no pong".into())
                }
                revoked = recv_revoked(&mut self.revoked), if self.viewer.is_some() => {
                    self.on_revoked(revoked).await
                }
                incoming = self.socket.recv() => {
                    // Any frame shows the peer is there.
                    awaiting_pong = false;
                    match incoming {
                    Some(Ok(Message::Text(text))) => self.on_message(protocol, text.as_str()).await,
                    Some(Ok(Message::Binary(_))) => {
                        Flow::Close(4400, "Binary messages are not supported".into())
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Flow::Continue,
                    Some(Ok(Message::Close(_))) => Flow::PeerClosed,
                    Some(Err(_)) | None => Flow::Stop,
                    }
                },
                Some((id, (index, response))) = self.operations.next(), if !self.operations.is_empty() => {
                    self.on_result(protocol, id, index, response).await
                }
                _ = keepalive.tick() => {
                    if !awaiting_pong {
                        awaiting_pong = true;
                        pong_deadline
                            .as_mut()
                            .reset(tokio::time::Instant::now() + settings.pong_timeout);
                    }
                    self.keepalive(protocol).await
                }
            };
            match flow {
                Flow::Continue => {}
                Flow::Close(code, reason) => {
                    self.close(code, &reason).await;
                    break;
                }
                Flow::PeerClosed => {
                    // The WebSocket layer has queued the echo of the
                    // client's Close frame; send it, so the client sees its
                    // own code (1000) instead of an abnormal 1006.
                    let _ = tokio::time::timeout(SEND_TIMEOUT, self.socket.flush()).await;
                    break;
                }
                Flow::Stop => break,
            }
        }
    }

    async fn on_message(&mut self, protocol: Protocol, text: &str) -> Flow {
        let message: ClientMessage = match serde_json::from_str(text) {
            Ok(message) => message,
            Err(err) => return Flow::Close(4400, format!("Invalid message received: {err}")),
        };
        match message {
            ClientMessage::ConnectionInit { payload } => self.on_init(protocol, payload).await,
            ClientMessage::Ping { payload } => {
                if protocol == Protocol::LegacyWs {
                    return Flow::Close(4400, "Invalid message received: ping".into());
                }
                let pong = match payload {
                    Some(payload) => json!({"type": "pong", "payload": payload}),
                    None => json!({"type": "pong"}),
                };
                self.send(&pong).await
            }
            ClientMessage::Pong {} => Flow::Continue,
            ClientMessage::Subscribe { id, payload } => {
                self.on_subscribe(protocol, id, *payload).await
            }
            ClientMessage::Complete { id } => {
                if self.operations.remove(&id).is_some() && protocol == Protocol::LegacyWs {
                    return self.send(&json!({"type": "complete", "id": id})).await;
                }
                Flow::Continue
            }
            ClientMessage::ConnectionTerminate {} => Flow::Stop,
        }
    }

    async fn on_init(&mut self, protocol: Protocol, payload: Option<Value>) -> Flow {
        if self.init_received {
            return Flow::Close(4429, "Too many initialisation requests".into());
        }
        self.init_received = true;
        let token = payload
            .as_ref()
            .and_then(token_from_payload)
            .or_else(|| self.header_token.clone());
        let viewer = match &token {
            None => None,
            // Sockets carry subscriptions, which follow a user; the host app
            // has none and uses HTTP.
            Some(token) if self.state.service.authenticate_admin(token) => {
                return Flow::Close(4403, "Forbidden: the admin key is for HTTP only".into());
            }
            Some(token) => match self.state.service.authenticate(token).await {
                Ok(viewer) => Some(viewer),
                Err(service::Error::Unauthenticated(_)) => None,
                Err(err) => {
                    tracing::error!(error = %err, "websocket authentication failed");
                    return Flow::Close(4500, "Internal server error".into());
                }
            },
        };
        let Some(viewer) = viewer else {
            if protocol == Protocol::LegacyWs {
                let error =
                    json!({"type": "connection_error", "payload": {"message": "Forbidden"}});
                if let Flow::Stop = self.send(&error).await {
                    return Flow::Stop;
                }
            }
            return Flow::Close(4403, "Forbidden".into());
        };
        let Some(user_slot) = self
            .state
            .caps
            .by_user
            .take(viewer.user_id, self.state.ws.max_per_user)
        else {
            return Flow::Close(4429, "Too many sockets for this user".into());
        };
        if let Some(token) = &token {
            match self.state.service.credential_expiry(token).await {
                Ok(at) => {
                    let left = (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
                    self.expires_in = Some(left);
                }
                Err(service::Error::Unauthenticated(_)) => {
                    return Flow::Close(4403, "Forbidden".into());
                }
                Err(err) => {
                    tracing::error!(error = %err, "websocket authentication failed");
                    return Flow::Close(4500, "Internal server error".into());
                }
            }
        }
        self.user_slot = Some(user_slot);
        self.viewer = Some(viewer);
        self.token = token;
        self.presence = Some(self.state.service.connect_presence(viewer.user_id));
        let flow = self.send(&json!({"type": "connection_ack"})).await;
        if protocol == Protocol::LegacyWs && matches!(flow, Flow::Continue) {
            return self.send(&json!({"type": "ka"})).await;
        }
        flow
    }

    async fn on_subscribe(&mut self, protocol: Protocol, id: String, mut request: Request) -> Flow {
        let Some(viewer) = self.viewer else {
            return Flow::Close(4401, "Unauthorized".into());
        };
        if self.operations.contains_key(&id) {
            return Flow::Close(4409, format!("Subscriber for {id} already exists"));
        }
        // Revocations on this instance close the socket at once; one made
        // on another instance (until the bus spans instances) or missed is
        // caught here. Paused operations hold at most `max_starting` pool
        // connections, so this query always finds one.
        if let Some(token) = &self.token {
            match self.state.service.authenticate(token).await {
                Ok(current) if current == viewer => {}
                Ok(_) | Err(service::Error::Unauthenticated(_)) => {
                    return Flow::Close(4403, "Forbidden: the session has ended".into());
                }
                Err(err) => {
                    tracing::error!(error = %err, "websocket authentication failed");
                    return Flow::Close(4500, "Internal server error".into());
                }
            }
        }
        let max_operations = self.state.ws.max_operations;
        if self.operations.len() >= max_operations {
            let error = RequestError::bad_request(format!(
                "at most {max_operations} operations may run on one connection"
            ));
            return self.send_errors(protocol, &id, &error.errors).await;
        }
        if let Err(err) = self.state.persisted.resolve(&mut request) {
            return self.send_errors(protocol, &id, &err.errors).await;
        }
        let (kind, name) = match request::inspect(&mut request) {
            Ok(found) => found,
            Err(err) => return self.send_errors(protocol, &id, &err.errors).await,
        };
        let log = OperationLog {
            span: tracing::info_span!(
                "graphql",
                operation = name.as_deref().unwrap_or("anonymous"),
                kind = ?kind,
                user_id = viewer.user_id,
                transport = "websocket",
                id,
            ),
            started: std::time::Instant::now(),
        };
        let request = request
            .data(Auth::Viewer(viewer))
            .data(ClientAddr(self.client))
            .data(self.start_slots.clone());
        let responses = match kind {
            // Subscriptions take a start-up slot while they set up (see
            // `context::start_slot`); queries and mutations for their
            // whole run.
            OperationType::Subscription => self.state.schema.execute_stream(request).boxed(),
            _ => {
                let schema = self.state.schema.clone();
                let slots = self.start_slots.0.clone();
                stream::once(async move {
                    let _slot = slots.acquire_owned().await.ok();
                    schema.execute(request).await
                })
                .boxed()
            }
        };
        let responses = responses
            .map(Some)
            .chain(stream::once(async move {
                drop(log);
                None
            }))
            .enumerate();
        self.operations.insert(id, Box::pin(responses));
        Flow::Continue
    }

    async fn on_result(
        &mut self,
        protocol: Protocol,
        id: String,
        index: usize,
        response: Option<Response>,
    ) -> Flow {
        let Some(response) = response else {
            return self.send(&json!({"type": "complete", "id": id})).await;
        };
        if index == 0 && request::is_request_error(&response) {
            // Validation failed: an `error` message ends the operation.
            self.operations.remove(&id);
            return self.send_errors(protocol, &id, &response.errors).await;
        }
        let kind = match protocol {
            Protocol::TransportWs => "next",
            Protocol::LegacyWs => "data",
        };
        self.send_payload(kind, &id, &response).await
    }

    /// Sends `{type, id, payload}` serialized straight from `payload`, so
    /// that result fields keep the order the query asked for (a detour
    /// through `serde_json::Value` would sort them).
    async fn send_payload(&mut self, kind: &str, id: &str, payload: &impl Serialize) -> Flow {
        #[derive(Serialize)]
        struct Outgoing<'a, T> {
            #[serde(rename = "type")]
            kind: &'a str,
            id: &'a str,
            payload: &'a T,
        }
        match serde_json::to_string(&Outgoing { kind, id, payload }) {
            Ok(text) => self.send_text(text).await,
            Err(err) => {
                tracing::error!(error = %err, "could not serialize a response");
                Flow::Close(4500, "Internal server error".into())
            }
        }
    }

    async fn send_errors(&mut self, protocol: Protocol, id: &str, errors: &[ServerError]) -> Flow {
        let internal = || {
            let mut error = ServerError::new("internal server error", None);
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", code::INTERNAL);
            error
        };
        // The legacy protocol's `error` carries one error object.
        let flow = match protocol {
            Protocol::TransportWs if errors.is_empty() => {
                self.send_payload("error", id, &[internal()]).await
            }
            Protocol::TransportWs => self.send_payload("error", id, &errors).await,
            Protocol::LegacyWs => match errors.first() {
                Some(error) => self.send_payload("error", id, error).await,
                None => self.send_payload("error", id, &internal()).await,
            },
        };
        if protocol == Protocol::LegacyWs && matches!(flow, Flow::Continue) {
            return self.send(&json!({"type": "complete", "id": id})).await;
        }
        flow
    }

    /// A session ended somewhere: if it is this socket's, the socket ends.
    async fn on_revoked(&mut self, revoked: Result<Revoked, broadcast::error::RecvError>) -> Flow {
        let Some(viewer) = self.viewer else {
            return Flow::Continue;
        };
        match revoked {
            Ok(revoked) if revoked.ends(&viewer) => {
                Flow::Close(4403, "Forbidden: the session has ended".into())
            }
            Ok(_) => Flow::Continue,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // Some revocations were missed: ask the database.
                let Some(token) = self.token.clone() else {
                    return Flow::Continue;
                };
                match self.state.service.authenticate(&token).await {
                    Ok(current) if current == viewer => Flow::Continue,
                    Ok(_) | Err(service::Error::Unauthenticated(_)) => {
                        Flow::Close(4403, "Forbidden: the session has ended".into())
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "websocket authentication failed");
                        Flow::Close(4500, "Internal server error".into())
                    }
                }
            }
            Err(broadcast::error::RecvError::Closed) => {
                self.revoked = None;
                Flow::Continue
            }
        }
    }

    async fn keepalive(&mut self, protocol: Protocol) -> Flow {
        if protocol == Protocol::LegacyWs
            && self.viewer.is_some()
            && let Flow::Stop = self.send(&json!({"type": "ka"})).await
        {
            return Flow::Stop;
        }
        match tokio::time::timeout(
            SEND_TIMEOUT,
            self.socket.send(Message::Ping(Default::default())),
        )
        .await
        {
            Ok(Ok(())) => Flow::Continue,
            _ => Flow::Stop,
        }
    }

    async fn send(&mut self, message: &Value) -> Flow {
        self.send_text(message.to_string()).await
    }

    async fn send_text(&mut self, text: String) -> Flow {
        match tokio::time::timeout(SEND_TIMEOUT, self.socket.send(Message::Text(text.into()))).await
        {
            Ok(Ok(())) => Flow::Continue,
            _ => Flow::Stop,
        }
    }

    async fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code,
            reason: truncate(reason, MAX_CLOSE_REASON).into(),
        };
        let sent =
            tokio::time::timeout(SEND_TIMEOUT, self.socket.send(Message::Close(Some(frame)))).await;
        // The connection is over for everyone else now: its user goes
        // offline without waiting for the handshake to finish.
        self.presence = None;
        // A peer that stopped answering pings will not answer this either.
        if !matches!(sent, Ok(Ok(()))) || code == KEEPALIVE_TIMEOUT {
            return;
        }
        // Wait briefly for the client's echo, so the TCP connection ends
        // after the closing handshake, as RFC 6455 has the server do.
        let _ = tokio::time::timeout(CLOSE_ECHO_WAIT, async {
            while let Some(Ok(_)) = self.socket.recv().await {}
        })
        .await;
    }
}

/// Logs an operation's end, with its duration, when its stream is done or
/// dropped (the client completed it, or the socket closed).
struct OperationLog {
    span: tracing::Span,
    started: std::time::Instant,
}

impl Drop for OperationLog {
    fn drop(&mut self) {
        self.span.in_scope(|| {
            tracing::info!(duration = ?self.started.elapsed(), "graphql operation");
        });
    }
}

/// The next revocation; never, once the bus is gone.
async fn recv_revoked(
    revoked: &mut Option<broadcast::Receiver<Revoked>>,
) -> Result<Revoked, broadcast::error::RecvError> {
    match revoked {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// How long a server-initiated close waits for the client's Close frame.
const CLOSE_ECHO_WAIT: Duration = Duration::from_secs(2);

/// The close code for a peer that did not answer a ping in time.
const KEEPALIVE_TIMEOUT: u16 = 1011;

/// A close frame's payload is at most 125 bytes, 2 of them the code.
const MAX_CLOSE_REASON: usize = 123;

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The token in a `connection_init` payload: `{"authorization": "Bearer
/// <token>"}` (any case of the key, as GraphiQL sends its headers) or
/// `{"token": "<token>"}`.
fn token_from_payload(payload: &Value) -> Option<String> {
    let object = payload.as_object()?;
    for (key, value) in object {
        if key.eq_ignore_ascii_case("authorization") {
            return value
                .as_str()
                .and_then(super::bearer_token)
                .map(str::to_owned);
        }
    }
    object.get("token")?.as_str().map(str::to_owned)
}
