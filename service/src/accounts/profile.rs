//! The viewer's own account: the profile others see, and the password.

use std::net::IpAddr;

use entity::{session, user};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};

use crate::{
    Service, Viewer,
    error::{Error, Result},
    events::Revoked,
    time::now,
    validate::{self, PASSWORD_MAX},
};

/// Fields left `None` keep their value; `avatar_url: Some(None)` clears it.
pub struct UpdateProfile {
    pub display_name: Option<String>,
    pub avatar_url: Option<Option<String>>,
}

impl Service {
    #[tracing::instrument(skip_all, fields(user_id = viewer.user_id))]
    pub async fn update_profile(
        &self,
        viewer: &Viewer,
        input: UpdateProfile,
    ) -> Result<user::Model> {
        let (display_name, avatar_url) =
            validate_profile(input.display_name.as_deref(), input.avatar_url)?;
        let user = self.me(viewer).await?;
        self.apply_profile(user, display_name, avatar_url).await
    }

    /// Writes the given profile fields of `user` and returns the row as
    /// stored; writes nothing when nothing changes.
    pub(crate) async fn apply_profile(
        &self,
        user: user::Model,
        display_name: Option<String>,
        avatar_url: Option<Option<String>>,
    ) -> Result<user::Model> {
        let mut changes: user::ActiveModel = user.clone().into();
        let mut changed = false;
        if let Some(name) = display_name.filter(|name| *name != user.display_name) {
            changes.display_name = Set(name);
            changed = true;
        }
        if let Some(url) = avatar_url.filter(|url| *url != user.avatar_url) {
            changes.avatar_url = Set(url);
            changed = true;
        }
        if !changed {
            return Ok(user);
        }
        changes.updated_at = Set(now());
        let txn = self.write().await?;
        let updated = changes.update(&*txn).await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// Replaces the password after checking the current one, and ends every
    /// other session of the user: whoever knew the old password is signed
    /// out everywhere but here. Checking the current password counts
    /// against the same limits as logging in (`client` is the caller's
    /// address).
    #[tracing::instrument(skip_all, fields(user_id = viewer.user_id))]
    pub async fn change_password(
        &self,
        client: Option<IpAddr>,
        viewer: &Viewer,
        current_password: String,
        new_password: String,
    ) -> Result<()> {
        validate::password("newPassword", &new_password)?;
        validate::no_nul("newPassword", &new_password)?;
        validate::no_nul("currentPassword", &current_password)?;
        let user = self.me(viewer).await?;
        self.limit_password_check(client, &user.username_key)?;
        let Some(hash) = user.password_hash.clone() else {
            return Err(Error::Forbidden(
                "this account has no password: it signs in through the host app",
            ));
        };
        let wrong = || Error::invalid("currentPassword", "is not the account's password");
        if current_password.chars().count() > PASSWORD_MAX
            || !self
                .passwords
                .verify(current_password, Some(hash.clone()))
                .await?
        {
            return Err(wrong());
        }
        let new_hash = self.passwords.hash(new_password).await?;

        let txn = self.write().await?;
        // Only if the hash checked is still the stored one: a concurrent
        // change from another session wins, and this one must start over.
        let updated = user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(new_hash))
            .col_expr(user::Column::UpdatedAt, Expr::value(now()))
            .filter(user::Column::Id.eq(user.id))
            .filter(user::Column::PasswordHash.eq(hash))
            .exec(&*txn)
            .await?;
        if updated.rows_affected == 0 {
            txn.rollback().await?;
            return Err(wrong());
        }
        let mut others = session::Entity::delete_many().filter(session::Column::UserId.eq(user.id));
        if let Some(current) = viewer.session() {
            others = others.filter(session::Column::Id.ne(current));
        }
        let ended = others.exec(&*txn).await?;
        txn.commit().await?;
        self.announce_revoked(Revoked::UserSessions {
            user_id: user.id,
            except: viewer.session(),
        });
        tracing::info!(sessions_ended = ended.rows_affected, "password changed");
        Ok(())
    }
}

/// A display name and an avatar change (`Some(None)` clears the avatar),
/// validated; `None` leaves a field alone.
pub(crate) type ProfileFields = (Option<String>, Option<Option<String>>);

pub(crate) fn validate_profile(
    display_name: Option<&str>,
    avatar_url: Option<Option<String>>,
) -> Result<ProfileFields> {
    let display_name = display_name.map(validate::display_name).transpose()?;
    let avatar_url = match avatar_url {
        Some(Some(url)) => Some(Some(validate::avatar_url(&url)?)),
        other => other,
    };
    Ok((display_name, avatar_url))
}
