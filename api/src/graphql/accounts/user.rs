use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, ID, Object};
use service::entity::user;

use crate::graphql::{
    context::service,
    error::ApiResult,
    ids::{self, Kind},
};

/// Someone who can chat.
pub struct User(pub user::Model);

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::User, self.0.id)
    }

    /// Unique without regard to case; shown as the user typed it.
    async fn username(&self) -> &str {
        &self.0.username
    }

    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    /// The host app's id for this user (a user id, a wallet address);
    /// `null` for people who registered with a password.
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }

    /// An `http` or `https` URL.
    async fn avatar_url(&self) -> Option<&str> {
        self.0.avatar_url.as_deref()
    }

    /// Bots are created by the host app, which sends their messages.
    async fn is_bot(&self) -> bool {
        self.0.is_bot
    }

    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }

    /// True while the user has a signed-in WebSocket open (on this
    /// instance: presence is per instance for now).
    async fn online(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(service(ctx)?.is_online(self.0.id))
    }

    /// When the user last used Parley: updated when they authenticate, so
    /// up to a minute stale, and when their last WebSocket closes. `null`
    /// until they first sign in.
    async fn last_seen_at(&self) -> Option<Timestamp> {
        self.0.last_seen_at.map(Timestamp)
    }
}

/// A new session: keep the token, it is not shown again.
pub struct AuthPayload {
    pub token: String,
    pub expires_at: Timestamp,
    pub user: user::Model,
}

#[Object]
impl AuthPayload {
    /// Send as `Authorization: Bearer <token>`, or in the WebSocket's
    /// `connection_init` payload as `{"authorization": "Bearer <token>"}`.
    async fn token(&self) -> &str {
        &self.token
    }

    async fn expires_at(&self) -> Timestamp {
        self.expires_at
    }

    async fn user(&self) -> User {
        User(self.user.clone())
    }
}
