use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, ID, Object};
use service::entity::user;

use crate::graphql::{
    context::{loaders, member_view, service},
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

    /// True while the user has a signed-in WebSocket open (on any
    /// instance). Under `PARLEY_PRESENCE_VISIBILITY=contacts` (the
    /// default), `false` to anyone who shares no conversation with them.
    async fn online(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(self.presence_visible(ctx).await? && service(ctx)?.is_online(self.0.id))
    }

    /// When the user last used Parley: updated when they authenticate, so
    /// up to a minute stale, and when their last WebSocket closes. `null`
    /// until they first sign in, and to those who may not see their
    /// presence (as `online`).
    async fn last_seen_at(&self, ctx: &Context<'_>) -> ApiResult<Option<Timestamp>> {
        Ok(match self.presence_visible(ctx).await? {
            true => self.0.last_seen_at.map(Timestamp),
            false => None,
        })
    }
}

impl User {
    /// May the viewer see this user's presence? The host app always may.
    async fn presence_visible(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let viewer = match member_view(ctx) {
            Ok(Some(viewer)) => viewer,
            Ok(None) => return Ok(true),
            // Without a valid token, the only user anyone reaches is their
            // own, in the payload of `register` or `login`.
            Err(_) => return Ok(true),
        };
        if viewer.user_id == self.0.id {
            return Ok(true);
        }
        Ok(loaders(ctx)?
            .presence_visible
            .load_one((viewer.user_id, self.0.id))
            .await?
            .unwrap_or(false))
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
