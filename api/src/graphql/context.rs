//! What resolvers read from the request context.

use async_graphql::Context;
use service::{Actor, Service, Viewer};

use super::{
    error::{ApiError, ApiResult},
    loaders::Loaders,
};

/// Who is asking, decided by the transport before execution.
#[derive(Clone, Copy, Debug, Default)]
pub enum Auth {
    #[default]
    Anonymous,
    /// A token was sent but is unknown, revoked or expired.
    Invalid,
    Viewer(Viewer),
    /// The server's admin key: the host app, acting for its users.
    HostApp,
}

impl Auth {
    pub fn viewer(&self) -> Option<Viewer> {
        match self {
            Auth::Viewer(viewer) => Some(*viewer),
            _ => None,
        }
    }
}

/// The signed-in viewer, or `UNAUTHENTICATED`.
pub fn viewer(ctx: &Context<'_>) -> ApiResult<Viewer> {
    match ctx.data_opt::<Auth>().copied().unwrap_or_default() {
        Auth::Viewer(viewer) => Ok(viewer),
        Auth::HostApp => Err(ApiError::from(service::Error::Forbidden(
            "the admin key acts for the host app, not for a user",
        ))),
        Auth::Invalid => Err(ApiError::unauthenticated("invalid or expired token")),
        Auth::Anonymous => Err(ApiError::unauthenticated(
            "sign in first: send `Authorization: Bearer <token>`",
        )),
    }
}

/// Who acts: the signed-in viewer or the host app; else `UNAUTHENTICATED`.
pub fn actor(ctx: &Context<'_>) -> ApiResult<Actor> {
    match ctx.data_opt::<Auth>().copied().unwrap_or_default() {
        Auth::HostApp => Ok(Actor::HostApp),
        _ => viewer(ctx).map(Actor::User),
    }
}

/// The viewer whose membership per-viewer fields describe; `None` for the
/// host app, which is in no conversation (its mutations still return
/// them); else `UNAUTHENTICATED`.
pub fn member_view(ctx: &Context<'_>) -> ApiResult<Option<Viewer>> {
    match actor(ctx)? {
        Actor::User(viewer) => Ok(Some(viewer)),
        Actor::HostApp => Ok(None),
    }
}

/// The app's service, which the schema is built with.
pub fn service<'a>(ctx: &Context<'a>) -> ApiResult<&'a Service> {
    ctx.data::<Service>()
        .map_err(|_| ApiError::internal("the schema was built without a service"))
}

/// The app's batch loaders.
pub fn loaders<'a>(ctx: &Context<'a>) -> ApiResult<&'a Loaders> {
    ctx.data::<Loaders>()
        .map_err(|_| ApiError::internal("the schema was built without loaders"))
}
