//! Users who come from the host app, named by the host app's own id for
//! them (`externalId`: a user id, a wallet address). They sign in with a
//! JWT whose `sub` is that id, or the host app creates them with the admin
//! key; either way the first sight creates the user, exactly once.

use entity::user;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::{
    Service, Viewer,
    error::{Error, Result, is_unique_violation},
    time::now,
    validate::{self, DISPLAY_NAME_MAX, USERNAME_MAX},
};

/// Generated usernames start with this. Registration takes only letters,
/// digits, `_`, `.` and `-`, so a generated name never clashes with a
/// chosen one, and a person cannot register a look-alike of a host-app user.
pub const GENERATED_USERNAME_PREFIX: char = '~';

pub(super) const INVALID: &str = "invalid or expired token";

/// A user the host app's side brings into being.
pub(crate) struct NewExternalUser {
    pub external_id: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
    pub is_bot: bool,
    /// Created by signing in, so seen now.
    pub seen: bool,
}

impl Service {
    /// How host-app JWTs are verified; `Unauthenticated` (as for any bad
    /// token) when JWT sign-in is off.
    pub(super) fn jwt_verifier(&self) -> Result<&crate::JwtVerifier> {
        self.settings()
            .jwt
            .as_ref()
            .ok_or(Error::Unauthenticated(INVALID))
    }

    /// The viewer a host-app JWT stands for. The user is created the first
    /// time its `sub` is seen; it has no session row (the JWT is the
    /// credential, verified again on every request until its `exp`).
    pub(crate) async fn authenticate_jwt(&self, token: &str) -> Result<Viewer> {
        let verifier = self.jwt_verifier()?;
        let claims = verifier.verify(token)?;
        let external_id = validate::external_id(&claims.sub, "sub").map_err(|err| {
            tracing::debug!(error = %err, "JWT refused");
            Error::Unauthenticated(INVALID)
        })?;
        let user = match self.user_by_external_id(&external_id).await? {
            Some(user) => {
                self.note_seen(user.id, user.last_seen_at).await;
                user
            }
            None => {
                let display_name = display_name_for(claims.name(), &external_id);
                let (user, created) = self
                    .insert_external_user(NewExternalUser {
                        external_id,
                        display_name,
                        avatar_url: None,
                        is_bot: false,
                        seen: true,
                    })
                    .await?;
                if created {
                    tracing::info!(user_id = user.id, "created a user from a host-app JWT");
                } else {
                    self.note_seen(user.id, user.last_seen_at).await;
                }
                user
            }
        };
        Ok(Viewer {
            user_id: user.id,
            session_id: Viewer::NO_SESSION,
        })
    }

    pub(crate) async fn user_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<user::Model>> {
        Ok(user::Entity::find()
            .filter(user::Column::ExternalId.eq(external_id))
            .one(self.db())
            .await?)
    }

    /// Creates the user; when a concurrent call created the same external
    /// id first (the unique index refuses this one), returns that user.
    /// The flag says whether this call created it.
    pub(crate) async fn insert_external_user(
        &self,
        new: NewExternalUser,
    ) -> Result<(user::Model, bool)> {
        let username = generated_username(&new.external_id);
        let txn = self.write().await?;
        let at = now();
        let inserted = user::ActiveModel {
            username: Set(username.clone()),
            username_key: Set(username),
            display_name: Set(new.display_name),
            password_hash: Set(None),
            created_at: Set(at),
            updated_at: Set(at),
            external_id: Set(Some(new.external_id.clone())),
            avatar_url: Set(new.avatar_url),
            is_bot: Set(new.is_bot),
            last_seen_at: Set(new.seen.then_some(at)),
            ..Default::default()
        }
        .insert(&*txn)
        .await;
        match inserted {
            Ok(user) => {
                txn.commit().await?;
                Ok((user, true))
            }
            Err(err) if is_unique_violation(&err) => {
                txn.rollback().await?;
                let user = self
                    .user_by_external_id(&new.external_id)
                    .await?
                    // Only a SHA-256 collision of two external ids gets here.
                    .ok_or_else(|| {
                        Error::conflict("externalId", "clashes with another user's username")
                    })?;
                Ok((user, false))
            }
            Err(err) => Err(err.into()),
        }
    }
}

/// The username of a host-app user: the prefix and as much of the
/// SHA-256 of the external id as fits. Stable, so the same external id
/// always gets the same name, and lower-case, so it is its own key.
pub(crate) fn generated_username(external_id: &str) -> String {
    let digest = Sha256::digest(external_id.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let mut name = String::with_capacity(USERNAME_MAX);
    name.push(GENERATED_USERNAME_PREFIX);
    name.push_str(&hex[..USERNAME_MAX - 1]);
    name
}

/// The display name of a user created from the host app's side: the
/// `name` it gave, else the external id, cut to the longest display name.
pub(crate) fn display_name_for(name: Option<&str>, external_id: &str) -> String {
    let usable = |text: &str| {
        let text = text.trim();
        (!text.is_empty() && !text.chars().any(char::is_control)).then(|| {
            let cut: String = text.chars().take(DISPLAY_NAME_MAX).collect();
            cut.trim_end().to_owned()
        })
    };
    name.and_then(usable)
        .or_else(|| usable(external_id))
        .unwrap_or_else(|| GENERATED_USERNAME_PREFIX.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_usernames_are_stable_and_unregistrable() {
        let a = generated_username("0xAbC");
        assert_eq!(a, generated_username("0xAbC"));
        assert_ne!(a, generated_username("0xabc"));
        assert_eq!(a.chars().count(), USERNAME_MAX);
        assert!(a.starts_with(GENERATED_USERNAME_PREFIX));
        assert_eq!(a, a.to_lowercase());
    }

    #[test]
    fn display_names_fall_back_to_the_external_id() {
        assert_eq!(display_name_for(Some("  Ada  "), "x"), "Ada");
        assert_eq!(display_name_for(Some("   "), "user-1"), "user-1");
        assert_eq!(display_name_for(Some("bad\u{7}"), "user-1"), "user-1");
        assert_eq!(display_name_for(None, "user-1"), "user-1");
        let long = "w".repeat(300);
        assert_eq!(
            display_name_for(None, &long).chars().count(),
            DISPLAY_NAME_MAX
        );
        assert_eq!(
            display_name_for(Some(&"n".repeat(100)), "x")
                .chars()
                .count(),
            DISPLAY_NAME_MAX
        );
    }
}
