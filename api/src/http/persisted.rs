//! Automatic persisted queries: Apollo's `createPersistedQueryLink` and
//! urql's `persistedExchange` send a query's SHA-256 first and its text
//! only when the server does not know the hash.
//!
//! The protocol is the one async-graphql's `ApolloPersistedQueries`
//! extension speaks, but it must run earlier than an extension can: both
//! transports read the operation's type before executing (a mutation over
//! GET is 405, a subscription over HTTP is refused), which needs the text.
//! So the hash is resolved here, into the request's `query`, and the cache
//! holds query texts in an LRU bounded in entries and in text length.
//!
//! A miss is answered with `PERSISTED_QUERY_NOT_FOUND` (message
//! `PersistedQueryNotFound`) and, with the cache off,
//! `PERSISTED_QUERY_NOT_SUPPORTED`: both links retry with the full text.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex},
};

use async_graphql::Request;
use lru::LruCache;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::graphql::{error::code, request::RequestError};

/// Longest query text remembered. Real operations are a few KiB; longer
/// ones still run, they are just not kept, so that the cache's memory stays
/// near `entries x this` at worst.
pub const MAX_PERSISTED_QUERY: usize = 16 * 1024;

/// The `persistedQuery` request extension.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PersistedQuery {
    version: i64,
    sha256_hash: String,
}

/// Query texts by their SHA-256 (lower-case hex).
type Texts = LruCache<String, Arc<str>>;

/// The app's cache of persisted queries, shared by its transports.
#[derive(Clone)]
pub struct PersistedQueries {
    cache: Option<Arc<Mutex<Texts>>>,
}

impl PersistedQueries {
    /// A cache of `capacity` queries; 0 turns persisted queries off.
    pub fn new(capacity: usize) -> Self {
        Self {
            cache: NonZeroUsize::new(capacity).map(|n| Arc::new(Mutex::new(LruCache::new(n)))),
        }
    }

    /// Fills in the text of a hash-only request, or remembers the text of
    /// one that sends both. Requests without the extension pass unchanged.
    pub fn resolve(&self, request: &mut Request) -> Result<(), RequestError> {
        let Some(extension) = request.extensions.remove("persistedQuery") else {
            return Ok(());
        };
        let has_text = !request.query.trim().is_empty();
        let Some(cache) = &self.cache else {
            if has_text {
                return Ok(());
            }
            return Err(RequestError::with_code(
                code::PERSISTED_QUERY_NOT_SUPPORTED,
                "PersistedQueryNotSupported",
            ));
        };
        let persisted: PersistedQuery = extension
            .into_json()
            .ok()
            .and_then(|json| serde_json::from_value(json).ok())
            .ok_or_else(|| {
                RequestError::bad_request(
                    "the `persistedQuery` extension must be {\"version\": 1, \"sha256Hash\": \"<hex>\"}",
                )
            })?;
        if persisted.version != 1 {
            return Err(RequestError::bad_request(format!(
                "persisted query version {} is not supported: use 1",
                persisted.version
            )));
        }
        let hash = persisted.sha256_hash.to_ascii_lowercase();
        if !has_text {
            let found = lock(cache).get(&hash).cloned();
            return match found {
                Some(text) => {
                    request.query = text.to_string();
                    Ok(())
                }
                None => Err(RequestError::with_code(
                    code::PERSISTED_QUERY_NOT_FOUND,
                    "PersistedQueryNotFound",
                )),
            };
        }
        let actual = format!("{:x}", Sha256::digest(request.query.as_bytes()));
        if actual != hash {
            return Err(RequestError::bad_request(
                "the `persistedQuery` sha256Hash is not the SHA-256 of the query",
            ));
        }
        if request.query.len() <= MAX_PERSISTED_QUERY {
            lock(cache).put(hash, Arc::from(request.query.as_str()));
        }
        Ok(())
    }
}

/// The cache, even if a thread panicked holding it: an LRU of strings has
/// no invariant a half-done `put` could break.
fn lock(cache: &Mutex<Texts>) -> std::sync::MutexGuard<'_, Texts> {
    cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
