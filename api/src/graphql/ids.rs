//! Global object ids: opaque strings (`base64("User:42")`, Relay style) that
//! name both the type and the row, so `node(id:)` can resolve any of them
//! and an id of one type is never mistaken for another.

use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::error::{ApiError, ApiResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    User,
    Conversation,
    Message,
    Session,
    Report,
    WebhookEndpoint,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Conversation => "Conversation",
            Kind::Message => "Message",
            Kind::Session => "Session",
            Kind::Report => "Report",
            Kind::WebhookEndpoint => "WebhookEndpoint",
        }
    }
}

pub fn encode(kind: Kind, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.name())))
}

/// The row id inside `id`, which must be an id of `kind`. `field` names the
/// argument in the error.
pub fn decode(kind: Kind, id: &ID, field: &str) -> ApiResult<i64> {
    URL_SAFE_NO_PAD
        .decode(id.as_str())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            let (name, raw) = text.split_once(':')?;
            (name == kind.name()).then(|| raw.parse::<i64>().ok())?
        })
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::bad_input(field, format!("is not a valid {} id", kind.name())))
}

/// The kind and row id inside any global id, for `node(id:)`.
pub fn decode_any(id: &ID, field: &str) -> ApiResult<(Kind, i64)> {
    for kind in [Kind::User, Kind::Conversation, Kind::Message] {
        if let Ok(raw) = decode(kind, id, field) {
            return Ok((kind, raw));
        }
    }
    Err(ApiError::bad_input(field, "is not a valid id"))
}

/// Opaque cursors: base64 of a small text key.
pub mod cursor {
    use super::*;

    pub fn encode(key: &str) -> String {
        URL_SAFE_NO_PAD.encode(key)
    }

    pub fn decode<T>(
        cursor: &str,
        field: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> ApiResult<T> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| parse(&text))
            .ok_or_else(|| ApiError::bad_input(field, "is not a valid cursor"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let id = encode(Kind::Conversation, 42);
        assert_eq!(decode(Kind::Conversation, &id, "id").unwrap(), 42);
        assert!(decode(Kind::User, &id, "id").is_err());
        assert!(decode(Kind::User, &ID("nope".into()), "id").is_err());
        assert!(decode(Kind::User, &encode(Kind::User, -1), "id").is_err());
    }
}
