//! Argon2id password hashing, off the async threads and with bounded
//! concurrency: each hash takes ~19 MiB and tens of milliseconds of CPU, so
//! a burst of logins must queue rather than exhaust memory (the buffers
//! are reused: see [`super::argon2_pool`]).

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use argon2::{
    Algorithm, Argon2, PasswordHasher, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::OnceCell;

use super::argon2_pool::{Argon2Pool, params};
use crate::error::Result;

fn argon2() -> Result<Argon2<'static>> {
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params()?))
}

#[derive(Clone)]
pub(crate) struct Hasher {
    pool: Argon2Pool,
    /// A hash of nothing in particular, verified when a login names an
    /// unknown user so that it costs as much as a wrong password.
    decoy: Arc<OnceCell<String>>,
    /// Full verifications run: a login of an unknown user must add one,
    /// like a wrong password (checked by tests, where timing would be
    /// flaky).
    verifications: Arc<AtomicU64>,
}

impl Hasher {
    /// `concurrency` hashes may run at once, each with its own buffer.
    pub fn new(concurrency: usize) -> Self {
        // Computed now, so that the first login of an unknown user costs no
        // more than later ones (a lazily built decoy would be a timing tell).
        let salt = SaltString::generate(&mut OsRng);
        let decoy = argon2()
            .ok()
            .and_then(|a| a.hash_password(b"parley-decoy-password", &salt).ok())
            .map(|h| h.to_string());
        Self {
            pool: Argon2Pool::new(concurrency),
            decoy: Arc::new(OnceCell::new_with(decoy)),
            verifications: Arc::default(),
        }
    }

    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    pub async fn hash(&self, password: String) -> Result<String> {
        self.pool.hash(password).await
    }

    /// Checks `password` against `hash`; with no hash (unknown user), checks
    /// it against the decoy and answers `false` after the same work.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool> {
        let known = hash.is_some();
        let hash = match hash {
            Some(hash) => hash,
            None => self
                .decoy
                .get_or_try_init(|| self.hash("parley-decoy-password".to_owned()))
                .await?
                .clone(),
        };
        let matches = self.pool.verify(password, hash).await?;
        self.verifications.fetch_add(1, Ordering::Relaxed);
        Ok(known && matches)
    }
}
