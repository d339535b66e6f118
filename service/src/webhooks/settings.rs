//! What the operator sets for webhook deliveries.

use std::time::Duration;

/// The kinds of object a payload names by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    User,
    Conversation,
    Message,
}

#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Deliver to loopback, private and link-local addresses (refused by
    /// default: a webhook URL must not reach into the server's network).
    pub allow_private: bool,
    /// Longest one request may take, response included.
    pub timeout: Duration,
    /// Most response bytes read (the rest is dropped).
    pub max_response_bytes: usize,
    /// Failed attempts in a row at one event before the endpoint pauses.
    pub max_attempts: u32,
    /// The first retry's delay; each next one doubles, with jitter.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How long an instance holds an endpoint without renewing (several
    /// instances on one PostgreSQL: one delivers to it at a time).
    pub lease: Duration,
    /// How often endpoints are looked for and leases renewed; new events
    /// wake deliveries at once.
    pub poll: Duration,
    /// How ids are written in payloads: the API's global ids.
    pub id_format: fn(IdKind, i64) -> String,
}

fn raw_id(_: IdKind, id: i64) -> String {
    id.to_string()
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout: Duration::from_secs(10),
            max_response_bytes: 64 * 1024,
            max_attempts: 10,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
            id_format: raw_id,
        }
    }
}

impl WebhookSettings {
    /// The delay before retry number `failures` (1 after the first
    /// failure): exponential, capped, with "equal jitter" (half fixed, half
    /// random) so that endpoints that failed together do not retry together.
    pub(crate) fn backoff(&self, failures: u32) -> Duration {
        let exp = self
            .backoff_base
            .saturating_mul(1u32 << failures.saturating_sub(1).min(20));
        let capped = exp.min(self.backoff_max);
        let half = capped / 2;
        half + half.mul_f64(rand::random::<f64>())
    }
}
