//! Argon2 on memory that is allocated once and reused.
//!
//! Each argon2id hash works through ~19 MiB. Allocated per hash, on the
//! blocking pool's many threads, those buffers end up in per-thread
//! allocator arenas (glibc raises its mmap threshold after the first free)
//! and the process keeps hundreds of MiB after a burst of logins. Here a
//! fixed number of buffers, one per permitted concurrent hash, is handed
//! from hash to hash: memory stays at `concurrency` x 19 MiB, whatever the
//! load, and a burst queues for a buffer instead.

use std::sync::{Arc, Mutex, PoisonError};

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{Output, ParamsString, SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

use crate::error::{Error, Internal, Result};

/// OWASP's minimum for argon2id: m=19456 KiB, t=2, p=1.
pub(crate) fn params() -> Result<Params> {
    Params::new(19_456, 2, 1, None).map_err(internal)
}

#[derive(Clone)]
pub(crate) struct Argon2Pool {
    permits: Arc<Semaphore>,
    /// Buffers not in use; at most one per permit is ever made.
    free: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl Argon2Pool {
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            free: Arc::default(),
        }
    }

    /// Runs `work` on the blocking pool with a buffer of its own.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self.permits.acquire().await.map_err(internal)?;
        let buffer = self
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let (result, buffer) = tokio::task::spawn_blocking(move || {
            let mut buffer = match buffer {
                Some(buffer) => buffer,
                None => vec![Block::default(); params()?.block_count()],
            };
            let result = work(&mut buffer);
            Ok::<_, Error>((result, buffer))
        })
        .await??;
        self.free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(buffer);
        result
    }

    /// A PHC string of `password` with a fresh salt.
    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move |memory| {
            let params = params()?;
            let salt = SaltString::generate(&mut OsRng);
            let mut salt_bytes = [0u8; 64];
            let salt_raw = salt
                .as_salt()
                .decode_b64(&mut salt_bytes)
                .map_err(internal)?;
            let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
                .hash_password_into_with_memory(
                    password.as_bytes(),
                    salt_raw,
                    &mut out,
                    &mut memory[..params.block_count()],
                )
                .map_err(internal)?;
            let hash = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params).map_err(internal)?,
                salt: Some(salt.as_salt()),
                hash: Some(Output::new(&out).map_err(internal)?),
            };
            Ok(hash.to_string())
        })
        .await
    }

    /// True when `password` matches the PHC string `hash`, with the
    /// parameters `hash` names (an older hash with more memory than the
    /// buffer gets a buffer of its own).
    pub async fn verify(&self, password: String, hash: String) -> Result<bool> {
        self.run(move |memory| {
            let parsed = PasswordHash::new(&hash).map_err(internal)?;
            let algorithm = Algorithm::try_from(parsed.algorithm).map_err(internal)?;
            let version = parsed
                .version
                .map(Version::try_from)
                .transpose()
                .map_err(internal)?
                .unwrap_or_default();
            let params = Params::try_from(&parsed).map_err(internal)?;
            let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
                return Ok(false);
            };
            let mut salt_bytes = [0u8; 64];
            let salt_raw = salt.decode_b64(&mut salt_bytes).map_err(internal)?;
            let mut out = vec![0u8; expected.len()];
            let blocks = params.block_count();
            let argon2 = Argon2::new(algorithm, version, params);
            let computed = if blocks <= memory.len() {
                argon2.hash_password_into_with_memory(
                    password.as_bytes(),
                    salt_raw,
                    &mut out,
                    &mut memory[..blocks],
                )
            } else {
                argon2.hash_password_into(password.as_bytes(), salt_raw, &mut out)
            };
            computed.map_err(internal)?;
            // `Output` compares in constant time.
            Ok(Output::new(&out).map_err(internal)? == expected)
        })
        .await
    }
}

fn internal(err: impl std::fmt::Display) -> Error {
    Error::Internal(Internal::Crypto(err.to_string()))
}

#[cfg(test)]
mod tests {
    use argon2::{PasswordHasher, PasswordVerifier};

    use super::*;

    #[tokio::test]
    async fn hashes_verify_both_ways_with_the_stock_implementation() {
        let pool = Argon2Pool::new(1);
        let ours = pool.hash("correct horse".into()).await.unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );

        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params().unwrap())
            .hash_password(b"battery staple", &salt)
            .unwrap()
            .to_string();
        assert!(
            pool.verify("battery staple".into(), theirs.clone())
                .await
                .unwrap()
        );
        assert!(!pool.verify("battery stable".into(), theirs).await.unwrap());
        assert!(pool.verify("correct horse".into(), ours).await.unwrap());
        assert_eq!(pool.free.lock().unwrap().len(), 1);
    }
}
