//! What a message carries besides its text, and the rules of each kind.
//!
//! | kind | body | attachments | metadata |
//! | --- | --- | --- | --- |
//! | `text` | required (may start empty while streaming) | optional | optional |
//! | `image`, `file` | optional | at least one | optional |
//! | `offer` | required unless there is metadata (its terms) | optional | optional |
//! | `system` | written by Parley only: clients cannot send it | | |
//!
//! Attachments are stored as a JSON array in the message's row, validated
//! and normalized here; nothing else writes that column.

use entity::message::{self, Kind};
use serde::{Deserialize, Serialize};

use crate::{
    error::{Error, Result},
    validate,
};

/// A file a message points at. Parley stores the reference, never the
/// file: the host app (or the sender's storage) serves it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// An `http` or `https` URL, normalized.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `type/subtype`, lower-cased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// In bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// In pixels, for images and videos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
}

/// What a sender asks for besides the body; validated by [`validate`].
#[derive(Clone, Debug, Default)]
pub struct RichContent {
    /// `None` is `Text`.
    pub kind: Option<Kind>,
    pub attachments: Vec<Attachment>,
    /// Must be a JSON object of at most 16 KiB.
    pub metadata: Option<serde_json::Value>,
    /// The author will append text and finish it (see `streaming`).
    pub streaming: bool,
}

/// A message's content, validated and ready to store.
#[derive(Clone, Debug)]
pub(crate) struct Content {
    pub kind: Kind,
    /// Trimmed.
    pub body: String,
    /// The attachments as stored: a JSON array, `None` when empty.
    pub attachments: Option<String>,
    pub metadata: Option<String>,
    pub streaming: bool,
}

/// Checks a message a client sends (or the host app imports). Errors name
/// the input field: `kind`, `body`, `attachments` (with the item in the
/// reason) or `metadata`.
pub(crate) fn validate(body: &str, rich: RichContent) -> Result<Content> {
    let kind = rich.kind.unwrap_or(Kind::Text);
    if kind == Kind::System {
        return Err(Error::invalid(
            "kind",
            "SYSTEM messages are written by Parley only",
        ));
    }
    let attachments = validate_attachments(rich.attachments)?;
    let metadata = validate::metadata(rich.metadata)?;
    let body = validate::trim_body(body)?;
    match kind {
        Kind::Image | Kind::File if attachments.is_none() => {
            return Err(Error::invalid(
                "attachments",
                "an IMAGE or FILE message needs at least one attachment",
            ));
        }
        Kind::Offer if body.is_empty() && metadata.is_none() => {
            return Err(Error::invalid(
                "metadata",
                "an OFFER needs its terms in metadata, or a body",
            ));
        }
        // A streamed text starts empty more often than not.
        Kind::Text if body.is_empty() && !rich.streaming => {
            return Err(Error::invalid("body", "must not be empty"));
        }
        _ => {}
    }
    Ok(Content {
        kind,
        body: body.to_owned(),
        attachments,
        metadata,
        streaming: rich.streaming,
    })
}

/// The attachments as stored (a JSON array), or `None` for none.
fn validate_attachments(items: Vec<Attachment>) -> Result<Option<String>> {
    if items.is_empty() {
        return Ok(None);
    }
    validate::attachment_count(items.len())?;
    let checked = items
        .into_iter()
        .enumerate()
        .map(|(index, item)| validate_attachment(item).map_err(|err| in_item(index, err)))
        .collect::<Result<Vec<_>>>()?;
    serde_json::to_string(&checked)
        .map(Some)
        .map_err(|err| Error::invalid("attachments", format!("cannot be stored: {err}")))
}

/// An error about one attachment's field, said as `[index].field: reason`
/// under `attachments`.
fn in_item(index: usize, err: Error) -> Error {
    match err {
        Error::Invalid { field, reason } => {
            Error::invalid("attachments", format!("[{index}].{field}: {reason}"))
        }
        other => other,
    }
}

fn validate_attachment(item: Attachment) -> Result<Attachment> {
    let url = validate::http_url(&item.url, "url")?;
    let name = validate::attachment_name(item.name.as_deref())?;
    let mime_type = match item.mime_type.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(mime) => Some(validate::mime_type(mime)?),
    };
    if item.size.is_some_and(|size| size < 0) {
        return Err(Error::invalid("size", "must not be negative"));
    }
    for (field, value) in [("width", item.width), ("height", item.height)] {
        if value.is_some_and(|v| v < 1) {
            return Err(Error::invalid(field, "must be positive"));
        }
    }
    Ok(Attachment {
        url,
        name,
        mime_type,
        size: item.size,
        width: item.width,
        height: item.height,
    })
}

