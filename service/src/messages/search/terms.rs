//! A search query as the user typed it, reduced to plain words.
//!
//! Nothing of the input reaches the database as query syntax: a term is a
//! run of letters and digits, so quotes, `*`, `(`, `^`, `:`, `&`, `|`,
//! `NEAR(` and friends only separate words. Each backend's matcher is then
//! built from the terms alone (see [`fts5_match`] and [`tsquery`]).

use crate::{
    error::{Error, Result},
    validate::{self, SEARCH_QUERY_MAX, SEARCH_TERMS_MAX},
};

/// One word of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub text: String,
    /// True when the word also matches longer words that start with it.
    /// One-character terms match whole words only: as prefixes they would
    /// match a large share of every message.
    pub prefix: bool,
}

/// The query's terms, in order, without repeats. Every term must match.
pub fn parse(query: &str) -> Result<Vec<Term>> {
    validate::no_nul("query", query)?;
    if query.chars().count() > SEARCH_QUERY_MAX {
        return Err(Error::invalid(
            "query",
            format!("must be at most {SEARCH_QUERY_MAX} characters long"),
        ));
    }
    let mut terms: Vec<Term> = Vec::new();
    for word in query.split(|c: char| !is_term_char(c)) {
        if word.is_empty() || terms.iter().any(|t| t.text == word) {
            continue;
        }
        terms.push(Term {
            text: word.to_owned(),
            prefix: word.chars().count() > 1,
        });
    }
    if terms.is_empty() {
        return Err(Error::invalid(
            "query",
            "must contain at least one letter or digit",
        ));
    }
    if terms.len() > SEARCH_TERMS_MAX {
        return Err(Error::invalid(
            "query",
            format!("must have at most {SEARCH_TERMS_MAX} words"),
        ));
    }
    Ok(terms)
}

/// Letters, digits, and combining accents (so a decomposed "é" stays in
/// its word; the index folds it away).
fn is_term_char(c: char) -> bool {
    c.is_alphanumeric() || ('\u{0300}'..='\u{036F}').contains(&c)
}

/// An FTS5 query: each term a quoted string (never an operator), prefix
/// terms with `*`, all of them required.
pub fn fts5_match(terms: &[Term]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"{}", t.text, if t.prefix { "*" } else { "" }))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `to_tsquery` text: each term quoted, prefix terms with `:*`, joined
/// with `&`.
pub fn tsquery(terms: &[Term]) -> String {
    terms
        .iter()
        .map(|t| format!("'{}'{}", t.text, if t.prefix { ":*" } else { "" }))
        .collect::<Vec<_>>()
        .join(" & ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(query: &str) -> Vec<String> {
        parse(query).unwrap().into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn syntax_only_separates_words() {
        assert_eq!(
            texts(r#""foo" OR bar*` NEAR( ^ a:b"#),
            ["foo", "OR", "bar", "NEAR", "a", "b"]
        );
        assert_eq!(texts("Café, déjà-vu!"), ["Café", "déjà", "vu"]);
        assert_eq!(texts("x x x"), ["x"]);
    }

    #[test]
    fn one_character_terms_are_whole_words() {
        let terms = parse("a de").unwrap();
        assert!(!terms[0].prefix);
        assert!(terms[1].prefix);
        assert_eq!(fts5_match(&terms), r#""a" "de"*"#);
        assert_eq!(tsquery(&terms), "'a' & 'de':*");
    }

    #[test]
    fn bad_queries() {
        for query in ["", "   ", "*** \" ()", &"a".repeat(SEARCH_QUERY_MAX + 1)] {
            assert!(matches!(
                parse(query),
                Err(Error::Invalid { field: "query", .. })
            ));
        }
        let many: Vec<String> = (0..=SEARCH_TERMS_MAX).map(|i| format!("w{i}")).collect();
        assert!(parse(&many.join(" ")).is_err());
        assert!(parse(&"a".repeat(SEARCH_QUERY_MAX)).is_ok());
    }
}
