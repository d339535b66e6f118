//! The machine's own load tools and CPU counters: pgbench for the
//! database's one-commit limit, wrk for plain HTTP rates, and the CPU time
//! of a process or of every PostgreSQL process from /proc.

use std::{
    collections::HashMap,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{Context, Result, bail};
use tokio::process::Command;

/// True when `program` runs on this machine.
pub async fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok()
}

/// What pgbench measured.
pub struct Pgbench {
    pub tps: f64,
    pub latency_avg_ms: f64,
    pub transactions: u64,
}

/// Runs `script` with `clients` pgbench clients for `secs` seconds against
/// `url`, with prepared statements (no ORM, no parsing per statement).
pub async fn pgbench(
    url: &str,
    clients: usize,
    secs: u64,
    script: &str,
    defines: &[(&str, String)],
) -> Result<Pgbench> {
    let file = std::env::temp_dir().join(format!("parley-bench-{}.pgbench", std::process::id()));
    std::fs::write(&file, script)?;
    let mut command = Command::new("pgbench");
    command.args(["-n", "-M", "prepared", "-j", "2"]).args([
        "-c",
        &clients.to_string(),
        "-T",
        &secs.to_string(),
    ]);
    for (name, value) in defines {
        command.arg("-D").arg(format!("{name}={value}"));
    }
    let output = command
        .arg("-f")
        .arg(&file)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .await
        .context("run pgbench")?;
    let _ = std::fs::remove_file(&file);
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench failed: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let number = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
    };
    Ok(Pgbench {
        tps: number("tps = ").context("no tps in pgbench's output")?,
        latency_avg_ms: number("latency average = ").unwrap_or(0.0),
        transactions: number("number of transactions actually processed: ").unwrap_or(0.0) as u64,
    })
}

/// Requests per second wrk reached POSTing `body` as JSON to `url` with
/// `connections` connections on two threads for `secs` seconds.
pub async fn wrk_post(url: &str, body: &str, connections: usize, secs: u64) -> Result<f64> {
    let file = std::env::temp_dir().join(format!("parley-bench-{}.lua", std::process::id()));
    let lua = format!(
        "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [[{body}]]\n"
    );
    std::fs::write(&file, lua)?;
    let output = Command::new("wrk")
        .args(["-t2", "-c", &connections.to_string()])
        .args(["-d", &format!("{secs}s"), "-s"])
        .arg(&file)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .await
        .context("run wrk")?;
    let _ = std::fs::remove_file(&file);
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || text.contains("Non-2xx") {
        bail!("wrk failed or got errors: {text}");
    }
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|n| n.trim().parse().ok())
        .context("no Requests/sec in wrk's output")
}

/// CPU time (user + system) of process `pid` ("self" for this one), in
/// seconds.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12
    // here. Linux reports them in USER_HZ, 100 a second.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// CPU time of every process named `postgres` (the server and its
/// backends), by pid.
fn postgres_cpu() -> HashMap<u32, f64> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            if comm.trim() != "postgres" {
                return None;
            }
            Some((pid, cpu_seconds(&pid.to_string())?))
        })
        .collect()
}

/// CPU seconds used by a process and by PostgreSQL over a measurement.
/// PostgreSQL's backends exit with their clients (pgbench's at the end of
/// its run) and take their counters with them, so a sampler reads them
/// every 100 ms and keeps the last value each had.
pub struct CpuSpan {
    pid: Option<u32>,
    process: Option<f64>,
    /// Each postgres process's CPU at the start, and the last seen.
    postgres: Arc<Mutex<HashMap<u32, (f64, f64)>>>,
    sampler: tokio::task::JoinHandle<()>,
}

impl CpuSpan {
    pub fn start(pid: Option<u32>) -> Self {
        let postgres: Arc<Mutex<HashMap<u32, (f64, f64)>>> = Arc::new(Mutex::new(
            postgres_cpu()
                .into_iter()
                .map(|(pid, cpu)| (pid, (cpu, cpu)))
                .collect(),
        ));
        let seen = postgres.clone();
        let sampler = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let now = postgres_cpu();
                if let Ok(mut seen) = seen.lock() {
                    for (pid, cpu) in now {
                        // A backend born during the run started at zero.
                        seen.entry(pid).or_insert((0.0, cpu)).1 = cpu;
                    }
                }
            }
        });
        Self {
            pid,
            process: pid.and_then(|p| cpu_seconds(&p.to_string())),
            postgres,
            sampler,
        }
    }

    /// Milliseconds of CPU per operation: the process's (when its pid is
    /// known) and PostgreSQL's.
    pub fn per_op_ms(&self, ops: u64) -> (Option<f64>, f64) {
        self.sampler.abort();
        let ops = ops.max(1) as f64;
        let process = match (self.pid, self.process) {
            (Some(pid), Some(before)) => {
                cpu_seconds(&pid.to_string()).map(|now| (now - before) * 1000.0 / ops)
            }
            _ => None,
        };
        let mut used = 0.0;
        if let Ok(mut seen) = self.postgres.lock() {
            for (pid, cpu) in postgres_cpu() {
                seen.entry(pid).or_insert((0.0, cpu)).1 = cpu;
            }
            used = seen.values().map(|(start, last)| last - start).sum();
        }
        (process, used * 1000.0 / ops)
    }
}

/// A short pause so a measurement does not start inside the last one's
/// tail (checkpoints, the server's flushers).
pub async fn settle() {
    tokio::time::sleep(Duration::from_secs(2)).await;
}
