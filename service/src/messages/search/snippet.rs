//! Snippets: the part of a message around its matches, as plain text plus
//! the character ranges to highlight, so clients render them without
//! parsing markup (and without an HTML injection to get wrong).
//!
//! The databases mark matches with two private-use characters; a body
//! may contain those characters itself, so the parser tolerates any
//! sequence of them: it never panics and never yields a range outside the
//! text or an empty one.

/// Put before a match by the database's snippet function.
pub const START: char = '\u{E000}';
/// Put after a match.
pub const STOP: char = '\u{E001}';
/// Put where the body was cut off.
pub const ELLIPSIS: &str = "…";
/// Stands in for `<` while PostgreSQL builds a headline (see `search.rs`).
/// A body's own U+E002 shows as `<` in its snippet.
pub const TAG_GUARD: char = '\u{E002}';

/// A highlighted snippet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<TextRange>,
}

/// A half-open range `[start, end)` of a snippet's text, counted in
/// Unicode code points (Rust `char`s; `Array.from(text)` in JavaScript).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextRange {
    pub start: usize,
    pub end: usize,
}

impl Snippet {
    /// Splits marked text into plain text and highlight ranges. A start
    /// inside a match and a stop outside one are dropped; a match left open
    /// ends with the text.
    pub fn from_marked(marked: &str) -> Self {
        let mut text = String::with_capacity(marked.len());
        let mut highlights = Vec::new();
        let mut len = 0;
        let mut open: Option<usize> = None;
        for c in marked.chars() {
            match c {
                START => {
                    open.get_or_insert(len);
                }
                STOP => {
                    if let Some(start) = open.take()
                        && start < len
                    {
                        highlights.push(TextRange { start, end: len });
                    }
                }
                c => {
                    text.push(c);
                    len += 1;
                }
            }
        }
        if let Some(start) = open
            && start < len
        {
            highlights.push(TextRange { start, end: len });
        }
        Self { text, highlights }
    }
}

impl Snippet {
    /// Adds [`ELLIPSIS`] where `ts_headline` cut `body` (FTS5 adds its own),
    /// so snippets read the same on both databases.
    pub fn mark_cuts(&mut self, body: &str) {
        let Some(at) = body.find(&self.text) else {
            return;
        };
        if at + self.text.len() < body.len() {
            self.text.push_str(ELLIPSIS);
        }
        if at > 0 {
            self.text.insert_str(0, ELLIPSIS);
            let shift = ELLIPSIS.chars().count();
            for range in &mut self.highlights {
                range.start += shift;
                range.end += shift;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(s: &str) -> String {
        s.replace('[', &START.to_string())
            .replace(']', &STOP.to_string())
    }

    fn ranges(snippet: &Snippet) -> Vec<(usize, usize)> {
        snippet
            .highlights
            .iter()
            .map(|r| (r.start, r.end))
            .collect()
    }

    #[test]
    fn plain_text_and_char_offsets() {
        let s = Snippet::from_marked(&marked("un [Café] à [déployer]"));
        assert_eq!(s.text, "un Café à déployer");
        assert_eq!(ranges(&s), [(3, 7), (10, 18)]);
        let chars: Vec<char> = s.text.chars().collect();
        assert_eq!(chars[3..7].iter().collect::<String>(), "Café");
    }

    #[test]
    fn stray_markers_never_break_offsets() {
        for input in ["]]a[[b", "[", "]", "[]", "a[b", "[[a]]]", "a]b[", "[🎉]x"] {
            let s = Snippet::from_marked(&marked(input));
            let len = s.text.chars().count();
            for r in &s.highlights {
                assert!(r.start < r.end && r.end <= len, "{input}: {r:?}");
            }
            assert!(!s.text.contains([START, STOP]));
        }
        assert_eq!(ranges(&Snippet::from_marked(&marked("a[b"))), [(1, 2)]);
        assert_eq!(ranges(&Snippet::from_marked(&marked("[🎉]x"))), [(0, 1)]);
    }

    #[test]
    fn cuts_are_marked() {
        let body = "one two three four";
        let mut s = Snippet::from_marked(&marked("two [three]"));
        s.mark_cuts(body);
        assert_eq!(s.text, "…two three…");
        assert_eq!(ranges(&s), [(5, 10)]);
        let mut whole = Snippet::from_marked(&marked("one [two] three four"));
        whole.mark_cuts(body);
        assert_eq!(whole.text, body);
        // Text that is not in the body (it changed meanwhile) stays as is.
        let mut other = Snippet::from_marked("zzz");
        other.mark_cuts(body);
        assert_eq!(other.text, "zzz");
    }
}
