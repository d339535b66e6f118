//! Content negotiation for GraphQL over HTTP.

use axum::http::{HeaderMap, header};

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
pub const JSON: &str = "application/json";

/// The response media types the server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    /// The GraphQL-over-HTTP media type: request errors get 4xx statuses.
    GraphqlResponseJson,
    /// The legacy type: every well-formed request gets 200.
    Json,
}

impl Media {
    pub fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}

/// The media type to answer with, from the `Accept` header; `None` when the
/// client accepts neither (406). The entry with the highest `q` wins (the
/// first of equals); wildcards mean legacy JSON, as in the GraphQL-over-HTTP
/// reference implementation, and no header means `*/*`.
pub fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let accept = match headers.get(header::ACCEPT) {
        None => return Some(Media::Json),
        Some(value) => value.to_str().ok()?.to_ascii_lowercase(),
    };
    if accept.trim().is_empty() {
        return Some(Media::Json);
    }
    let mut best: Option<(f32, Media)> = None;
    for entry in accept.split(',') {
        let mut parts = entry.split(';').map(str::trim);
        let media_type = parts.next().unwrap_or_default();
        let mut charset_ok = true;
        let mut weight = 1.0f32;
        for param in parts {
            if let Some(charset) = param.strip_prefix("charset=") {
                charset_ok = charset.trim_matches('"') == "utf-8";
            } else if let Some(q) = param.strip_prefix("q=") {
                weight = q.parse::<f32>().unwrap_or(1.0);
            }
        }
        if !charset_ok || weight <= 0.0 {
            continue;
        }
        let media = match media_type {
            GRAPHQL_RESPONSE_JSON => Media::GraphqlResponseJson,
            JSON | "application/*" | "*/*" => Media::Json,
            _ => continue,
        };
        if best.is_none_or(|(q, _)| weight > q) {
            best = Some((weight, media));
        }
    }
    best.map(|(_, media)| media)
}

/// True when a POST body is declared as JSON (UTF-8 or unspecified).
pub fn is_json_body(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let value = value.to_ascii_lowercase();
    let mut parts = value.split(';').map(str::trim);
    parts.next() == Some(JSON)
        && parts.all(|p| {
            p.strip_prefix("charset=")
                .is_none_or(|c| c.trim_matches('"') == "utf-8")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(value: &str) -> Option<Media> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        negotiate(&headers)
    }

    #[test]
    fn picks_the_first_acceptable() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Media::Json));
        assert_eq!(
            accept("application/graphql-response+json"),
            Some(Media::GraphqlResponseJson)
        );
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Some(Media::GraphqlResponseJson)
        );
        assert_eq!(
            accept("application/json, application/graphql-response+json"),
            Some(Media::Json)
        );
        assert_eq!(accept("*/*"), Some(Media::Json));
        assert_eq!(accept("text/html"), None);
        assert_eq!(accept("application/json; charset=iso-8859-1"), None);
        assert_eq!(accept("application/json;q=0, text/html"), None);
        assert_eq!(
            accept("application/json;q=0.1, application/graphql-response+json"),
            Some(Media::GraphqlResponseJson)
        );
    }
}
