//! The viewer's own account: `updateProfile` and `changePassword`.

use async_graphql::{Context, InputObject, MaybeUndefined, Object};
use service::accounts::UpdateProfile;

use crate::graphql::{
    accounts::User,
    context::{client_addr, service, viewer},
    error::ApiResult,
};

#[derive(InputObject)]
pub struct UpdateProfileInput {
    #[doc = concat!("1 to ", ::service::limit!(DISPLAY_NAME_MAX), " characters after trimming. Left out or `null`: unchanged.")]
    pub display_name: Option<String>,
    #[doc = concat!("An `http` or `https` URL of at most ", ::service::limit!(URL_MAX), " characters, stored")]
    /// normalized. Left out: unchanged; `null`: removed.
    pub avatar_url: MaybeUndefined<String>,
}

#[derive(Default)]
pub struct AccountSettingsMutation;

#[Object]
impl AccountSettingsMutation {
    /// Changes what others see of the viewer; returns the stored profile.
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
    ) -> ApiResult<User> {
        let viewer = viewer(ctx)?;
        let user = service(ctx)?
            .update_profile(
                &viewer,
                UpdateProfile {
                    display_name: input.display_name,
                    avatar_url: maybe(input.avatar_url),
                },
            )
            .await?;
        Ok(User(user))
    }

    #[doc = concat!("Replaces the viewer's password (", ::service::limit!(PASSWORD_MIN), " to ", ::service::limit!(PASSWORD_MAX), " characters) and signs out")]
    /// every other session; this one stays valid. A wrong
    /// `currentPassword` is `BAD_USER_INPUT`; an account that signs in
    /// through the host app has no password (`FORBIDDEN`).
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> ApiResult<bool> {
        let viewer = viewer(ctx)?;
        service(ctx)?
            .change_password(client_addr(ctx), &viewer, current_password, new_password)
            .await?;
        Ok(true)
    }
}

/// `None` when left out, `Some(None)` when `null`: the service's shape for
/// "unchanged" and "cleared".
pub(crate) fn maybe<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(value) => Some(Some(value)),
    }
}
