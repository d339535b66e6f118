//! Argon2id password hashing, off the async threads and with bounded
//! concurrency: each hash takes ~19 MiB and tens of milliseconds of CPU, so
//! a burst of logins must queue rather than exhaust memory.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::{OnceCell, Semaphore};

use crate::error::{Error, Internal, Result};

/// OWASP's minimum for argon2id: m=19456 KiB, t=2, p=1.
fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(19_456, 2, 1, None)
        .map_err(|e| Error::Internal(Internal::Crypto(e.to_string())))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

#[derive(Clone)]
pub(crate) struct Hasher {
    permits: Arc<Semaphore>,
    /// A hash of nothing in particular, verified when a login names an
    /// unknown user so that it costs as much as a wrong password.
    decoy: Arc<OnceCell<String>>,
    /// Full verifications run: a login of an unknown user must add one,
    /// like a wrong password (checked by tests, where timing would be
    /// flaky).
    verifications: Arc<AtomicU64>,
}

impl Hasher {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        // Computed now, so that the first login of an unknown user costs no
        // more than later ones (a lazily built decoy would be a timing tell).
        let salt = SaltString::generate(&mut OsRng);
        let decoy = argon2()
            .ok()
            .and_then(|a| a.hash_password(b"parley-decoy-password", &salt).ok())
            .map(|h| h.to_string());
        Self {
            permits: Arc::new(Semaphore::new(cores)),
            decoy: Arc::new(OnceCell::new_with(decoy)),
            verifications: Arc::default(),
        }
    }

    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    pub async fn hash(&self, password: String) -> Result<String> {
        let _permit = self.permits.acquire().await.map_err(internal)?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()?
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(internal)
        })
        .await?
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
        let _permit = self.permits.acquire().await.map_err(internal)?;
        let matches = tokio::task::spawn_blocking(move || -> Result<bool> {
            let parsed = PasswordHash::new(&hash).map_err(internal)?;
            Ok(argon2()?
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await??;
        self.verifications.fetch_add(1, Ordering::Relaxed);
        Ok(known && matches)
    }
}

fn internal(err: impl std::fmt::Display) -> Error {
    Error::Internal(Internal::Crypto(err.to_string()))
}
