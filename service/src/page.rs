//! Cursor pagination: the window a client asks for, and the page it gets.
//!
//! Cursors here are typed keys (a seq, a timestamp and id, ...); the API
//! turns them into opaque strings.

use crate::{
    error::{Error, Result},
    validate::{self, PAGE_DEFAULT, PAGE_MAX},
};

/// Relay's connection arguments.
#[derive(Clone, Debug, Default)]
pub struct PageArgs<K> {
    pub first: Option<i64>,
    pub after: Option<K>,
    pub last: Option<i64>,
    pub before: Option<K>,
}

/// Which way a page is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Window<K> {
    /// `limit` items after `after` (from the start when `None`).
    Forward { after: Option<K>, limit: u64 },
    /// `limit` items before `before` (from the end when `None`).
    Backward { before: Option<K>, limit: u64 },
}

impl<K> PageArgs<K> {
    pub fn forward(first: Option<i64>, after: Option<K>) -> Self {
        Self {
            first,
            after,
            last: None,
            before: None,
        }
    }

    /// Validates the arguments. Without any, `default` decides the
    /// direction: chat history opens at its newest page.
    pub fn window(self, default_backward: bool) -> Result<Window<K>> {
        let first = self.first.map(|n| limit("first", n)).transpose()?;
        let last = self.last.map(|n| limit("last", n)).transpose()?;
        match (first, last) {
            (Some(_), Some(_)) => Err(Error::invalid(
                "last",
                "cannot be combined with `first`; page forward or backward",
            )),
            (Some(limit), None) => Ok(Window::Forward {
                after: self.after,
                limit,
            }),
            (None, Some(limit)) => Ok(Window::Backward {
                before: self.before,
                limit,
            }),
            (None, None) => {
                if self.before.is_some() || (default_backward && self.after.is_none()) {
                    Ok(Window::Backward {
                        before: self.before,
                        limit: PAGE_DEFAULT,
                    })
                } else {
                    Ok(Window::Forward {
                        after: self.after,
                        limit: PAGE_DEFAULT,
                    })
                }
            }
        }
    }
}

fn limit(field: &'static str, n: i64) -> Result<u64> {
    validate::page_size(field, n, PAGE_MAX)
}

/// One page of results in display order.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
}

impl<T> Page<T> {
    /// Builds a forward page from up to `limit + 1` rows: the extra row only
    /// says that there is more.
    pub fn forward(mut rows: Vec<T>, limit: u64, has_previous_page: bool) -> Self {
        let has_next_page = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        Self {
            items: rows,
            has_previous_page,
            has_next_page,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        let args = |first, last, after: Option<i64>, before| PageArgs {
            first,
            after,
            last,
            before,
        };
        assert_eq!(
            args(None, None, None, None).window(true).unwrap(),
            Window::Backward {
                before: None,
                limit: PAGE_DEFAULT
            }
        );
        assert_eq!(
            args(None, None, Some(3), None).window(true).unwrap(),
            Window::Forward {
                after: Some(3),
                limit: PAGE_DEFAULT
            }
        );
        assert_eq!(
            args(Some(5), None, None, None).window(true).unwrap(),
            Window::Forward {
                after: None,
                limit: 5
            }
        );
        assert!(args(Some(5), Some(5), None, None).window(true).is_err());
        assert!(args(Some(101), None, None, None).window(true).is_err());
        assert!(args(None, Some(-1), None, None).window(true).is_err());
    }
}
