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

/// The client's network address, for rate limits; `None` when unknown.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

/// The request's client address.
pub fn client_addr(ctx: &Context<'_>) -> Option<std::net::IpAddr> {
    ctx.data_opt::<ClientAddr>().and_then(|c| c.0)
}

/// A WebSocket's budget of operations setting up at once: setting up reads
/// the database, and a burst of subscribes on one socket must queue behind
/// this budget instead of taking the whole connection pool.
#[derive(Clone)]
pub struct StartSlots(pub std::sync::Arc<tokio::sync::Semaphore>);

/// Waits for a start-up slot of the request's socket (none over HTTP); the
/// slot is held until the returned permit is dropped.
pub async fn start_slot(ctx: &Context<'_>) -> Option<tokio::sync::OwnedSemaphorePermit> {
    let slots = ctx.data_opt::<StartSlots>()?;
    slots.0.clone().acquire_owned().await.ok()
}
