//! Verifying the host app's JWTs.
//!
//! A host app that already signs its users in can hand each of them a short
//! JWT instead of a Parley password. Parley checks the signature with the
//! one key the operator configured (an HS256 secret, or an RS256 / ES256
//! public key), requires `exp` and `sub`, and reads nothing else but `name`.
//! The algorithm is fixed by the key, never taken from the token, so a
//! token cannot downgrade itself to `none` or to HMAC with the public key.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;

use crate::{
    SettingsError,
    error::{Error, Result},
};

/// Shortest HS256 secret accepted: RFC 7518 asks for a key as long as the
/// hash, 256 bits.
pub const MIN_SECRET_BYTES: usize = 32;
/// Longest token accepted; a JWT with a few claims is well under 2 KiB.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

const INVALID: &str = "invalid or expired token";

/// The claims Parley reads. Others (`iat`, `email`, ...) are ignored.
#[derive(Debug, Deserialize)]
pub(crate) struct Claims {
    /// The user's id in the host app: Parley's `externalId`.
    pub sub: String,
    /// The display name a user created on first sight gets. Anything but
    /// a string is ignored rather than failing the sign-in.
    #[serde(default)]
    pub name: Option<serde_json::Value>,
    /// Expiry, in seconds since the epoch (required and checked by the
    /// verifier); live connections end then.
    #[serde(default)]
    pub exp: u64,
}

impl Claims {
    pub fn name(&self) -> Option<&str> {
        self.name.as_ref().and_then(serde_json::Value::as_str)
    }
}

/// The key and rules host-app tokens are checked against. Built once at
/// start-up, so a bad key stops the server instead of failing every request.
#[derive(Clone)]
pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl JwtVerifier {
    /// Tokens signed with HS256 and `secret`.
    pub fn hs256(secret: &str) -> Result<Self, SettingsError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(SettingsError(format!(
                "the JWT secret must be at least {MIN_SECRET_BYTES} bytes long"
            )));
        }
        Ok(Self::new(
            DecodingKey::from_secret(secret.as_bytes()),
            Algorithm::HS256,
        ))
    }

    /// Tokens signed with the private half of `pem`: an RSA public key
    /// (RS256) or a P-256 public key (ES256), PKCS#1, SPKI or a certificate.
    pub fn public_key_pem(pem: &str) -> Result<Self, SettingsError> {
        // jsonwebtoken would take a private RSA key too; a private key here
        // is a mistake that puts the signing key on the chat server.
        if pem.contains("PRIVATE KEY") {
            return Err(SettingsError(
                "the JWT public key is a private key: give its public half".into(),
            ));
        }
        if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
            return Ok(Self::new(key, Algorithm::RS256));
        }
        if let Ok(key) = DecodingKey::from_ec_pem(pem.as_bytes()) {
            return Ok(Self::new(key, Algorithm::ES256));
        }
        Err(SettingsError(
            "the JWT public key is not an RSA or EC public key in PEM".into(),
        ))
    }

    fn new(key: DecodingKey, algorithm: Algorithm) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 30;
        // Checked only when an audience is configured (see `with_audience`).
        validation.validate_aud = false;
        Self { key, validation }
    }

    /// The clock skew tolerated past `exp`, in seconds.
    pub(crate) fn leeway_secs(&self) -> u64 {
        self.validation.leeway
    }

    /// Tolerance for clocks that disagree, applied to `exp` and `nbf`.
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.validation.leeway = leeway.as_secs();
        self
    }

    /// Requires `iss` to be `issuer`.
    pub fn with_issuer(mut self, issuer: &str) -> Self {
        self.validation.set_issuer(&[issuer]);
        self.validation.required_spec_claims.insert("iss".into());
        self
    }

    /// Requires `aud` to be (or include) `audience`: set it when the key
    /// also signs tokens meant for other services.
    pub fn with_audience(mut self, audience: &str) -> Self {
        self.validation.set_audience(&[audience]);
        self.validation.validate_aud = true;
        self.validation.required_spec_claims.insert("aud".into());
        self
    }

    /// The algorithm tokens must be signed with, for the start-up log.
    pub fn algorithm(&self) -> &'static str {
        match self.validation.algorithms.first() {
            Some(Algorithm::HS256) => "HS256",
            Some(Algorithm::RS256) => "RS256",
            Some(Algorithm::ES256) => "ES256",
            _ => "unknown",
        }
    }

    /// The claims of a token that checks out; `Unauthenticated` otherwise.
    /// Why a token failed is logged at debug level, never told the client.
    pub(crate) fn verify(&self, token: &str) -> Result<Claims> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Error::Unauthenticated(INVALID));
        }
        match jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(err) => {
                match err.kind() {
                    ErrorKind::ExpiredSignature => tracing::debug!("JWT expired"),
                    kind => tracing::debug!(reason = ?kind, "JWT refused"),
                }
                Err(Error::Unauthenticated(INVALID))
            }
        }
    }
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("algorithm", &self.algorithm())
            .field("issuer", &self.validation.iss)
            .field("audience", &self.validation.aud)
            .field("leeway", &self.validation.leeway)
            .finish_non_exhaustive()
    }
}

