//! The HTTP client webhooks go out with.
//!
//! SSRF: a URL whose host is an IP literal is checked as written; a host
//! name is resolved by [`GuardedResolver`] at connection time and only its
//! public addresses are used, so a name that resolves (or re-resolves, DNS
//! rebinding) to a private address is refused too. No proxies from the
//! environment, no redirects (a 3xx is a failure). Every request has a
//! time limit, and at most `max_response_bytes` of the answer are read.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use hmac::{Hmac, Mac};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sha2::Sha256;

use super::WebhookSettings;
use crate::error::{Error, Result};

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "Parley-Signature";
/// The event id: the same event delivered again carries the same one.
pub const EVENT_ID_HEADER: &str = "Parley-Event-Id";
pub const EVENT_TYPE_HEADER: &str = "Parley-Event-Type";

/// The signature header's value for `body` signed at `timestamp`.
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

/// Whether delivering to `ip` could reach into the server's own network.
pub(crate) fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => private_v4(v4),
            None => private_v6(v6),
        },
    }
}

fn private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // "This network", 0.0.0.0/8.
        || a == 0
}

fn private_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local fc00::/7 and link-local fe80::/10.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
}

/// Refuses a URL whose host is a private IP literal or a name that
/// always means this machine (checked at registration and before every
/// request; names are checked again as they resolve).
pub(crate) fn check_url(url: &str, allow_private: bool) -> Result<()> {
    if allow_private {
        return Ok(());
    }
    let refused = || {
        Error::invalid(
            "url",
            "must not point at a private, loopback or link-local address",
        )
    };
    let parsed =
        url::Url::parse(url).map_err(|_| Error::invalid("url", "must be an http or https URL"))?;
    match parsed.host() {
        Some(url::Host::Ipv4(ip)) if is_private(IpAddr::V4(ip)) => Err(refused()),
        Some(url::Host::Ipv6(ip)) if is_private(IpAddr::V6(ip)) => Err(refused()),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                Err(refused())
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// Resolves host names and keeps only public addresses, unless allowed.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow_private;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let addrs: Vec<SocketAddr> = found.filter(|a| allow || !is_private(a.ip())).collect();
            if addrs.is_empty() {
                return Err(format!("{} has no public address", name.as_str()).into());
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The client every endpoint of one service shares.
pub(crate) fn client(settings: &WebhookSettings) -> reqwest::Client {
    let built = reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("Parley-Webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(GuardedResolver {
            allow_private: settings.allow_private,
        }))
        .build();
    match built {
        Ok(client) => client,
        Err(err) => {
            // Only a broken TLS backend fails here; deliveries then fail
            // and are reported per endpoint.
            tracing::error!(error = %err, "webhooks: HTTP client setup failed");
            reqwest::Client::new()
        }
    }
}

/// One signed POST; `Err` is the reason it failed, for `lastError`.
pub(crate) async fn post(
    client: &reqwest::Client,
    settings: &WebhookSettings,
    url: &str,
    secret: &str,
    event_id: i64,
    event_type: &str,
    body: Vec<u8>,
) -> std::result::Result<(), String> {
    check_url(url, settings.allow_private).map_err(|err| err.to_string())?;
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let signature = sign(secret, timestamp, &body);
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header(EVENT_ID_HEADER, event_id.to_string())
        .header(EVENT_TYPE_HEADER, event_type)
        .body(body)
        .send()
        .await
        .map_err(describe)?;
    let status = response.status();
    let snippet = read_capped(response, settings.max_response_bytes).await;
    if status.is_success() {
        return Ok(());
    }
    let snippet: String = snippet.chars().take(200).collect();
    Err(format!("HTTP {}: {}", status.as_u16(), snippet.trim()))
}

/// At most `cap` bytes of the body, as text; the rest is not read.
async fn read_capped(mut response: reqwest::Response, cap: usize) -> String {
    let mut kept = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if kept.len() >= cap {
            break;
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// A request error as `lastError` says it, with its cause.
fn describe(err: reqwest::Error) -> String {
    use std::error::Error as _;
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(300).collect()
}
