//! Ending sessions while they are in use: when a session is revoked (logout,
//! `revokeSession`, a password change ending the user's other sessions),
//! a [`Revoked`] signal goes out on the app's event bus after the commit,
//! and whoever holds a live connection for that session (the WebSocket
//! layer) ends it at once. Expiry needs no signal: the holder learns when
//! the credential expires ([`Service::credential_expiry`]) and ends it then.
//!
//! The signal names sessions and users, never tokens, so a bus between
//! instances can carry it as it is.

use chrono::{DateTime, TimeZone, Utc};
use entity::session;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::external_ids::INVALID;
use crate::{
    Service,
    accounts::{hash_token, looks_like_jwt},
    error::{Error, Result},
    events::Revoked,
};

impl Service {
    /// Tells live connections that sessions ended. Call after the commit.
    pub(crate) fn announce_revoked(&self, revoked: Revoked) {
        tracing::debug!(?revoked, "sessions ended");
        self.sessions.forget(&revoked);
        self.bus().publish_revoked(revoked);
    }

    /// When a bearer token stops being valid: a session's `expires_at`, or
    /// a host-app JWT's `exp` (plus the leeway the verifier allows).
    /// `Unauthenticated` when it is not valid now.
    pub async fn credential_expiry(&self, token: &str) -> Result<DateTime<Utc>> {
        if looks_like_jwt(token) {
            let verifier = self.jwt_verifier()?;
            let claims = verifier.verify(token)?;
            let exp = claims.exp.saturating_add(verifier.leeway_secs());
            return Utc
                .timestamp_opt(i64::try_from(exp).unwrap_or(i64::MAX), 0)
                .single()
                .ok_or(Error::Unauthenticated(INVALID));
        }
        let session = session::Entity::find()
            .filter(session::Column::TokenHash.eq(hash_token(token)))
            .one(self.db())
            .await?
            .ok_or(Error::Unauthenticated(INVALID))?;
        Ok(session.expires_at)
    }
}
