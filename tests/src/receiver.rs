//! A webhook receiver for tests and the bench: a real axum server on
//! 127.0.0.1:0 that records what it is sent, and can be told to fail or
//! to answer slowly.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use anyhow::{Context, Result, bail};
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::Notify;

/// One request the receiver accepted.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub event_id: String,
    pub event_type: String,
    pub signature: String,
    pub body: Vec<u8>,
    pub json: Value,
}

#[derive(Default)]
pub struct ReceiverState {
    deliveries: Mutex<Vec<Delivery>>,
    /// Requests still to answer with 500.
    failing: AtomicUsize,
    /// Every request, failed or not.
    pub attempts: AtomicUsize,
    /// Milliseconds to wait before answering.
    delay_ms: AtomicUsize,
    arrived: Notify,
}

pub struct Receiver {
    pub addr: SocketAddr,
    pub state: Arc<ReceiverState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    state.attempts.fetch_add(1, Ordering::SeqCst);
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay as u64)).await;
    }
    let failing = state
        .failing
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    if failing.is_ok() {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let delivery = Delivery {
        event_id: header("parley-event-id"),
        event_type: header("parley-event-type"),
        signature: header("parley-signature"),
        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
        body: body.to_vec(),
    };
    state
        .deliveries
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(delivery);
    state.arrived.notify_waiters();
    StatusCode::NO_CONTENT
}

impl Receiver {
    pub async fn start() -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(ReceiverState::default());
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, state, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The next `n` requests get 500.
    pub fn fail_next(&self, n: usize) {
        self.state.failing.store(n, Ordering::SeqCst);
    }

    /// Every answer waits this long.
    pub fn set_delay(&self, delay: Duration) {
        self.state
            .delay_ms
            .store(delay.as_millis() as usize, Ordering::SeqCst);
    }

    pub fn attempts(&self) -> usize {
        self.state.attempts.load(Ordering::SeqCst)
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state
            .deliveries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many deliveries arrived (without copying them).
    pub fn count(&self) -> usize {
        self.state
            .deliveries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Different event ids delivered (a redelivery counts once).
    pub fn unique(&self) -> usize {
        let deliveries = self
            .state
            .deliveries
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let ids: std::collections::HashSet<&str> =
            deliveries.iter().map(|d| d.event_id.as_str()).collect();
        ids.len()
    }

    /// Waits until `n` different events arrived; every delivery.
    pub async fn wait_for_unique(&self, n: usize, within: Duration) -> Result<Vec<Delivery>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let arrived = self.state.arrived.notified();
            if self.unique() >= n {
                return Ok(self.deliveries());
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() && self.unique() < n {
                bail!(
                    "{} of {n} events within {within:?} ({} deliveries)",
                    self.unique(),
                    self.count()
                );
            }
        }
    }

    /// Waits until at least `n` deliveries arrived; all of them.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Result<Vec<Delivery>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let arrived = self.state.arrived.notified();
            if self.count() >= n {
                return Ok(self.deliveries());
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let got = self.deliveries();
                if got.len() >= n {
                    return Ok(got);
                }
                bail!(
                    "{} of {n} deliveries within {within:?} ({} attempts): {:?}",
                    got.len(),
                    self.attempts(),
                    got.iter().map(|d| &d.event_type).collect::<Vec<_>>()
                );
            }
        }
    }
}

/// Checks a `Parley-Signature` header the way a receiver would: the HMAC
/// of `<t>.<body>` with the secret, and a timestamp within five minutes.
pub fn verify(secret: &str, header: &str, body: &[u8]) -> Result<()> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value),
            Some(("v1", value)) => v1 = Some(value),
            _ => {}
        }
    }
    let (t, v1) = (t.context("no t=")?, v1.context("no v1=")?);
    let timestamp: i64 = t.parse()?;
    if (chrono::Utc::now().timestamp() - timestamp).abs() > 300 {
        bail!("timestamp {timestamp} is too far from now");
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())?;
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if expected != v1 {
        bail!("signature mismatch");
    }
    Ok(())
}
