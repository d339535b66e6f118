//! What the host app reads with the admin key, and the audit log of
//! everything it reads and does.
//!
//! The admin key may read any conversation (deleted ones too), its
//! history, any message and any user, for moderation and support. Each
//! operation it runs is written to the log (`tracing`, target `audit`) and
//! to the `audit_log` table, which only the admin key can read. The API
//! records every operation of an admin-key request in one place (a schema
//! extension), so no new operation can forget it.

use entity::{audit_entry, conversation, message, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::{
    Actor, Service,
    conversations::may_moderate,
    error::{Error, Result},
    page::{Page, PageArgs, Window},
    time::now,
};

/// The `actor` of entries the admin key made.
pub const HOST_APP_ACTOR: &str = "host_app";

impl Service {
    /// Records one admin-key operation: `action` (the operation's name),
    /// `target` (the ids it was given) and whether it succeeded.
    pub async fn audit(&self, action: &str, target: Option<String>, ok: bool) -> Result<()> {
        tracing::info!(target: "audit", actor = HOST_APP_ACTOR, action, target = target.as_deref(), ok, "admin key");
        let row = audit_entry::ActiveModel {
            actor: Set(HOST_APP_ACTOR.to_owned()),
            action: Set(action.chars().take(64).collect()),
            target: Set(target.map(|t| t.chars().take(256).collect())),
            ok: Set(ok),
            at: Set(now()),
            ..Default::default()
        };
        let txn = self.write().await?;
        audit_entry::Entity::insert(row).exec(&*txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The audit log, newest first, paged forward by entry id.
    pub async fn audit_log(
        &self,
        actor: &Actor,
        args: PageArgs<i64>,
    ) -> Result<Page<audit_entry::Model>> {
        may_moderate(actor)?;
        let Window::Forward { after, limit } = args.window(false)? else {
            return Err(Error::invalid(
                "last",
                "the audit log is paged forward only",
            ));
        };
        let mut query = audit_entry::Entity::find()
            .order_by_desc(audit_entry::Column::Id)
            .limit(limit + 1);
        if let Some(after) = after {
            query = query.filter(audit_entry::Column::Id.lt(after));
        }
        Ok(Page::forward(
            query.all(self.db()).await?,
            limit,
            after.is_some(),
        ))
    }

    /// Any conversation, deleted or not, for the host app.
    pub async fn admin_conversation(&self, actor: &Actor, id: i64) -> Result<conversation::Model> {
        may_moderate(actor)?;
        conversation::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("conversation"))
    }

    /// A page of any conversation's history, for the host app: everything,
    /// as stored (nobody's blocks apply).
    pub async fn admin_messages(
        &self,
        actor: &Actor,
        conversation_id: i64,
        args: PageArgs<i64>,
    ) -> Result<Page<message::Model>> {
        let conversation = self.admin_conversation(actor, conversation_id).await?;
        let query =
            message::Entity::find().filter(message::Column::ConversationId.eq(conversation.id));
        let (items, has_previous_page, has_next_page) = match args.window(true)? {
            Window::Forward { after, limit } => {
                let rows = query
                    .filter(message::Column::Seq.gt(after.unwrap_or(0)))
                    .order_by_asc(message::Column::Seq)
                    .limit(limit)
                    .all(self.db())
                    .await?;
                let (p, n) = edges(&rows, conversation.last_seq);
                (rows, p, n)
            }
            Window::Backward { before, limit } => {
                let mut rows = query
                    .filter(message::Column::Seq.lt(before.unwrap_or(i64::MAX)))
                    .order_by_desc(message::Column::Seq)
                    .limit(limit)
                    .all(self.db())
                    .await?;
                rows.reverse();
                let (p, n) = edges(&rows, conversation.last_seq);
                (rows, p, n)
            }
        };
        Ok(Page {
            items,
            has_previous_page,
            has_next_page,
        })
    }

    /// Any message, for the host app.
    pub async fn admin_message(&self, actor: &Actor, id: i64) -> Result<message::Model> {
        may_moderate(actor)?;
        message::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("message"))
    }

    /// Any user, for the host app.
    pub async fn admin_user(&self, actor: &Actor, id: i64) -> Result<user::Model> {
        may_moderate(actor)?;
        user::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or(Error::NotFound("user"))
    }
}

/// Whether there is history before and after a page (seqs are dense).
fn edges(rows: &[message::Model], last_seq: i64) -> (bool, bool) {
    match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => (first.seq > 1, last.seq < last_seq),
        _ => (false, false),
    }
}
