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
/// Put where FTS5 cut the body off.
pub const ELLIPSIS: &str = "…";

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
}
