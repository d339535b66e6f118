//! A fresh database per test.

use anyhow::{Context, Result};
use sea_orm::{ConnectionTrait, Database};

pub enum TestDb {
    Sqlite {
        dir: tempfile::TempDir,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    /// PostgreSQL when `TEST_DATABASE_URL` is a `postgres:` URL, else SQLite.
    pub async fn new() -> Result<Self> {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => Self::postgres(url).await,
            _ => Self::sqlite(),
        }
    }

    /// A SQLite file in a temporary directory, removed on drop.
    pub fn sqlite() -> Result<Self> {
        Ok(Self::Sqlite {
            dir: tempfile::tempdir().context("temp dir")?,
        })
    }

    /// A new database on the PostgreSQL server `admin_url` points at,
    /// dropped on drop.
    pub async fn postgres(admin_url: String) -> Result<Self> {
        let name = format!("parley_test_{}_{}", std::process::id(), rand_suffix());
        let admin = Database::connect(&admin_url)
            .await
            .context("connect to TEST_DATABASE_URL")?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .context("create test database")?;
        admin.close().await.ok();
        let url = replace_database(&admin_url, &name);
        Ok(Self::Postgres {
            admin_url,
            name,
            url,
        })
    }

    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite { dir } => {
                format!("sqlite://{}", dir.path().join("parley.db").display())
            }
            TestDb::Postgres { url, .. } => url.clone(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
        {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async code: use a short-lived runtime on a
            // thread of its own.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let admin = Database::connect(&admin_url).await?;
                    admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await?;
                    admin.close().await
                })?;
                Ok::<_, anyhow::Error>(())
            })
            .join();
        }
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}_{nanos}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// `postgres://u@h:5432/db?x` with `db` replaced by `name`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let mut out = match path_start {
        Some(i) => format!("{}/{name}", &base[..i]),
        None => format!("{base}/{name}"),
    };
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database() {
        assert_eq!(
            super::replace_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::replace_database("postgres://h/test?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
    }
}
