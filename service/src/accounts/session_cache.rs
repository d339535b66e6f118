//! Sessions recently checked, so that a request needs no query to know who
//! sent it.
//!
//! Every HTTP request authenticates, and a session lookup is a query (a
//! join of the session and its user) before the request has done anything:
//! for a send, a quarter of its statements. A session found valid is kept
//! here for `Settings::session_cache` (default 10 s) by the hash of its
//! token, and requests within that time use it.
//!
//! Revocation stays immediate: logout, `revokeSession`, a password change
//! and account deletion announce the sessions they end on the bus after
//! their commit ([`crate::events::Revoked`]), on this instance and (over
//! LISTEN/NOTIFY) on every other sharing the database, and this cache drops
//! them when it hears it. Only an instance that cannot hear the others
//! (its link down) can accept a revoked session, for at most the cache's
//! lifetime. Expiry is checked against the stored `expires_at` on every
//! use. Zero turns the cache off.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use tokio::sync::broadcast::error::RecvError;

use crate::{
    Viewer,
    events::{EventBus, Revoked},
};

/// Most sessions held; past it the cache starts over (a burst of sign-ins
/// by a million users must not grow it without bound).
const CAPACITY: usize = 100_000;

#[derive(Clone, Copy)]
struct Entry {
    viewer: Viewer,
    expires_at: DateTime<Utc>,
    last_seen_at: Option<DateTime<Utc>>,
    cached_at: Instant,
}

/// Shared by clones of the service.
#[derive(Clone)]
pub(crate) struct SessionCache {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    ttl: Duration,
}

impl SessionCache {
    /// A cache keeping sessions for `ttl`, emptied of those the bus says
    /// ended. Must be called inside a Tokio runtime.
    pub fn start(ttl: Duration, bus: &EventBus) -> Self {
        let cache = Self {
            entries: Arc::default(),
            ttl,
        };
        if !ttl.is_zero() {
            let mut revoked = bus.subscribe_revoked();
            // Holds the map, not the cache: ends with the bus's sender.
            let entries = Arc::downgrade(&cache.entries);
            tokio::spawn(async move {
                loop {
                    let signal = revoked.recv().await;
                    let Some(entries) = entries.upgrade() else {
                        break;
                    };
                    let mut entries = entries.lock().unwrap_or_else(PoisonError::into_inner);
                    match signal {
                        Ok(revoked) => forget(&mut entries, &revoked),
                        // Missed some: forget everything rather than guess.
                        Err(RecvError::Lagged(_)) => entries.clear(),
                        Err(RecvError::Closed) => break,
                    }
                }
            });
        }
        cache
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // Every update is one insert, remove or clear.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The viewer of a token hash checked less than the cache's lifetime
    /// ago and not expired at `at`, and when its user was last seen.
    pub fn get(
        &self,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Option<(Viewer, Option<DateTime<Utc>>)> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut entries = self.entries();
        let entry = *entries.get(token_hash)?;
        if entry.cached_at.elapsed() >= self.ttl || entry.expires_at <= at {
            entries.remove(token_hash);
            return None;
        }
        Some((entry.viewer, entry.last_seen_at))
    }

    /// Keeps a session just found valid in the database.
    pub fn put(
        &self,
        token_hash: String,
        viewer: Viewer,
        expires_at: DateTime<Utc>,
        last_seen_at: Option<DateTime<Utc>>,
    ) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            token_hash,
            Entry {
                viewer,
                expires_at,
                last_seen_at,
                cached_at: Instant::now(),
            },
        );
    }

    /// Drops the sessions `revoked` ends, before anyone is told they
    /// ended: the next request with their token is looked up (and refused).
    pub fn forget(&self, revoked: &Revoked) {
        forget(&mut self.entries(), revoked);
    }

    /// Records that the session's user was just noted as seen.
    pub fn seen(&self, token_hash: &str, at: DateTime<Utc>) {
        if let Some(entry) = self.entries().get_mut(token_hash) {
            entry.last_seen_at = Some(at);
        }
    }
}

fn forget(entries: &mut HashMap<String, Entry>, revoked: &Revoked) {
    entries.retain(|_, e| !revoked.ends(&e.viewer));
}
