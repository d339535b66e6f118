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

use crate::{
    Service, Viewer,
    auth::hash_token,
    error::{Error, Result},
    jwt::looks_like_jwt,
};

/// Sessions that just ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revoked {
    /// One session.
    Session { user_id: i64, session_id: i64 },
    /// Every session of a user, but `except` (the one that asked).
    UserSessions { user_id: i64, except: Option<i64> },
}

impl Revoked {
    /// True when a viewer signed in with this session can no longer act.
    /// Viewers without a session row (host-app JWTs) end only by expiry.
    pub fn ends(&self, viewer: &Viewer) -> bool {
        let Some(session_id) = viewer.session() else {
            return false;
        };
        match *self {
            Revoked::Session {
                session_id: ended, ..
            } => ended == session_id,
            Revoked::UserSessions { user_id, except } => {
                user_id == viewer.user_id && except != Some(session_id)
            }
        }
    }
}

impl Service {
    /// Tells live connections that sessions ended. Call after the commit.
    pub(crate) fn announce_revoked(&self, revoked: Revoked) {
        tracing::debug!(?revoked, "sessions ended");
        self.bus().publish_revoked(revoked);
    }

    /// When a bearer token stops being valid: a session's `expires_at`, or
    /// a host-app JWT's `exp` (plus the leeway the verifier allows).
    /// `Unauthenticated` when it is not valid now.
    pub async fn credential_expiry(&self, token: &str) -> Result<DateTime<Utc>> {
        const INVALID: &str = "invalid or expired token";
        if looks_like_jwt(token) {
            let verifier = self
                .settings()
                .jwt
                .as_ref()
                .ok_or(Error::Unauthenticated(INVALID))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_a_revocation_ends() {
        let viewer = Viewer {
            user_id: 7,
            session_id: 70,
        };
        let jwt_viewer = Viewer {
            user_id: 7,
            session_id: Viewer::NO_SESSION,
        };
        let one = Revoked::Session {
            user_id: 7,
            session_id: 70,
        };
        assert!(one.ends(&viewer));
        assert!(
            !Revoked::Session {
                user_id: 7,
                session_id: 71
            }
            .ends(&viewer)
        );
        let others = Revoked::UserSessions {
            user_id: 7,
            except: Some(71),
        };
        assert!(others.ends(&viewer));
        assert!(
            !Revoked::UserSessions {
                user_id: 7,
                except: Some(70)
            }
            .ends(&viewer)
        );
        assert!(
            !Revoked::UserSessions {
                user_id: 8,
                except: None
            }
            .ends(&viewer)
        );
        assert!(!others.ends(&jwt_viewer));
    }
}
