//! Limits on the GraphQL document itself, checked before anything runs:
//! tokens (before parsing), aliases (after), and the number of validation
//! errors one response may carry. Depth, complexity, recursion and
//! directives per field are async-graphql's own limits (see `build_schema`).
//!
//! Every refusal is a request error with `GRAPHQL_VALIDATION_FAILED` and
//! `extensions.limit` naming the limit, so the transports answer it as a
//! document that cannot run (400), like the depth limit.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use async_graphql::{
    ServerError, ServerResult, ValidationResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation},
    parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet},
};

use super::error::code;

/// The limits, as the operator set them.
#[derive(Clone, Copy, Debug)]
pub struct DocumentLimits {
    pub max_aliases: usize,
    pub max_tokens: usize,
    pub max_errors: usize,
}

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

fn refused(limit: &'static str, message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code::GRAPHQL_VALIDATION_FAILED);
    extensions.set("limit", limit);
    error
}

#[async_graphql::async_trait::async_trait]
impl Extension for DocumentLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let tokens = count_tokens(query, self.max_tokens);
        if tokens > self.max_tokens {
            return Err(refused(
                "tokens",
                format!(
                    "the document has more than {} tokens; at most {} are allowed",
                    self.max_tokens, self.max_tokens
                ),
            ));
        }
        let document = next.run(ctx, query, variables).await?;
        let aliases = count_aliases(&document);
        if aliases > self.max_aliases {
            return Err(refused(
                "aliases",
                format!(
                    "the document has {aliases} aliases; at most {} are allowed",
                    self.max_aliases
                ),
            ));
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            if errors.len() > self.max_errors {
                errors.truncate(self.max_errors);
                errors.push(refused(
                    "errors",
                    "too many validation errors: validation stopped".into(),
                ));
            }
            errors
        })
    }
}

/// Aliased fields in the operations, with each fragment counted as often
/// as it is spread: nested spreads multiply what runs, so they multiply
/// the count too (memoised per fragment, so counting stays linear; a
/// fragment that spreads itself, which validation refuses, counts once).
fn count_aliases(document: &ExecutableDocument) -> usize {
    struct Counter<'a> {
        document: &'a ExecutableDocument,
        counted: HashMap<&'a str, usize>,
        open: HashSet<&'a str>,
    }
    impl<'a> Counter<'a> {
        fn set(&mut self, set: &'a SelectionSet) -> usize {
            set.items.iter().fold(0, |total, item| {
                let here = match &item.node {
                    Selection::Field(field) => usize::from(field.node.alias.is_some())
                        .saturating_add(self.set(&field.node.selection_set.node)),
                    Selection::InlineFragment(fragment) => {
                        self.set(&fragment.node.selection_set.node)
                    }
                    Selection::FragmentSpread(spread) => {
                        self.fragment(spread.node.fragment_name.node.as_str())
                    }
                };
                total.saturating_add(here)
            })
        }

        fn fragment(&mut self, name: &'a str) -> usize {
            if let Some(count) = self.counted.get(name) {
                return *count;
            }
            let Some((key, fragment)) = self.document.fragments.get_key_value(name) else {
                return 0;
            };
            if !self.open.insert(key.as_str()) {
                return 0;
            }
            let count = self.set(&fragment.node.selection_set.node);
            self.open.remove(key.as_str());
            self.counted.insert(key.as_str(), count);
            count
        }
    }
    let mut counter = Counter {
        document,
        counted: HashMap::new(),
        open: HashSet::new(),
    };
    match &document.operations {
        DocumentOperations::Single(op) => counter.set(&op.node.selection_set.node),
        DocumentOperations::Multiple(ops) => ops.values().fold(0, |total, op| {
            total.saturating_add(counter.set(&op.node.selection_set.node))
        }),
    }
}

/// GraphQL's lexical tokens in `source`, counting stops just past `stop`:
/// punctuators, names, numbers and strings; whitespace, commas and
/// comments are not tokens. A cheap scan, done before the parser sees the
/// document (the parser has no token limit).
fn count_tokens(source: &str, stop: usize) -> usize {
    let bytes = source.as_bytes();
    let mut i = 0;
    let mut tokens = 0;
    while i < bytes.len() && tokens <= stop {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' => {
                tokens += 1;
                if bytes[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                        i += if bytes[i..].starts_with(b"\\\"\"\"") {
                            4
                        } else {
                            1
                        };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                tokens += 1;
                i += 3;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' => {
                // A name or a number (with its sign, fraction and exponent).
                tokens += 1;
                i += 1;
                // A sign belongs to the token only right after an exponent's
                // `e`: `1-1-1` is three numbers to the parser, and must
                // count as three here.
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'.')
                        || (matches!(bytes[i], b'+' | b'-') && matches!(bytes[i - 1], b'e' | b'E')))
                {
                    if bytes[i..].starts_with(b"...") {
                        break;
                    }
                    i += 1;
                }
            }
            _ => {
                // Punctuators (and anything else: the parser will refuse it).
                tokens += 1;
                i += source[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(count_tokens("{ me { id } }", 100), 6);
        assert_eq!(
            count_tokens("query Q($a: Int = -1.5e3) { f(a: $a) }", 100),
            19
        );
        assert_eq!(count_tokens("# only a comment\n,,,", 100), 0);
        assert_eq!(
            count_tokens(r#"{ f(s: "a \" b", t: """x "" y""") }"#, 100),
            11
        );
        assert_eq!(count_tokens("{ ...F ... on T { a } }", 100), 10);
        assert_eq!(count_tokens(&"{ a }".repeat(1000), 10), 11);
        // A list of numbers joined by signs is many values to the parser.
        assert_eq!(count_tokens("[0-0-0-0]", 100), 6);
        assert_eq!(count_tokens("[1e-5 2E+3]", 100), 4);
    }

    #[test]
    fn aliases() {
        let document = async_graphql::parser::parse_query(
            "query { a: me { id } b: me { x: id } ...F } fragment F on Query { c: me { id } }",
        )
        .unwrap();
        assert_eq!(count_aliases(&document), 4);
        // Each spread counts: 2 x (2 + 2 x 3) = 16 aliased fields run.
        let nested = async_graphql::parser::parse_query(
            "query { ...F0 ...F0 } \
             fragment F0 on Query { x: me { ...F1 } y: me { ...F1 } } \
             fragment F1 on User { a: id b: id c: id }",
        )
        .unwrap();
        assert_eq!(count_aliases(&nested), 16);
        // A fragment spreading itself (refused by validation) ends.
        let cycle = async_graphql::parser::parse_query(
            "query { ...A } fragment A on Query { a: me { id } ...A }",
        )
        .unwrap();
        assert_eq!(count_aliases(&cycle), 1);
    }
}
