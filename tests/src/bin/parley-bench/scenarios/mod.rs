//! One module per scenario; each returns its table rows.

pub mod fanout;
pub mod history;
pub mod idle;
pub mod inbox;
pub mod reconnect;
pub mod send;

use std::sync::{Arc, Mutex};

use hdrhistogram::Histogram;

/// A histogram many tasks record into.
pub type Shared = Arc<Mutex<Histogram<u64>>>;

pub fn shared() -> Shared {
    Arc::new(Mutex::new(crate::report::histogram()))
}

pub fn take(h: &Shared) -> Histogram<u64> {
    match h.lock() {
        Ok(h) => h.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

pub fn record_micros(h: &Shared, micros: i64) {
    if let Ok(mut h) = h.lock() {
        let _ = h.record(micros.clamp(1, 60_000_000) as u64);
    }
}
