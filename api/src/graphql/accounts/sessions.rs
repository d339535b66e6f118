//! The viewer's sessions: `sessions` and `revokeSession`.

use async_graphql::{
    Context, ID, Object,
    connection::{Connection, Edge},
};
use service::page::PageArgs;

use crate::graphql::{
    accounts::Session,
    context::{service, viewer},
    error::ApiResult,
    ids::{self, Kind, cursor},
    paging::page_cost,
};

#[derive(Default)]
pub struct SessionQuery;

#[Object]
impl SessionQuery {
    /// Where the viewer is signed in: sessions that have not expired,
    /// newest first. Empty for a viewer signed in by a host-app JWT.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        first: Option<i64>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Session>> {
        let viewer = viewer(ctx)?;
        let after = after
            .map(|c| cursor::decode(&c, "after", |s| s.strip_prefix("s:")?.parse().ok()))
            .transpose()?;
        let page = service(ctx)?
            .sessions(&viewer, PageArgs::forward(first, after))
            .await?;
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection.edges.extend(page.items.into_iter().map(|s| {
            Edge::new(
                cursor::encode(&format!("s:{}", s.id)),
                Session::new(s, &viewer),
            )
        }));
        Ok(connection)
    }
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Signs one of the viewer's sessions out (the current one too, like
    /// `logout`). Another user's session is `NOT_FOUND`.
    async fn revoke_session(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let viewer = viewer(ctx)?;
        let id = ids::decode(Kind::Session, &id, "id")?;
        service(ctx)?.revoke_session(&viewer, id).await?;
        Ok(true)
    }
}
