//! Accounts and sessions: register, log in, log out, and turning a bearer
//! token (a session token, or a host-app JWT) back into a [`Viewer`].

use std::net::IpAddr;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use entity::{session, user};
use rand::{TryRngCore, rngs::OsRng};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::{
    Service, Viewer,
    accounts::looks_like_jwt,
    accounts::mark_seen,
    db,
    error::{Error, Internal, Result, is_unique_violation},
    events::Revoked,
    time::now,
    validate::{self, PASSWORD_MAX, USERNAME_MAX},
};

const BAD_CREDENTIALS: &str = "invalid username or password";

pub struct Register {
    pub username: String,
    pub password: String,
    pub display_name: Option<String>,
}

/// A fresh session: the token is shown to the client once and never again.
pub struct SignedIn {
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub user: user::Model,
}

impl Service {
    /// `client` is the caller's address, for the registration rate limit.
    #[tracing::instrument(skip_all, fields(username = %input.username))]
    pub async fn register(&self, client: Option<IpAddr>, input: Register) -> Result<SignedIn> {
        let username = validate::username(&input.username)?;
        validate::no_nul("password", &input.password)?;
        self.limit_registration(client)?;
        validate::password("password", &input.password)?;
        let display_name = match input.display_name {
            Some(name) => validate::display_name(&name)?,
            None => username.clone(),
        };
        let key = username.to_lowercase();
        if self.find_by_username_key(&key).await?.is_some() {
            return Err(username_taken());
        }
        let password_hash = self.passwords.hash(input.password).await?;

        let txn = self.write().await?;
        let at = now();
        let inserted = user::ActiveModel {
            username: Set(username),
            username_key: Set(key),
            display_name: Set(display_name),
            password_hash: Set(Some(password_hash)),
            created_at: Set(at),
            updated_at: Set(at),
            last_seen_at: Set(Some(at)),
            ..Default::default()
        }
        .insert(&*txn)
        .await;
        let user = match inserted {
            Ok(user) => user,
            // Someone took the name between the check and the insert.
            Err(err) if is_unique_violation(&err) => return Err(username_taken()),
            Err(err) => return Err(err.into()),
        };
        let (token, expires_at) = self.create_session(&txn, user.id).await?;
        txn.commit().await?;
        Ok(SignedIn {
            token,
            expires_at,
            user,
        })
    }

    /// Unknown users and wrong passwords get the same error after the same
    /// amount of hashing work. Attempts are rate limited per account and
    /// per `client` address, before any of that work.
    #[tracing::instrument(skip_all, fields(username = %username))]
    pub async fn login(
        &self,
        client: Option<IpAddr>,
        username: &str,
        password: String,
    ) -> Result<SignedIn> {
        validate::no_nul("username", username)?;
        validate::no_nul("password", &password)?;
        let key = username.trim().to_lowercase();
        // The limiter keeps a bucket per name it sees: a name longer than
        // any username is cut, so a flood of huge made-up names cannot
        // make those buckets large (they match no account either way).
        let account: String = key.chars().take(USERNAME_MAX + 1).collect();
        self.limit_password_check(client, &account)?;
        let user = if key.len() <= USERNAME_MAX {
            self.find_by_username_key(&key).await?
        } else {
            None
        };
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        if password.chars().count() > PASSWORD_MAX {
            return Err(Error::Unauthenticated(BAD_CREDENTIALS));
        }
        if !self.passwords.verify(password, hash).await? {
            return Err(Error::Unauthenticated(BAD_CREDENTIALS));
        }
        let mut user = user.ok_or(Error::Unauthenticated(BAD_CREDENTIALS))?;
        let txn = self.write().await?;
        let (token, expires_at) = self.create_session(&txn, user.id).await?;
        let at = now();
        let seen = mark_seen(&*txn, user.id, at).await?;
        txn.commit().await?;
        if seen {
            user.last_seen_at = Some(at);
        }
        Ok(SignedIn {
            token,
            expires_at,
            user,
        })
    }

    /// Revokes the session the viewer is using. `false` when there is none
    /// to revoke: a host-app JWT has no session, and stays valid until its
    /// `exp` (the host app stops issuing it).
    #[tracing::instrument(skip_all, fields(user_id = viewer.user_id))]
    pub async fn logout(&self, viewer: &Viewer) -> Result<bool> {
        let Some(session_id) = viewer.session() else {
            return Ok(false);
        };
        let txn = self.write().await?;
        let deleted = session::Entity::delete_by_id(session_id)
            .exec(&*txn)
            .await?;
        txn.commit().await?;
        self.announce_revoked(Revoked::Session {
            user_id: viewer.user_id,
            session_id,
        });
        Ok(deleted.rows_affected > 0)
    }

    /// The viewer a bearer token stands for: a host-app JWT when it has a
    /// JWT's shape (and JWTs are configured), else a session token.
    /// `Unauthenticated` when the token is unknown, revoked or expired.
    /// Notes the user as seen (at most once a minute).
    pub async fn authenticate(&self, token: &str) -> Result<Viewer> {
        const INVALID: &str = "invalid or expired token";
        if looks_like_jwt(token) {
            return self.authenticate_jwt(token).await;
        }
        // Session tokens are 43 characters of base64url.
        if token.is_empty() || token.len() > 256 || token.contains('.') {
            return Err(Error::Unauthenticated(INVALID));
        }
        let token_hash = hash_token(token);
        let at = now();
        if let Some((viewer, last_seen_at)) = self.sessions.get(&token_hash, at) {
            if self.note_seen(viewer.user_id, last_seen_at).await {
                self.sessions.seen(&token_hash, at);
            }
            return Ok(viewer);
        }
        let (session, user) = session::Entity::find()
            .filter(session::Column::TokenHash.eq(token_hash.as_str()))
            .find_also_related(user::Entity)
            .one(self.db())
            .await?
            .ok_or(Error::Unauthenticated(INVALID))?;
        let user = user.ok_or(Error::Unauthenticated(INVALID))?;
        if session.expires_at <= at {
            return Err(Error::Unauthenticated(INVALID));
        }
        let seen = self.note_seen(user.id, user.last_seen_at).await;
        let viewer = Viewer {
            user_id: session.user_id,
            session_id: session.id,
        };
        let last_seen_at = if seen { Some(at) } else { user.last_seen_at };
        self.sessions
            .put(token_hash, viewer, session.expires_at, last_seen_at);
        Ok(viewer)
    }

    async fn find_by_username_key(&self, key: &str) -> Result<Option<user::Model>> {
        Ok(user::Entity::find()
            .filter(user::Column::UsernameKey.eq(key))
            .one(self.db())
            .await?)
    }

    async fn create_session(
        &self,
        txn: &db::Tx,
        user_id: i64,
    ) -> Result<(String, chrono::DateTime<chrono::Utc>)> {
        let token = new_token()?;
        let at = now();
        let ttl = chrono::Duration::from_std(self.settings().token_ttl)
            .unwrap_or(chrono::Duration::days(30));
        session::ActiveModel {
            user_id: Set(user_id),
            token_hash: Set(hash_token(&token)),
            created_at: Set(at),
            expires_at: Set(at + ttl),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok((token, at + ttl))
    }
}

fn username_taken() -> Error {
    Error::conflict("username", "is already taken")
}

/// 32 bytes from the operating system's generator, URL-safe base64.
pub fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| Error::Internal(Internal::Crypto(format!("OS random generator: {e}"))))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Hex SHA-256 of a token: what the sessions table stores.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }
}