/// True when `token` has the shape of a JWT: three dot-separated parts.
/// Session tokens are base64url, which has no dots, so the two never mix.
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    fn mint(alg: Algorithm, secret: &str, claims: serde_json::Value) -> String {
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn accepts_a_good_token_and_reads_sub_and_name() {
        let verifier = JwtVerifier::hs256(SECRET).unwrap();
        let token = mint(
            Algorithm::HS256,
            SECRET,
            json!({"sub": "0xAbC", "name": "Ada", "exp": now() + 60}),
        );
        let claims = verifier.verify(&token).unwrap();
        assert_eq!(claims.sub, "0xAbC");
        assert_eq!(claims.name(), Some("Ada"));
        assert!(looks_like_jwt(&token));
    }

    #[test]
    fn refuses_what_it_must() {
        let verifier = JwtVerifier::hs256(SECRET)
            .unwrap()
            .with_leeway(Duration::ZERO);
        let other = "another secret that is long enough!!";
        let cases = [
            mint(
                Algorithm::HS256,
                SECRET,
                json!({"sub": "a", "exp": now() - 5}),
            ),
            mint(Algorithm::HS256, SECRET, json!({"sub": "a"})),
            mint(Algorithm::HS256, SECRET, json!({"exp": now() + 60})),
            mint(
                Algorithm::HS256,
                other,
                json!({"sub": "a", "exp": now() + 60}),
            ),
            mint(
                Algorithm::HS384,
                SECRET,
                json!({"sub": "a", "exp": now() + 60}),
            ),
            mint(
                Algorithm::HS256,
                SECRET,
                json!({"sub": "a", "exp": now() + 60, "nbf": now() + 60}),
            ),
            mint(
                Algorithm::HS256,
                SECRET,
                json!({"sub": 7, "exp": now() + 60}),
            ),
            // alg "none": a header and claims with an empty signature.
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIiwiZXhwIjo5OTk5OTk5OTk5fQ.".to_owned(),
        ];
        for token in cases {
            assert!(
                matches!(verifier.verify(&token), Err(Error::Unauthenticated(_))),
                "accepted {token}"
            );
        }
    }

    #[test]
    fn issuer_and_audience_are_required_when_configured() {
        let verifier = JwtVerifier::hs256(SECRET)
            .unwrap()
            .with_issuer("https://host.example")
            .with_audience("parley");
        let good =
            json!({"sub": "a", "exp": now() + 60, "iss": "https://host.example", "aud": "parley"});
        assert!(
            verifier
                .verify(&mint(Algorithm::HS256, SECRET, good))
                .is_ok()
        );
        for claims in [
            json!({"sub": "a", "exp": now() + 60, "iss": "https://host.example"}),
            json!({"sub": "a", "exp": now() + 60, "iss": "https://host.example", "aud": "other"}),
            json!({"sub": "a", "exp": now() + 60, "iss": "https://evil.example", "aud": "parley"}),
        ] {
            assert!(
                verifier
                    .verify(&mint(Algorithm::HS256, SECRET, claims))
                    .is_err()
            );
        }
        // Without a configured audience, a token's `aud` is not checked.
        let plain = JwtVerifier::hs256(SECRET).unwrap();
        let with_aud = json!({"sub": "a", "exp": now() + 60, "aud": "anything"});
        assert!(
            plain
                .verify(&mint(Algorithm::HS256, SECRET, with_aud))
                .is_ok()
        );
    }

    #[test]
    fn refuses_weak_secrets_and_private_keys() {
        assert!(JwtVerifier::hs256("short").is_err());
        assert!(
            JwtVerifier::public_key_pem(
                "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----"
            )
            .is_err()
        );
        assert!(JwtVerifier::public_key_pem("not a pem").is_err());
    }

    #[test]
    fn jwt_shape() {
        assert!(!looks_like_jwt("abcDEF_-123"));
        assert!(!looks_like_jwt("a.b"));
        assert!(looks_like_jwt("a.b.c"));
    }
}
