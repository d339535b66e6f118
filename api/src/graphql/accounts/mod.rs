//! Accounts and sign-in, over `service::accounts`.

/// `exportMyData`, `deleteMyAccount`, `deleteUser`.
mod data_rights;
/// What the host app does with the admin key.
mod host_app;
/// `updateProfile` and `changePassword`.
mod profile;
/// The `Session` type.
mod session;
/// `sessions` and `revokeSession`.
mod sessions;
/// The `User` and `AuthPayload` types.
mod user;
/// `me`, `user`, `users`, `register`, `login`, `logout`.
mod users;

pub use data_rights::{DataRightsMutation, DataRightsQuery};
pub use host_app::HostAppMutation;
pub use profile::AccountSettingsMutation;
pub(crate) use profile::maybe;
pub use session::Session;
pub use sessions::{SessionMutation, SessionQuery};
pub use user::{AuthPayload, User};
pub use users::{AccountMutation, UserQuery};
