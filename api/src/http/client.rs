//! Who the client is, as far as the network says: its address, from the
//! TCP peer or, behind a trusted reverse proxy, from `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

use axum::{extract::ConnectInfo, http::HeaderMap};

/// The client's address for rate limits and socket caps. With
/// `trust_forwarded_for`, the last `X-Forwarded-For` entry: the one the
/// proxy in front wrote (entries before it are the client's own say).
pub fn client_addr(
    peer: Option<&ConnectInfo<SocketAddr>>,
    headers: &HeaderMap,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|entry| entry.trim().parse::<IpAddr>().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|ConnectInfo(addr)| addr.ip())
}
