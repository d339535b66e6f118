//! Caps on open WebSockets per user and per client address, so that one
//! client cannot hold thousands of sockets (each a task, buffers and a
//! presence entry).

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    sync::{Arc, Mutex, PoisonError},
};

/// Open sockets by key; a [`Slot`] gives its place back when dropped.
#[derive(Clone)]
pub struct Counts<K: Hash + Eq + Clone> {
    open: Arc<Mutex<HashMap<K, usize>>>,
}

impl<K: Hash + Eq + Clone> Default for Counts<K> {
    fn default() -> Self {
        Self {
            open: Arc::default(),
        }
    }
}

impl<K: Hash + Eq + Clone> Counts<K> {
    /// A slot for `key`, unless it already has `max` open.
    pub fn take(&self, key: K, max: usize) -> Option<Slot<K>> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key.clone()).or_insert(0);
        if *count >= max {
            if *count == 0 {
                open.remove(&key);
            }
            return None;
        }
        *count += 1;
        Some(Slot {
            counts: self.clone(),
            key,
        })
    }
}

/// One open socket's place in its key's count.
pub struct Slot<K: Hash + Eq + Clone> {
    counts: Counts<K>,
    key: K,
}

impl<K: Hash + Eq + Clone> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut open = self
            .counts
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// The app's socket counts.
#[derive(Clone, Default)]
pub struct SocketCaps {
    pub by_address: Counts<IpAddr>,
    pub by_user: Counts<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_come_back() {
        let counts = Counts::<i64>::default();
        let a = counts.take(1, 2);
        let b = counts.take(1, 2);
        assert!(a.is_some() && b.is_some());
        assert!(counts.take(1, 2).is_none());
        assert!(counts.take(2, 2).is_some());
        drop(a);
        assert!(counts.take(1, 2).is_some());
        assert!(counts.take(3, 0).is_none());
    }
}
