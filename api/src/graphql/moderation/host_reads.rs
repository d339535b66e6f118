//! What the host app reads with the admin key, for moderation and
//! support; each read is in the audit log.

use async_graphql::{
    Context, ID, Object,
    connection::{Connection, Edge},
};
use service::{entity::audit_entry, page::PageArgs};

use crate::graphql::{
    accounts::User,
    context::{actor, service},
    conversations::{Conversation, seq_cursor},
    error::ApiResult,
    ids::{self, Kind, cursor},
    messages::Message,
    paging::page_cost,
    scalars::Timestamp,
};

/// One operation the admin key ran.
pub struct AuditEntry(audit_entry::Model);

#[Object]
impl AuditEntry {
    /// `host_app`: the admin key.
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// The operation (the GraphQL field), e.g. `adminMessages`.
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// The ids it was given (`conversationId=...`), if any.
    async fn target(&self) -> Option<&str> {
        self.0.target.as_deref()
    }

    /// Whether it succeeded.
    async fn ok(&self) -> bool {
        self.0.ok
    }

    async fn at(&self) -> Timestamp {
        self.0.at.into()
    }
}

#[derive(Default)]
pub struct HostReadQuery;

#[Object]
impl HostReadQuery {
    /// Admin key only: any conversation, deleted ones too. Its per-viewer
    /// fields answer as for a non-member; read its history with
    /// `adminMessages`.
    async fn admin_conversation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Conversation> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::Conversation, &id, "id")?;
        let found = service(ctx)?.admin_conversation(&actor, id).await?;
        Ok(Conversation::new(found))
    }

    /// Admin key only: any conversation's history, paged as `messages`.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn admin_messages(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        first: Option<i64>,
        after: Option<String>,
        last: Option<i64>,
        before: Option<String>,
    ) -> ApiResult<Connection<String, Message>> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::Conversation, &conversation_id, "conversationId")?;
        let seq = |c: String, field: &str| {
            cursor::decode(&c, field, |s| s.strip_prefix("seq:")?.parse::<i64>().ok())
        };
        let args = PageArgs {
            first,
            after: after.map(|c| seq(c, "after")).transpose()?,
            last,
            before: before.map(|c| seq(c, "before")).transpose()?,
        };
        let page = service(ctx)?.admin_messages(&actor, id, args).await?;
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|m| Edge::new(seq_cursor(m.seq), Message(m, None))),
        );
        Ok(connection)
    }

    /// Admin key only: any message.
    async fn admin_message(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Message> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::Message, &id, "id")?;
        Ok(Message(
            service(ctx)?.admin_message(&actor, id).await?,
            None,
        ))
    }

    /// Admin key only: any user.
    async fn admin_user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<User> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::User, &id, "id")?;
        Ok(User(service(ctx)?.admin_user(&actor, id).await?))
    }

    /// Admin key only: what the admin key read and did, newest first.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i64>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, AuditEntry>> {
        let actor = actor(ctx)?;
        let after = after
            .map(|c| cursor::decode(&c, "after", |s| s.strip_prefix("a:")?.parse().ok()))
            .transpose()?;
        let page = service(ctx)?
            .audit_log(&actor, PageArgs::forward(first, after))
            .await?;
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|e| Edge::new(cursor::encode(&format!("a:{}", e.id)), AuditEntry(e))),
        );
        Ok(connection)
    }
}
