//! Measured figures: HDR histograms, the printed table, and JSON.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::server::{Target, own_cpu_seconds};

/// Latencies in microseconds, 1 µs to 60 s at 3 significant digits.
pub fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 60_000_000, 3)?)
}

pub fn record(h: &mut Histogram<u64>, elapsed: Duration) {
    let micros = (elapsed.as_micros() as u64).clamp(1, 60_000_000);
    let _ = h.record(micros);
}

/// One row of a scenario's table.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub scenario: String,
    pub setting: String,
    pub count: u64,
    /// Per second.
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub lost: u64,
    pub duplicated: u64,
    pub server_rss_mib: Option<f64>,
    /// The server's CPU time per operation, in milliseconds, when measured.
    pub cpu_ms_per_op: Option<f64>,
    /// The limit or target this row is judged against, and the verdict.
    pub target: String,
    pub pass: Option<bool>,
}

impl Row {
    pub fn new(scenario: &str, setting: impl Into<String>) -> Self {
        Self {
            scenario: scenario.to_owned(),
            setting: setting.into(),
            count: 0,
            rate: 0.0,
            p50_ms: 0.0,
            p99_ms: 0.0,
            max_ms: 0.0,
            lost: 0,
            duplicated: 0,
            server_rss_mib: None,
            cpu_ms_per_op: None,
            target: String::new(),
            pass: None,
        }
    }

    pub fn latencies(mut self, h: &Histogram<u64>) -> Self {
        self.count = h.len();
        self.p50_ms = h.value_at_quantile(0.5) as f64 / 1000.0;
        self.p99_ms = h.value_at_quantile(0.99) as f64 / 1000.0;
        self.max_ms = h.max() as f64 / 1000.0;
        self
    }

    pub fn rate(mut self, count: u64, elapsed: Duration) -> Self {
        self.count = count;
        self.rate = count as f64 / elapsed.as_secs_f64().max(1e-9);
        self
    }

    pub fn rss(mut self, target: &Target) -> Self {
        self.server_rss_mib = target.rss_kib().map(|k| k as f64 / 1024.0);
        self
    }

    pub fn cpu(mut self, ms_per_op: Option<f64>) -> Self {
        self.cpu_ms_per_op = ms_per_op;
        self
    }

    pub fn judge(mut self, target: impl Into<String>, pass: bool) -> Self {
        self.target = target.into();
        self.pass = Some(pass);
        self
    }
}

pub fn print_table(rows: &[Row]) {
    println!(
        "{:<10} {:<34} {:>9} {:>10} {:>8} {:>8} {:>8} {:>6} {:>6} {:>9} {:>7}  target",
        "scenario",
        "setting",
        "count",
        "rate/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "lost",
        "dup",
        "rss MiB",
        "cpu ms"
    );
    for r in rows {
        let verdict = match r.pass {
            Some(true) => "PASS ",
            Some(false) => "MISS ",
            None => "",
        };
        println!(
            "{:<10} {:<34} {:>9} {:>10.1} {:>8.2} {:>8.2} {:>8.2} {:>6} {:>6} {:>9} {:>7}  {verdict}{}",
            r.scenario,
            r.setting,
            r.count,
            r.rate,
            r.p50_ms,
            r.p99_ms,
            r.max_ms,
            r.lost,
            r.duplicated,
            r.server_rss_mib
                .map_or("-".to_owned(), |m| format!("{m:.1}")),
            r.cpu_ms_per_op
                .map_or("-".to_owned(), |m| format!("{m:.3}")),
            r.target
        );
    }
}

/// Watches the generator's own CPU use over a measurement.
pub struct CpuWatch {
    started: Instant,
    cpu: f64,
}

impl CpuWatch {
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
            cpu: own_cpu_seconds(),
        }
    }

    /// Warns when the generator itself was busy enough to skew the figures.
    pub fn check(&self, what: &str) {
        let wall = self.started.elapsed().as_secs_f64();
        let used = own_cpu_seconds() - self.cpu;
        let share = used / wall.max(1e-9);
        if share > 0.9 {
            eprintln!(
                "warning: during {what} the load generator used {:.0}% of a core: it may be the bottleneck",
                share * 100.0
            );
        }
    }
}
