//! Reports of messages: anyone who can see a message may report it, once
//! while their report is open; the host app (admin key) reads the queue
//! and resolves reports.

use entity::{
    message::{self, Kind},
    message_report::{self, Status},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::{
    Actor, Service, Viewer,
    conversations::may_moderate,
    error::{Error, Result, is_unique_violation},
    page::{Page, PageArgs, Window},
    time::now,
    validate,
};

impl Service {
    /// Reports a message the viewer can see (a message they cannot see,
    /// including one of someone they block, is `NotFound`). A second open
    /// report of the same message by the same person is `Conflict`.
    #[tracing::instrument(skip(self, reason), fields(user_id = viewer.user_id))]
    pub async fn report_message(
        &self,
        viewer: &Viewer,
        message_id: i64,
        reason: &str,
    ) -> Result<message_report::Model> {
        let reason = validate::reason("reason", reason, self.settings().max_reason)?;
        let message: message::Model = self.message(viewer, message_id).await?;
        if message.kind == Kind::System {
            return Err(Error::invalid(
                "messageId",
                "system messages cannot be reported",
            ));
        }
        let row = message_report::ActiveModel {
            message_id: Set(message.id),
            conversation_id: Set(message.conversation_id),
            reporter_id: Set(viewer.user_id),
            reason: Set(reason),
            status: Set(Status::Open),
            resolution: Set(None),
            created_at: Set(now()),
            resolved_at: Set(None),
            ..Default::default()
        };
        let txn = self.write().await?;
        let report = match message_report::Entity::insert(row)
            .exec_with_returning(&*txn)
            .await
        {
            Ok(report) => report,
            Err(err) if is_unique_violation(&err) => {
                return Err(Error::conflict(
                    "messageId",
                    "you already have an open report of this message",
                ));
            }
            Err(err) => return Err(err.into()),
        };
        txn.commit().await?;
        Ok(report)
    }

    /// The host app's queue: reports with `status` (all without), newest
    /// first, paged forward by report id.
    pub async fn reports(
        &self,
        actor: &Actor,
        status: Option<Status>,
        args: PageArgs<i64>,
    ) -> Result<Page<message_report::Model>> {
        may_moderate(actor)?;
        let Window::Forward { after, limit } = args.window(false)? else {
            return Err(Error::invalid("last", "reports are paged forward only"));
        };
        let mut query = message_report::Entity::find()
            .order_by_desc(message_report::Column::Id)
            .limit(limit + 1);
        if let Some(status) = status {
            query = query.filter(message_report::Column::Status.eq(status));
        }
        if let Some(after) = after {
            query = query.filter(message_report::Column::Id.lt(after));
        }
        Ok(Page::forward(
            query.all(self.db()).await?,
            limit,
            after.is_some(),
        ))
    }

    /// Closes a report with the host app's `resolution`. A resolved report
    /// is `Conflict`.
    #[tracing::instrument(skip(self, resolution))]
    pub async fn resolve_report(
        &self,
        actor: &Actor,
        id: i64,
        resolution: &str,
    ) -> Result<message_report::Model> {
        may_moderate(actor)?;
        let resolution = validate::reason("resolution", resolution, self.settings().max_reason)?;
        let txn = self.write().await?;
        let updated = message_report::Entity::update_many()
            .col_expr(message_report::Column::Status, Status::Resolved.into())
            .col_expr(message_report::Column::Resolution, Some(resolution).into())
            .col_expr(message_report::Column::ResolvedAt, Some(now()).into())
            .filter(message_report::Column::Id.eq(id))
            .filter(message_report::Column::Status.eq(Status::Open))
            .exec_with_returning(&*txn)
            .await?;
        txn.commit().await?;
        if let Some(report) = updated.into_iter().next() {
            return Ok(report);
        }
        match message_report::Entity::find_by_id(id)
            .one(self.db())
            .await?
        {
            Some(_) => Err(Error::conflict("id", "the report is already resolved")),
            None => Err(Error::NotFound("report")),
        }
    }
}
