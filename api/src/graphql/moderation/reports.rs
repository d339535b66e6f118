//! Reports of messages, and the host app's queue.

use async_graphql::{
    Context, Enum, ID, Object,
    connection::{Connection, Edge},
};
use service::{entity::message_report, page::PageArgs};

use crate::graphql::{
    accounts::User,
    context::{actor, loaders, service, viewer},
    error::ApiResult,
    ids::{self, Kind, cursor},
    messages::Message,
    paging::page_cost,
    scalars::Timestamp,
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "service::entity::message_report::Status")]
pub enum ReportStatus {
    /// Waiting for the host app.
    Open,
    /// Closed by `resolveReport`.
    Resolved,
}

/// One person's report of one message.
pub struct Report(message_report::Model);

#[Object]
impl Report {
    async fn id(&self) -> ID {
        ids::encode(Kind::Report, self.0.id)
    }

    /// The message as it is now; `null` once it is gone for good.
    async fn message(&self, ctx: &Context<'_>) -> ApiResult<Option<Message>> {
        let found = service(ctx)?.messages_by_ids(&[self.0.message_id]).await?;
        Ok(found.into_values().next().map(|m| Message(m, None)))
    }

    async fn conversation_id(&self) -> ID {
        ids::encode(Kind::Conversation, self.0.conversation_id)
    }

    async fn reporter(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        Ok(loaders(ctx)?
            .users
            .load_one(self.0.reporter_id)
            .await?
            .map(User))
    }

    async fn reason(&self) -> &str {
        &self.0.reason
    }

    async fn status(&self) -> ReportStatus {
        self.0.status.into()
    }

    async fn resolution(&self) -> Option<&str> {
        self.0.resolution.as_deref()
    }

    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }

    async fn resolved_at(&self) -> Option<Timestamp> {
        self.0.resolved_at.map(Timestamp)
    }
}

#[derive(Default)]
pub struct ReportQuery;

#[Object]
impl ReportQuery {
    /// Admin key only: reports, newest first, with `status` (all without).
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn reports(
        &self,
        ctx: &Context<'_>,
        status: Option<ReportStatus>,
        first: Option<i64>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Report>> {
        let actor = actor(ctx)?;
        let after = after
            .map(|c| cursor::decode(&c, "after", |s| s.strip_prefix("r:")?.parse().ok()))
            .transpose()?;
        let page = service(ctx)?
            .reports(
                &actor,
                status.map(Into::into),
                PageArgs::forward(first, after),
            )
            .await?;
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|r| Edge::new(cursor::encode(&format!("r:{}", r.id)), Report(r))),
        );
        Ok(connection)
    }
}

#[derive(Default)]
pub struct ReportMutation;

#[Object]
impl ReportMutation {
    /// Reports a message the viewer can see (else `NOT_FOUND`) to the host
    /// app. `reason`: 1 to `PARLEY_MAX_REASON` characters. One open report
    /// per person and message (`CONFLICT` on `messageId`).
    async fn report_message(
        &self,
        ctx: &Context<'_>,
        message_id: ID,
        reason: String,
    ) -> ApiResult<Report> {
        let viewer = viewer(ctx)?;
        let id = ids::decode(Kind::Message, &message_id, "messageId")?;
        let report = service(ctx)?.report_message(&viewer, id, &reason).await?;
        Ok(Report(report))
    }

    /// Admin key only: closes a report with the host app's `resolution`
    /// (1 to `PARLEY_MAX_REASON` characters). Already resolved: `CONFLICT`.
    async fn resolve_report(
        &self,
        ctx: &Context<'_>,
        id: ID,
        resolution: String,
    ) -> ApiResult<Report> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::Report, &id, "id")?;
        let report = service(ctx)?
            .resolve_report(&actor, id, &resolution)
            .await?;
        Ok(Report(report))
    }
}
