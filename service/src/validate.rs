//! The form and limit of every input value, in one place.
//!
//! Each function checks one value as a client sends it and returns it in
//! the form Parley stores (trimmed, normalized), or `Error::Invalid` naming
//! the input field. The operations call these; the few checks that combine
//! several values into a domain type (a message's content and attachments,
//! a profile change) compose them where that type lives.
//!
//! Each limit the API's documentation quotes is written once, in
//! [`limit!`], which expands to the number itself: async-graphql reads doc
//! strings through `concat!`, which takes literals but not constants. The
//! constants below are that macro's values.
//!
//! This file is a leaf: it imports nothing of Parley but its error type.

use url::Url;

use crate::error::{Error, Result};

/// The value of a limit by its constant's name, as a literal: for
/// `#[doc = concat!(...)]` in the API, so that the schema's text and the
/// code cannot disagree.
#[macro_export]
macro_rules! limit {
    (USERNAME_MIN) => {
        3
    };
    (USERNAME_MAX) => {
        32
    };
    (PASSWORD_MIN) => {
        8
    };
    (PASSWORD_MAX) => {
        1024
    };
    (DISPLAY_NAME_MAX) => {
        64
    };
    (URL_MAX) => {
        2048
    };
    (EXTERNAL_ID_MAX) => {
        256
    };
    (TITLE_MAX) => {
        128
    };
    (DERIVED_TITLE_MAX) => {
        60
    };
    (CONTEXT_MAX) => {
        128
    };
    (DESCRIPTION_MAX) => {
        1024
    };
    (METADATA_MAX_KIB) => {
        16
    };
    (BODY_MAX) => {
        4000
    };
    (CLIENT_ID_MAX) => {
        64
    };
    (ATTACHMENTS_MAX) => {
        10
    };
    (ATTACHMENT_NAME_MAX) => {
        255
    };
    (MIME_TYPE_MAX) => {
        255
    };
    (EMOJI_MAX_BYTES) => {
        32
    };
    (EMOJI_MAX_CHARS) => {
        16
    };
    (EMOJI_PER_PERSON) => {
        20
    };
    (EMOJI_PER_MESSAGE) => {
        50
    };
    (IMPORT_MAX) => {
        1000
    };
    (MENTIONS_MAX) => {
        50
    };
    (NAME_SEARCH_MAX) => {
        64
    };
    (SEARCH_QUERY_MAX) => {
        256
    };
    (SEARCH_TERMS_MAX) => {
        16
    };
    (PAGE_DEFAULT) => {
        50
    };
    (PAGE_MAX) => {
        100
    };
    (SEARCH_PAGE_DEFAULT) => {
        20
    };
    (SEARCH_PAGE_MAX) => {
        50
    };
}

