//! Which web pages may open a WebSocket: cross-site WebSocket hijacking.
//!
//! Browsers let any page open a WebSocket to any host and send it the
//! user's cookies and HTTP authentication; Parley's tokens travel in
//! `connection_init`, which a foreign page does not have, but a page could
//! still drive a socket that a browser extension, proxy or future cookie
//! sign-in authenticates. So a browser's `Origin` must be the server's own,
//! a loopback page (development), or one the operator allows.

use axum::http::{HeaderMap, header};

use super::CorsOrigins;

/// The operator's allow-list: the CORS list (`--cors-origins`), as
/// [`CorsOrigins::parse`] normalised it, so that an origin CORS grants is
/// one the WebSocket admits.
#[derive(Clone, Debug, Default)]
pub struct AllowedOrigins {
    any: bool,
    origins: Vec<String>,
    /// Pages on `localhost`, `127.x` or `[::1]`: development, so not in
    /// production mode, where any page on the user's own machine (a local
    /// app, a dev server) could otherwise drive a socket.
    loopback: bool,
}

impl AllowedOrigins {
    pub fn new(cors: &CorsOrigins, loopback: bool) -> Self {
        let (any, origins) = match cors {
            CorsOrigins::None => (false, Vec::new()),
            CorsOrigins::Any => (true, Vec::new()),
            CorsOrigins::List(origins) => (false, origins.clone()),
        };
        Self {
            any,
            origins,
            loopback,
        }
    }

    /// True when the request may go on: no `Origin` (not a browser), an
    /// allowed one, the server's own host, or (outside production) a
    /// loopback host.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
        if self.any || self.origins.contains(&origin) {
            return true;
        }
        // `null` (sandboxed frames, files) has no host: only by name.
        let Some((_scheme, authority)) = origin.split_once("://") else {
            return false;
        };
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_ascii_lowercase);
        if host.as_deref() == Some(authority) {
            return true;
        }
        self.loopback && is_loopback(authority)
    }
}

/// `localhost`, `127.x.x.x` or `[::1]`, with any port.
fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            HeaderValue::from_str(host).unwrap_or(HeaderValue::from_static("x")),
        );
        if let Some(origin) = origin {
            h.insert(
                header::ORIGIN,
                HeaderValue::from_str(origin).unwrap_or(HeaderValue::from_static("x")),
            );
        }
        h
    }

    #[test]
    fn origins() {
        let list = |values: &[&str]| {
            CorsOrigins::parse(&values.iter().map(|v| v.to_string()).collect::<Vec<_>>()).unwrap()
        };
        let none = AllowedOrigins::new(&list(&[]), true);
        assert!(none.allows(&headers(None, "chat.example.com")));
        assert!(none.allows(&headers(
            Some("https://chat.example.com"),
            "chat.example.com"
        )));
        assert!(none.allows(&headers(Some("http://localhost:5173"), "chat.example.com")));
        assert!(none.allows(&headers(Some("http://127.0.0.1:3000"), "chat.example.com")));
        assert!(none.allows(&headers(Some("http://[::1]:3000"), "chat.example.com")));
        assert!(!none.allows(&headers(Some("https://evil.example"), "chat.example.com")));
        assert!(!none.allows(&headers(Some("null"), "chat.example.com")));
        assert!(!none.allows(&headers(
            Some("http://localhost.evil.example"),
            "chat.example.com"
        )));
        let listed = AllowedOrigins::new(&list(&["https://APP.example.com:443"]), true);
        assert!(listed.allows(&headers(
            Some("https://APP.example.com"),
            "chat.example.com"
        )));
        assert!(!listed.allows(&headers(Some("https://evil.example"), "chat.example.com")));
        let any = AllowedOrigins::new(&list(&["*"]), true);
        assert!(any.allows(&headers(Some("null"), "chat.example.com")));
        let production = AllowedOrigins::new(&list(&[]), false);
        assert!(!production.allows(&headers(Some("http://localhost:5173"), "chat.example.com")));
        assert!(production.allows(&headers(
            Some("https://chat.example.com"),
            "chat.example.com"
        )));
    }
}
