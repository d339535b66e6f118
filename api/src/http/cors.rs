//! Which browser origins may call the API cross-origin (`--cors-origins`).
//!
//! The grant is tower-http's `CorsLayer`: preflights for `POST /graphql`
//! with `authorization` and `content-type` are answered for a listed origin
//! and get no `Access-Control-Allow-Origin` for any other, so the browser
//! refuses the call. Credentials are off: Parley authenticates with bearer
//! tokens, never cookies, so a page must hold a token to act. The same list
//! is the WebSocket's Origin allow-list (`origin.rs`): browsers send
//! `Origin` on the upgrade but do not apply CORS to it.

use std::time::Duration;

use axum::http::{HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may cache a preflight's answer (Chromium caps it at
/// two hours, Firefox at a day).
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(3600);

/// The allowed origins, normalised as browsers send them
/// (`scheme://host[:port]`, lower case, no default port).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Same origin only: no CORS headers at all (the default).
    #[default]
    None,
    /// `*`: any origin.
    Any,
    List(Vec<String>),
}

impl CorsOrigins {
    /// Parses the setting: origins, or `*` alone. A value with a path, a
    /// query or a scheme other than http(s) is refused, naming it.
    pub fn parse(values: &[String]) -> Result<Self, String> {
        let values: Vec<&str> = values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            return Ok(Self::None);
        }
        if values.contains(&"*") {
            if values.len() > 1 {
                return Err(
                    "the CORS origins are either `*` or a list of origins, not both".into(),
                );
            }
            return Ok(Self::Any);
        }
        let mut origins = Vec::with_capacity(values.len());
        for value in values {
            let origin = normalize(value).ok_or_else(|| {
                format!(
                    "the CORS origin {value:?} is not an origin: write scheme://host[:port], \
                     like http://localhost:5173, with no path"
                )
            })?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(Self::List(origins))
    }

    /// True when a request with this `Origin` header value is allowed.
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            Self::None => false,
            Self::Any => true,
            Self::List(origins) => origins.iter().any(|allowed| allowed == origin),
        }
    }

    /// The layer granting the listed origins; none when the list is empty.
    pub fn layer(&self) -> Option<CorsLayer> {
        let allow_origin = match self {
            Self::None => return None,
            Self::Any => AllowOrigin::any(),
            Self::List(origins) => AllowOrigin::list(
                origins
                    .iter()
                    .filter_map(|origin| HeaderValue::from_str(origin).ok()),
            ),
        };
        Some(
            CorsLayer::new()
                .allow_origin(allow_origin)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .allow_credentials(false)
                .max_age(PREFLIGHT_MAX_AGE),
        )
    }
}

/// `value` as the browser's serialisation of its origin, if it is one.
fn normalize(value: &str) -> Option<String> {
    let url = url::Url::parse(value).ok()?;
    let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    let plain = url.username().is_empty() && url.password().is_none();
    if !matches!(url.scheme(), "http" | "https") || !bare || !plain || value.ends_with('/') {
        return None;
    }
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::CorsOrigins;

    fn parse(values: &[&str]) -> Result<CorsOrigins, String> {
        CorsOrigins::parse(&values.iter().map(|v| v.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn origins_are_normalised_as_browsers_send_them() {
        let origins = parse(&["HTTP://LocalHost:5173", "https://app.example:443", ""]).unwrap();
        assert_eq!(
            origins,
            CorsOrigins::List(vec![
                "http://localhost:5173".into(),
                "https://app.example".into()
            ])
        );
        assert!(origins.allows("http://localhost:5173"));
        assert!(!origins.allows("http://localhost:5174"));
        assert_eq!(parse(&[]).unwrap(), CorsOrigins::None);
        assert_eq!(parse(&["*"]).unwrap(), CorsOrigins::Any);
    }

    #[test]
    fn what_is_not_an_origin_is_refused() {
        for bad in [
            "localhost:5173",
            "http://localhost:5173/",
            "http://localhost:5173/app",
            "http://a.example?x=1",
            "ftp://files.example",
            "http://user@a.example",
        ] {
            let err = parse(&[bad]).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
        assert!(parse(&["*", "http://a.example"]).is_err());
    }
}