/// Usernames: letters, digits, `_ . -`; unique without regard to case.
pub const USERNAME_MIN: usize = limit!(USERNAME_MIN);
pub const USERNAME_MAX: usize = limit!(USERNAME_MAX);
/// Passwords, in characters.
pub const PASSWORD_MIN: usize = limit!(PASSWORD_MIN);
pub const PASSWORD_MAX: usize = limit!(PASSWORD_MAX);
/// Display names, in characters after trimming.
pub const DISPLAY_NAME_MAX: usize = limit!(DISPLAY_NAME_MAX);
/// Longest `http` or `https` URL (avatars, attachments), in characters
/// (the column's size).
pub const URL_MAX: usize = limit!(URL_MAX);
/// Longest id the host app gives a user or an imported message.
pub const EXTERNAL_ID_MAX: usize = limit!(EXTERNAL_ID_MAX);
/// Longest conversation title, in characters after trimming.
pub const TITLE_MAX: usize = limit!(TITLE_MAX);
/// Longest title a group takes from its first message.
pub const DERIVED_TITLE_MAX: usize = limit!(DERIVED_TITLE_MAX);
/// Longest context string a host app may attach.
pub const CONTEXT_MAX: usize = limit!(CONTEXT_MAX);
/// Longest conversation description, in characters after trimming.
pub const DESCRIPTION_MAX: usize = limit!(DESCRIPTION_MAX);
/// Largest `metadata` object, serialized.
pub const METADATA_MAX_BYTES: usize = limit!(METADATA_MAX_KIB) * 1024;
/// Longest message body, in characters, after trimming; a streamed
/// message's whole text too.
pub const BODY_MAX: usize = limit!(BODY_MAX);
/// Longest client message id, in characters.
pub const CLIENT_ID_MAX: usize = limit!(CLIENT_ID_MAX);
/// Most attachments one message carries.
pub const ATTACHMENTS_MAX: usize = limit!(ATTACHMENTS_MAX);
/// Longest attachment file name, in characters.
pub const ATTACHMENT_NAME_MAX: usize = limit!(ATTACHMENT_NAME_MAX);
/// Longest MIME type (RFC 6838 allows 127 + 1 + 127).
pub const MIME_TYPE_MAX: usize = limit!(MIME_TYPE_MAX);
/// Longest emoji, in bytes (what the column holds) and in characters.
pub const EMOJI_MAX_BYTES: usize = limit!(EMOJI_MAX_BYTES);
pub const EMOJI_MAX_CHARS: usize = limit!(EMOJI_MAX_CHARS);
/// Different emoji one person may put on one message.
pub const EMOJI_PER_PERSON: usize = limit!(EMOJI_PER_PERSON);
/// Different emoji a message may carry, from everyone: each is a group
/// every reader of the message downloads.
pub const EMOJI_PER_MESSAGE: usize = limit!(EMOJI_PER_MESSAGE);
/// Most messages one `importMessages` call carries.
pub const IMPORT_MAX: usize = limit!(IMPORT_MAX);
/// Most users one message may mention (`@username`s and explicit ids
/// together; more in the body are ignored, more ids are refused).
pub const MENTIONS_MAX: usize = limit!(MENTIONS_MAX);
/// Longest `search` of users and conversations by name, in characters.
pub const NAME_SEARCH_MAX: usize = limit!(NAME_SEARCH_MAX);
/// Longest full-text search query, in characters.
pub const SEARCH_QUERY_MAX: usize = limit!(SEARCH_QUERY_MAX);
/// Most words a search query may have: each one is an index lookup.
pub const SEARCH_TERMS_MAX: usize = limit!(SEARCH_TERMS_MAX);
/// Page size of a connection when the client names none.
pub const PAGE_DEFAULT: u64 = limit!(PAGE_DEFAULT);
/// Largest page of a connection.
pub const PAGE_MAX: u64 = limit!(PAGE_MAX);
/// Page size of `searchMessages` when the client names none.
pub const SEARCH_PAGE_DEFAULT: u64 = limit!(SEARCH_PAGE_DEFAULT);
/// Largest page of `searchMessages`.
pub const SEARCH_PAGE_MAX: u64 = limit!(SEARCH_PAGE_MAX);

/// NUL characters: PostgreSQL cannot store them in text and SQLite cuts
/// strings at them in places, so text that carries one is refused, the
/// same way on both databases, as bad input on the field it came in.
pub(crate) fn no_nul(field: &'static str, text: &str) -> Result<()> {
    if text.contains('\0') {
        return Err(Error::invalid(field, "must not contain NUL characters"));
    }
    Ok(())
}

/// 3 to 32 characters of letters, digits, `_`, `.` and `-`. Case is kept
/// for display; uniqueness ignores it.
pub(crate) fn username(raw: &str) -> Result<String> {
    let name = raw.trim();
    let len = name.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
        return Err(Error::invalid(
            "username",
            format!("must be {USERNAME_MIN} to {USERNAME_MAX} characters long"),
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(Error::invalid(
            "username",
            "may contain only letters a-z, digits, '_', '.' and '-'",
        ));
    }
    Ok(name.to_owned())
}

/// A character a username may contain (see [`username`]).
fn username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// The usernames a body mentions, lower-cased (as `username_key`), each
/// once, at most [`MENTIONS_MAX`]: `@` followed by a username (3 to 32 of
/// letters, digits, `_ . -`), where the `@` does not follow a username
/// character (so `ann@example.com` mentions no one). Trailing `.` and `-`
/// (the end of a sentence) are tried both with and without: `@ann.` may
/// name `ann.` or `ann`.
pub(crate) fn mention_names(body: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut previous: Option<char> = None;
    let mut rest = body.char_indices().peekable();
    while let Some((at, c)) = rest.next() {
        let starts = c == '@' && !previous.is_some_and(username_char);
        previous = Some(c);
        if !starts {
            continue;
        }
        let tail = &body[at + 1..];
        let token: String = tail.chars().take_while(|c| username_char(*c)).collect();
        for name in [token.as_str(), token.trim_end_matches(['.', '-'])] {
            let len = name.chars().count();
            let key = name.to_ascii_lowercase();
            if (USERNAME_MIN..=USERNAME_MAX).contains(&len)
                && !names.contains(&key)
                && names.len() < MENTIONS_MAX * 2
            {
                names.push(key);
            }
        }
        // Skip the token: `@a@b` mentions `a` only.
        for _ in 0..token.chars().count() {
            previous = rest.next().map(|(_, c)| c);
        }
    }
    names
}

/// At most [`MENTIONS_MAX`] explicit mentions.
pub(crate) fn mention_ids(ids: &[i64]) -> Result<()> {
    if ids.len() > MENTIONS_MAX {
        return Err(Error::invalid(
            "mentions",
            format!("at most {MENTIONS_MAX} users may be mentioned"),
        ));
    }
    Ok(())
}

/// 8 to 1024 characters; `field` names the input in the error.
pub(crate) fn password(field: &'static str, password: &str) -> Result<()> {
    let len = password.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&len) {
        return Err(Error::invalid(
            field,
            format!("must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long"),
        ));
    }
    Ok(())
}

