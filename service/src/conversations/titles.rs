//! What a conversation is called when nobody named it: a group created
//! without a title takes one from its first message; until then (and for
//! a direct conversation, always) it is shown by its other members' names.

use crate::validate::DERIVED_TITLE_MAX;

/// The first 60 characters of a message, cut at a word boundary when there
/// is one, for a group created without a title.
pub(crate) fn title_from(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= DERIVED_TITLE_MAX {
        return flat;
    }
    let cut: String = flat.chars().take(DERIVED_TITLE_MAX).collect();
    // Is the character after the cut a space? Then the cut is on a boundary.
    let next = flat.chars().nth(DERIVED_TITLE_MAX);
    if next == Some(' ') {
        return cut;
    }
    match cut.rfind(' ') {
        Some(space) if space > 0 => format!("{}…", &cut[..space]),
        _ => format!("{cut}…"),
    }
}

/// The title shown for a conversation without one, to a viewer whose
/// fellow members are `others` (the host app, which is no member, sees
/// all of them): the first two names and how many more; a viewer alone in
/// it sees `own`, their own name (the host app: nothing).
pub fn untitled_title(others: &[&str], own: Option<&str>) -> String {
    match others {
        [] => own.unwrap_or_default().to_owned(),
        [one] => (*one).to_owned(),
        [a, b] => format!("{a} and {b}"),
        [a, b, rest @ ..] => format!("{a}, {b} and {} more", rest.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_cut_at_a_word_boundary() {
        assert_eq!(title_from("  hello   there "), "hello there");
        let long = "Planning the spring release: who takes the migration guide and who the demo?";
        let title = title_from(long);
        assert_eq!(
            title,
            "Planning the spring release: who takes the migration guide…"
        );
        assert!(title.chars().count() <= 61);
        let word = "x".repeat(80);
        assert_eq!(title_from(&word).chars().count(), 61);
    }

    #[test]
    fn untitled_groups_are_named_after_their_members() {
        assert_eq!(untitled_title(&["Ada"], None), "Ada");
        assert_eq!(untitled_title(&["Ada", "Bo"], None), "Ada and Bo");
        assert_eq!(
            untitled_title(&["Ada", "Bo", "Cy", "Di"], None),
            "Ada, Bo and 2 more"
        );
        assert_eq!(untitled_title(&[], Some("Me")), "Me");
        assert_eq!(untitled_title(&[], None), "");
    }
}
