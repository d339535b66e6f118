//! What the host app does with the admin key: create and update users and
//! bots by its own ids for them, and send messages as its bots.
//!
//! The admin key stands for the host app, never for a person. It may send
//! only as a bot (a user the host app created as one), and everything that
//! reads a person's conversations refuses it.

use entity::{message, user};
use sea_orm::EntityTrait;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{
    Actor, Service, SettingsError, Viewer,
    accounts::validate_profile,
    accounts::{NewExternalUser, display_name_for},
    error::{Error, Result},
    messages::SendMessage,
    validate,
};

/// Shortest admin key accepted: it guards every user's name and every
/// bot's voice, so it must not be guessable.
pub const MIN_ADMIN_KEY_BYTES: usize = 32;

/// The admin key, kept as its SHA-256: comparing two digests of equal
/// length in constant time tells nothing about how much of a guess matched,
/// nor how long the key is.
#[derive(Clone)]
pub struct AdminKey([u8; 32]);

impl AdminKey {
    pub fn new(key: &str) -> Result<Self, SettingsError> {
        if key.len() < MIN_ADMIN_KEY_BYTES {
            return Err(SettingsError(format!(
                "the admin key must be at least {MIN_ADMIN_KEY_BYTES} bytes long"
            )));
        }
        Ok(Self(Sha256::digest(key.as_bytes()).into()))
    }

    fn matches(&self, candidate: &str) -> bool {
        let digest = Sha256::digest(candidate.as_bytes());
        self.0.ct_eq(digest.as_slice()).into()
    }
}

impl std::fmt::Debug for AdminKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminKey(..)")
    }
}

/// Creates the user with this external id, or updates it. Fields left
/// `None` keep their value (or get their default on creation);
/// `avatar_url: Some(None)` clears the avatar.
pub struct UpsertUser {
    pub external_id: String,
    pub display_name: Option<String>,
    pub avatar_url: Option<Option<String>>,
    /// Fixed when the user is created: turning a person into a bot would
    /// let the admin key speak for them.
    pub is_bot: Option<bool>,
}

impl Service {
    /// True when `key` is the configured admin key; never when none is.
    pub fn authenticate_admin(&self, key: &str) -> bool {
        self.settings()
            .admin_key
            .as_ref()
            .is_some_and(|admin| admin.matches(key))
    }

    #[tracing::instrument(skip_all)]
    pub async fn upsert_user(&self, actor: &Actor, input: UpsertUser) -> Result<user::Model> {
        host_app_only(actor)?;
        let external_id = validate::external_id(&input.external_id, "externalId")?;
        let (display_name, avatar_url) =
            validate_profile(input.display_name.as_deref(), input.avatar_url)?;
        let existing = match self.user_by_external_id(&external_id).await? {
            Some(user) => user,
            None => {
                let new = NewExternalUser {
                    display_name: display_name
                        .clone()
                        .unwrap_or_else(|| display_name_for(None, &external_id)),
                    avatar_url: avatar_url.clone().flatten(),
                    is_bot: input.is_bot.unwrap_or(false),
                    seen: false,
                    external_id,
                };
                let (user, created) = self.insert_external_user(new).await?;
                if created {
                    tracing::info!(
                        user_id = user.id,
                        is_bot = user.is_bot,
                        "host app created a user"
                    );
                    return Ok(user);
                }
                // Created concurrently: apply this call's changes to it.
                user
            }
        };
        if input.is_bot.is_some_and(|is_bot| is_bot != existing.is_bot) {
            return Err(Error::conflict(
                "isBot",
                "cannot change once the user exists",
            ));
        }
        self.apply_profile(existing, display_name, avatar_url).await
    }

    /// Sends as the bot `user_id`, which must be a member of the
    /// conversation like any sender. A person is `Forbidden`.
    #[tracing::instrument(skip_all, fields(user_id = user_id, conversation_id = input.conversation_id))]
    pub async fn send_message_as(
        &self,
        actor: &Actor,
        user_id: i64,
        input: SendMessage,
    ) -> Result<message::Model> {
        host_app_only(actor)?;
        let user = user::Entity::find_by_id(user_id)
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("user"))?;
        if !user.is_bot {
            return Err(Error::Forbidden(
                "the admin key sends only as a bot, never as a person",
            ));
        }
        let bot = Viewer {
            user_id,
            session_id: Viewer::NO_SESSION,
        };
        self.send_message(&bot, input).await
    }
}

/// `Forbidden` unless the host app (the admin key) acts.
pub fn host_app_only(actor: &Actor) -> Result<()> {
    match actor {
        Actor::HostApp => Ok(()),
        Actor::User(_) => Err(Error::Forbidden(
            "only the host app may do this: send the admin key",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_keys() {
        assert!(AdminKey::new("too short").is_err());
        let key = AdminKey::new("k".repeat(32).as_str()).unwrap();
        assert!(key.matches(&"k".repeat(32)));
        assert!(!key.matches(&"k".repeat(31)));
        assert!(!key.matches(""));
        assert_eq!(format!("{key:?}"), "AdminKey(..)");
    }
}