/// A stored message's attachments. The column holds only what
/// [`validate`] wrote, so a row that does not parse is a bug: it is logged
/// and shown without attachments rather than failing the whole read.
pub fn attachments_of(message: &message::Model) -> Vec<Attachment> {
    let Some(text) = message.attachments.as_deref() else {
        return Vec::new();
    };
    serde_json::from_str(text).unwrap_or_else(|err| {
        tracing::error!(message_id = message.id, error = %err, "stored attachments do not parse");
        Vec::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rich(kind: Kind) -> RichContent {
        RichContent {
            kind: Some(kind),
            ..Default::default()
        }
    }

    fn field(result: Result<Content>) -> &'static str {
        match result {
            Err(Error::Invalid { field, .. }) => field,
            Err(other) => panic!("unexpected error {other:?}"),
            Ok(_) => "<accepted>",
        }
    }

    fn image(url: &str) -> Attachment {
        Attachment {
            url: url.to_owned(),
            ..Default::default()
        }
    }

    #[test]
    fn each_kind_has_its_rules() {
        assert_eq!(field(validate("", rich(Kind::Text))), "body");
        assert_eq!(field(validate("  ", rich(Kind::Image))), "attachments");
        assert_eq!(field(validate("", rich(Kind::File))), "attachments");
        assert_eq!(field(validate("", rich(Kind::Offer))), "metadata");
        assert_eq!(field(validate("hi", rich(Kind::System))), "kind");
        let streamed = RichContent {
            streaming: true,
            ..Default::default()
        };
        assert_eq!(validate("", streamed).unwrap().body, "");
        let offer = RichContent {
            metadata: Some(serde_json::json!({"amount": "12.50", "currency": "EUR"})),
            ..rich(Kind::Offer)
        };
        assert!(validate("", offer).is_ok());
        let photo = RichContent {
            attachments: vec![image("HTTPS://Cdn.Example/a b.png")],
            ..rich(Kind::Image)
        };
        let stored = validate("", photo).unwrap();
        assert_eq!(
            stored.attachments.as_deref(),
            Some(r#"[{"url":"https://cdn.example/a%20b.png"}]"#)
        );
    }

    #[test]
    fn attachments_are_checked_one_by_one() {
        let with = |items: Vec<Attachment>| RichContent {
            attachments: items,
            ..rich(Kind::File)
        };
        assert_eq!(
            field(validate("", with(vec![image("https://x.example/a"); 11]))),
            "attachments"
        );
        let bad = [
            image("ftp://x.example/a"),
            Attachment {
                size: Some(-1),
                ..image("https://x.example/a")
            },
            Attachment {
                width: Some(0),
                ..image("https://x.example/a")
            },
            Attachment {
                mime_type: Some("image png".into()),
                ..image("https://x.example/a")
            },
            Attachment {
                name: Some("n".repeat(256)),
                ..image("https://x.example/a")
            },
        ];
        for item in bad {
            let result = validate("", with(vec![image("https://x.example/ok"), item]));
            match result {
                Err(Error::Invalid { field, reason }) => {
                    assert_eq!(field, "attachments");
                    assert!(reason.starts_with("[1]."), "{reason}");
                }
                other => panic!("accepted: {other:?}"),
            }
        }
        let good = Attachment {
            url: "https://x.example/r.pdf".into(),
            name: Some(" report.pdf ".into()),
            mime_type: Some("Application/PDF".into()),
            size: Some(0),
            width: None,
            height: None,
        };
        let stored = validate("", with(vec![good])).unwrap();
        let message = message::Model {
            id: 1,
            conversation_id: 1,
            seq: 1,
            sender_id: None,
            body: String::new(),
            client_message_id: None,
            created_at: chrono::Utc::now(),
            kind: Kind::File,
            metadata: None,
            attachments: stored.attachments,
            streaming: false,
            external_id: None,
            edited_at: None,
            deleted_at: None,
            reply_to_id: None,
            thread_root_id: None,
            reply_count: 0,
            last_reply_at: None,
            streamed_at: None,
        };
        let read = attachments_of(&message);
        assert_eq!(read[0].name.as_deref(), Some("report.pdf"));
        assert_eq!(read[0].mime_type.as_deref(), Some("application/pdf"));
        assert_eq!(read[0].size, Some(0));
    }
}
