//! One module per scenario; each returns its table rows.

pub mod abuse;
pub mod cluster;
pub mod events;
pub mod fanout;
pub mod history;
pub mod idle;
pub mod inbox;
pub mod reconnect;
pub mod search;
pub mod send;
pub mod webhooks;

use std::{
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use futures_util::future::try_join_all;

use hdrhistogram::Histogram;

/// A histogram many tasks record into.
pub type Shared = Arc<Mutex<Histogram<u64>>>;

pub fn shared() -> anyhow::Result<Shared> {
    Ok(Arc::new(Mutex::new(crate::report::histogram()?)))
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

/// Runs `op(worker, i)` for every `i` below `total`, `workers` at a time,
/// each worker taking the next `i` when it is done with the last. Returns
/// the latency of every call and the time it all took.
pub async fn drive<F, Fut>(
    workers: usize,
    total: usize,
    op: F,
) -> anyhow::Result<(Histogram<u64>, Duration)>
where
    F: Fn(usize, usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let parts = try_join_all((0..workers).map(|worker| {
        let (next, op) = (&next, &op);
        async move {
            let mut h = crate::report::histogram()?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<_, anyhow::Error>(h);
                }
                let sent = Instant::now();
                op(worker, i).await?;
                crate::report::record(&mut h, sent.elapsed());
            }
        }
    }))
    .await?;
    let elapsed = started.elapsed();
    let mut all = crate::report::histogram()?;
    for part in &parts {
        all.add(part).context("merge histograms")?;
    }
    Ok((all, elapsed))
}