/// 1 to 64 characters after trimming.
pub(crate) fn display_name(raw: &str) -> Result<String> {
    no_nul("displayName", raw)?;
    let name = raw.trim();
    let len = name.chars().count();
    if len == 0 || len > DISPLAY_NAME_MAX {
        return Err(Error::invalid(
            "displayName",
            format!("must be 1 to {DISPLAY_NAME_MAX} characters long"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "displayName",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// An avatar URL: see [`http_url`].
pub(crate) fn avatar_url(raw: &str) -> Result<String> {
    http_url(raw, "avatarUrl")
}

/// An avatar URL (see [`avatar_url`]); blank clears it.
pub(crate) fn optional_avatar_url(value: Option<String>) -> Result<Option<String>> {
    value
        .filter(|url| !url.trim().is_empty())
        .map(|url| avatar_url(&url))
        .transpose()
}

/// An absolute `http` or `https` URL with a host and no credentials, at
/// most 2048 characters. Returned in its normalized form (escaped, scheme
/// and host lower-cased), which is safe to put in an HTML attribute.
/// Errors name `field`.
pub(crate) fn http_url(raw: &str, field: &'static str) -> Result<String> {
    let too_long = || Error::invalid(field, format!("must be at most {URL_MAX} characters long"));
    let raw = raw.trim();
    if raw.chars().count() > URL_MAX {
        return Err(too_long());
    }
    let url = Url::parse(raw)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .filter(|url| url.host_str().is_some_and(|host| !host.is_empty()))
        .ok_or_else(|| Error::invalid(field, "must be an http or https URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            field,
            "must not contain a user name or password",
        ));
    }
    let normalized = String::from(url);
    if normalized.chars().count() > URL_MAX {
        return Err(too_long());
    }
    Ok(normalized)
}

/// 1 to 256 characters, compared exactly (case matters), with no control
/// characters and no space at either end (which would make two ids that
/// look the same).
pub(crate) fn external_id(raw: &str, field: &'static str) -> Result<String> {
    let len = raw.chars().count();
    if len == 0 || len > EXTERNAL_ID_MAX {
        return Err(Error::invalid(
            field,
            format!("must be 1 to {EXTERNAL_ID_MAX} characters long"),
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    if raw.trim() != raw {
        return Err(Error::invalid(field, "must not start or end with a space"));
    }
    Ok(raw.to_owned())
}

/// A title is 1 to 128 characters after trimming; blank means none.
pub(crate) fn title(title: Option<String>) -> Result<Option<String>> {
    let Some(title) = title.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if title.chars().count() > TITLE_MAX || title.chars().any(char::is_control) {
        return Err(Error::invalid(
            "title",
            format!("must be at most {TITLE_MAX} characters, without control characters"),
        ));
    }
    Ok(Some(title))
}

/// A context is the host app's key (`listing:8841`): 1 to 128 printable
/// characters without spaces; blank means none.
pub(crate) fn context(context: Option<String>) -> Result<Option<String>> {
    let Some(context) = context
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
    else {
        return Ok(None);
    };
    if context.chars().count() > CONTEXT_MAX
        || context.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(Error::invalid(
            "context",
            format!("must be at most {CONTEXT_MAX} characters, without spaces"),
        ));
    }
    Ok(Some(context))
}

/// A conversation's description: optional text of at most 1024
/// characters (see [`optional_text`]).
pub(crate) fn description(value: Option<String>) -> Result<Option<String>> {
    optional_text("description", value, DESCRIPTION_MAX)
}

/// Optional text: trimmed, at most `max` characters; blank clears it.
fn optional_text(field: &'static str, value: Option<String>, max: usize) -> Result<Option<String>> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(Some(value))
}

/// A JSON object of at most 16 KiB, stored as text.
pub(crate) fn metadata(value: Option<serde_json::Value>) -> Result<Option<String>> {
    let Some(value) = value else {
        return Ok(None);
    };
    if !value.is_object() {
        return Err(Error::invalid("metadata", "must be a JSON object"));
    }
    let text = value.to_string();
    if text.len() > METADATA_MAX_BYTES {
        return Err(Error::invalid(
            "metadata",
            format!("must be at most {} KiB", METADATA_MAX_BYTES / 1024),
        ));
    }
    Ok(Some(text))
}

/// A body trimmed, if it is at most [`BODY_MAX`] characters long; it may
/// be empty (whether it may is the kind's rule).
pub(crate) fn trim_body(body: &str) -> Result<&str> {
    no_nul("body", body)?;
    let body = body.trim();
    if body.chars().count() > BODY_MAX {
        return Err(Error::invalid(
            "body",
            format!("must be at most {BODY_MAX} characters long"),
        ));
    }
    Ok(body)
}

/// A message body trimmed and not empty, or why it is unacceptable.
pub(crate) fn body(body: &str) -> Result<&str> {
    let body = trim_body(body)?;
    if body.is_empty() {
        return Err(Error::invalid("body", "must not be empty"));
    }
    Ok(body)
}

/// A sender's idempotency key: 1 to 64 characters.
pub(crate) fn client_message_id(id: Option<&str>) -> Result<()> {
    if let Some(id) = id {
        no_nul("clientMessageId", id)?;
        let len = id.chars().count();
        if len == 0 || len > CLIENT_ID_MAX {
            return Err(Error::invalid(
                "clientMessageId",
                format!("must be 1 to {CLIENT_ID_MAX} characters long"),
            ));
        }
    }
    Ok(())
}

/// A moderation reason (a report's, a ban's, a resolution): trimmed, 1
/// to `max` characters (the `max_reason` setting).
pub(crate) fn reason(field: &'static str, text: &str, max: usize) -> Result<String> {
    no_nul(field, text)?;
    let text = text.trim();
    let len = text.chars().count();
    if len == 0 || len > max {
        return Err(Error::invalid(
            field,
            format!("must be 1 to {max} characters long"),
        ));
    }
    Ok(text.to_owned())
}

/// How many attachments one message may carry.
pub(crate) fn attachment_count(count: usize) -> Result<()> {
    if count > ATTACHMENTS_MAX {
        return Err(Error::invalid(
            "attachments",
            format!("at most {ATTACHMENTS_MAX} per message"),
        ));
    }
    Ok(())
}

/// An attachment's file name: trimmed, at most 255 characters, no control
/// characters; blank means none.
pub(crate) fn attachment_name(name: Option<&str>) -> Result<Option<String>> {
    match name.map(str::trim) {
        None | Some("") => Ok(None),
        Some(name) if name.chars().count() > ATTACHMENT_NAME_MAX => Err(Error::invalid(
            "name",
            format!("must be at most {ATTACHMENT_NAME_MAX} characters long"),
        )),
        Some(name) if name.chars().any(char::is_control) => Err(Error::invalid(
            "name",
            "must not contain control characters",
        )),
        Some(name) => Ok(Some(name.to_owned())),
    }
}

/// `type/subtype` in RFC 6838's token characters, lower-cased; parameters
/// (`; charset=...`) are not kept apart and so are refused.
pub(crate) fn mime_type(raw: &str) -> Result<String> {
    let token = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    match raw.split_once('/') {
        Some((kind, sub)) if raw.len() <= MIME_TYPE_MAX && token(kind) && token(sub) => {
            Ok(raw.to_ascii_lowercase())
        }
        _ => Err(Error::invalid("mimeType", "must be a type/subtype")),
    }
}

/// Invisible characters that would make a "reaction" nobody can see or
/// that turns the text around it backwards: zero-width space and
/// non-joiner, word joiner, byte-order mark, and the bidirectional
/// controls. The zero-width joiner stays: emoji sequences are built with it.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200C}' | '\u{2060}' | '\u{FEFF}')
        || ('\u{200E}'..='\u{200F}').contains(&c)
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// An emoji as a client may send it: one emoji (or a short sequence, as
/// skin tones and families are), not free text.
pub fn emoji(emoji: &str) -> Result<()> {
    if emoji.is_empty() {
        return Err(Error::invalid("emoji", "must not be empty"));
    }
    if emoji.len() > EMOJI_MAX_BYTES || emoji.chars().count() > EMOJI_MAX_CHARS {
        return Err(Error::invalid(
            "emoji",
            format!("must be at most {EMOJI_MAX_BYTES} bytes and {EMOJI_MAX_CHARS} characters"),
        ));
    }
    if emoji
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || is_invisible(c))
    {
        return Err(Error::invalid(
            "emoji",
            "must not contain spaces, control or invisible characters",
        ));
    }
    Ok(())
}

/// How many messages one import may carry.
pub(crate) fn import_count(count: usize) -> Result<()> {
    if count > IMPORT_MAX {
        return Err(Error::invalid(
            "messages",
            format!("at most {IMPORT_MAX} per import"),
        ));
    }
    Ok(())
}

/// A `search` of users or conversations by name (already trimmed and not
/// blank): at most 64 characters.
pub(crate) fn name_search(term: &str) -> Result<()> {
    if term.chars().count() > NAME_SEARCH_MAX {
        return Err(Error::invalid(
            "search",
            format!("must be at most {NAME_SEARCH_MAX} characters"),
        ));
    }
    Ok(())
}

/// A page size a client asked for: 0 to `max`. Errors name `field`.
pub(crate) fn page_size(field: &'static str, n: i64, max: u64) -> Result<u64> {
    u64::try_from(n)
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| Error::invalid(field, format!("must be between 0 and {max}")))
}

/// The length of a webhook signing secret the host app chooses.
pub const WEBHOOK_SECRET_MIN: usize = 16;
pub const WEBHOOK_SECRET_MAX: usize = 256;

/// A webhook endpoint's event types: at least one, each once.
pub(crate) fn webhook_event_types(
    mut types: Vec<crate::webhooks::EventType>,
) -> Result<Vec<crate::webhooks::EventType>> {
    let mut seen = std::collections::HashSet::new();
    types.retain(|t| seen.insert(*t));
    if types.is_empty() {
        return Err(Error::invalid(
            "eventTypes",
            "must name at least one event type",
        ));
    }
    Ok(types)
}

/// A webhook signing secret: 16 to 256 characters, no surrounding blanks.
pub(crate) fn webhook_secret(secret: String) -> Result<String> {
    let count = secret.chars().count();
    if !(WEBHOOK_SECRET_MIN..=WEBHOOK_SECRET_MAX).contains(&count) || secret.trim() != secret {
        return Err(Error::invalid(
            "secret",
            format!(
                "must be {WEBHOOK_SECRET_MIN} to {WEBHOOK_SECRET_MAX} characters, without surrounding blanks"
            ),
        ));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<T: std::fmt::Debug>(result: Result<T>) -> &'static str {
        match result {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn nul_characters_are_refused() {
        assert_eq!(field(no_nul("username", "a\0b")), "username");
        assert!(no_nul("username", "ab").is_ok());
        assert_eq!(field(display_name("Ada\0")), "displayName");
        assert_eq!(field(trim_body("hi\0")), "body");
        assert_eq!(field(client_message_id(Some("c\0"))), "clientMessageId");
    }

    #[test]
    fn mentions_follow_the_username_grammar() {
        assert_eq!(mention_names("hi @Ann and @ben_2!"), ["ann", "ben_2"]);
        assert_eq!(mention_names("mail ann@example.com"), Vec::<String>::new());
        assert_eq!(mention_names("@ab @abc."), ["abc.", "abc"]);
        assert_eq!(mention_names("(@cyd) @cyd"), ["cyd"]);
        assert_eq!(mention_names("@ann@ben"), ["ann"]);
        assert!(mention_names(&format!("@{}", "a".repeat(33))).is_empty());
    }

    #[test]
    fn usernames() {
        assert_eq!(username(" Alice.B-2_ ").ok().as_deref(), Some("Alice.B-2_"));
        for bad in ["ab", "a b c", "ünï", "x".repeat(33).as_str(), "bob!"] {
            assert!(
                matches!(
                    username(bad),
                    Err(Error::Invalid {
                        field: "username",
                        ..
                    })
                ),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn passwords_and_display_names() {
        assert!(password("password", &"p".repeat(PASSWORD_MIN)).is_ok());
        assert_eq!(field(password("newPassword", "short")), "newPassword");
        assert_eq!(
            field(password("password", &"p".repeat(PASSWORD_MAX + 1))),
            "password"
        );
        assert_eq!(display_name("  Ada  ").unwrap(), "Ada");
        assert_eq!(field(display_name("   ")), "displayName");
        assert_eq!(field(display_name("bell\u{7}")), "displayName");
        assert_eq!(
            field(display_name(&"n".repeat(DISPLAY_NAME_MAX + 1))),
            "displayName"
        );
    }

    #[test]
    fn avatar_urls() {
        assert_eq!(
            avatar_url(" HTTPS://Cdn.Example.com/a b.png ").unwrap(),
            "https://cdn.example.com/a%20b.png"
        );
        assert!(avatar_url("http://localhost:8080/x").is_ok());
        let long = format!("https://x.example/{}", "a".repeat(URL_MAX));
        for bad in [
            "",
            "not a url",
            "/relative.png",
            "ftp://example.com/a.png",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "https://user:pw@example.com/a.png",
            "file:///etc/passwd",
            long.as_str(),
        ] {
            assert!(
                matches!(
                    avatar_url(bad),
                    Err(Error::Invalid {
                        field: "avatarUrl",
                        ..
                    })
                ),
                "{bad} accepted"
            );
        }
        assert_eq!(optional_avatar_url(Some("  ".into())).unwrap(), None);
    }

    #[test]
    fn external_ids() {
        assert!(external_id("0x52908400098527886E0F7030069857D2E4169EE7", "sub").is_ok());
        assert!(external_id(&"a".repeat(256), "sub").is_ok());
        for bad in ["", " a", "a ", "a\nb"] {
            assert!(external_id(bad, "sub").is_err(), "{bad:?}");
        }
        assert!(external_id(&"a".repeat(257), "sub").is_err());
    }

    #[test]
    fn titles_contexts_and_descriptions() {
        assert_eq!(
            title(Some("  Trip  ".into())).unwrap().as_deref(),
            Some("Trip")
        );
        assert_eq!(title(Some("   ".into())).unwrap(), None);
        assert_eq!(field(title(Some("x".repeat(TITLE_MAX + 1)))), "title");
        assert_eq!(
            context(Some(" listing:8841 ".into())).unwrap().as_deref(),
            Some("listing:8841")
        );
        assert_eq!(field(context(Some("two words".into()))), "context");
        assert_eq!(description(Some(" ".into())).unwrap(), None);
        assert_eq!(
            field(description(Some("d".repeat(DESCRIPTION_MAX + 1)))),
            "description"
        );
    }

    #[test]
    fn metadata_is_a_small_object() {
        assert_eq!(
            metadata(Some(serde_json::json!({"a": 1})))
                .unwrap()
                .as_deref(),
            Some(r#"{"a":1}"#)
        );
        assert_eq!(field(metadata(Some(serde_json::json!([1])))), "metadata");
        let big = serde_json::json!({ "x": "m".repeat(METADATA_MAX_BYTES) });
        assert_eq!(field(metadata(Some(big))), "metadata");
    }

    #[test]
    fn bodies_and_client_ids() {
        assert_eq!(body("  hi  ").unwrap(), "hi");
        assert_eq!(field(body("   ")), "body");
        assert_eq!(trim_body("   ").unwrap(), "");
        assert_eq!(field(trim_body(&"b".repeat(BODY_MAX + 1))), "body");
        assert!(client_message_id(None).is_ok());
        assert_eq!(field(client_message_id(Some(""))), "clientMessageId");
        assert_eq!(
            field(client_message_id(Some(&"c".repeat(CLIENT_ID_MAX + 1)))),
            "clientMessageId"
        );
    }

    #[test]
    fn emoji_are_short_and_visible() {
        assert!(emoji("👍").is_ok());
        assert!(emoji("👨\u{200D}👩\u{200D}👧").is_ok());
        for bad in ["", "a b", "\u{200B}", "\u{202E}x", &"😀".repeat(9)] {
            assert_eq!(field(emoji(bad)), "emoji", "{bad:?}");
        }
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size("first", 0, PAGE_MAX).unwrap(), 0);
        assert_eq!(page_size("first", 100, PAGE_MAX).unwrap(), PAGE_MAX);
        assert_eq!(field(page_size("last", -1, PAGE_MAX)), "last");
        let over = i64::try_from(SEARCH_PAGE_MAX + 1).unwrap();
        assert_eq!(field(page_size("first", over, SEARCH_PAGE_MAX)), "first");
    }
}
