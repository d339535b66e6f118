//! Host-app credentials for tests: JWTs minted as a host app would, and
//! the admin key.

use std::path::PathBuf;

use anyhow::{Context, Result};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, get_current_timestamp};
use serde_json::{Value, json};

/// The HS256 secret of [`spawn_host_app`](crate::spawn_host_app).
pub const SECRET: &str = "a-test-secret-of-at-least-32-bytes!!";
/// The admin key of [`spawn_host_app`](crate::spawn_host_app).
pub const ADMIN_KEY: &str = "a-test-admin-key-of-at-least-32-bytes";

/// Seconds since the epoch, as JWTs count.
pub fn now() -> u64 {
    get_current_timestamp()
}

/// Claims for `sub`, valid for `ttl` seconds.
pub fn claims(sub: &str, ttl: u64) -> Value {
    json!({"sub": sub, "exp": now() + ttl})
}

/// A token signed with HS256 and [`SECRET`].
pub fn hs256(claims: &Value) -> Result<String> {
    hs256_with(SECRET, claims)
}

pub fn hs256_with(secret: &str, claims: &Value) -> Result<String> {
    sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(secret.as_bytes()),
        claims,
    )
}

/// A token signed with the test key pair `name` ("rs256" or "es256").
pub fn with_key_pair(name: &str, claims: &Value) -> Result<String> {
    let pem = std::fs::read(fixture(&format!("{name}-private.pem")))?;
    let (algorithm, key) = match name {
        "rs256" => (Algorithm::RS256, EncodingKey::from_rsa_pem(&pem)?),
        _ => (Algorithm::ES256, EncodingKey::from_ec_pem(&pem)?),
    };
    sign(algorithm, &key, claims)
}

pub fn sign(algorithm: Algorithm, key: &EncodingKey, claims: &Value) -> Result<String> {
    encode(&Header::new(algorithm), claims, key).context("JWT signed")
}

/// A file under `tests/fixtures/jwt`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/jwt")
        .join(name)
}
