//! Conversations: listing, opening, creating, marking read.

use std::sync::Arc;

use async_graphql::{
    Context, ID, InputObject, Object,
    connection::{Connection, Edge},
};
use chrono::DateTime;
use service::{
    conversations::{CreateGroup, InboxCursor},
    page::PageArgs,
};

use super::{
    context::{service, viewer},
    error::ApiResult,
    ids::{self, Kind, cursor},
    types::{Conversation, PagePrefetch, page_cost},
};

#[derive(InputObject)]
pub struct CreateGroupConversationInput {
    /// 1 to 128 characters.
    pub title: String,
    /// The other members; the creator joins as owner.
    pub member_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct MarkReadInput {
    pub conversation_id: ID,
    /// Defaults to the newest message. The read pointer never moves back.
    pub up_to_seq: Option<i64>,
}

#[derive(Default)]
pub struct ConversationQuery;

#[Object]
impl ConversationQuery {
    /// The viewer's conversations, most recent activity first.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        first: Option<i64>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Conversation>> {
        let viewer = viewer(ctx)?;
        let after = after.map(|c| decode_inbox_cursor(&c)).transpose()?;
        let page = service(ctx)?
            .conversations(&viewer, PageArgs::forward(first, after))
            .await?;
        let prefetch = Arc::new(prefetch(ctx, &viewer, &page.items).await?);
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection.edges.extend(page.items.into_iter().map(|c| {
            let cursor = InboxCursor::from(&c);
            Edge::new(
                encode_inbox_cursor(&cursor),
                Conversation(c, Some(prefetch.clone())),
            )
        }));
        Ok(connection)
    }

    /// A conversation the viewer is a member of; `null` otherwise.
    async fn conversation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Conversation>> {
        let viewer = viewer(ctx)?;
        let id = ids::decode(Kind::Conversation, &id, "id")?;
        match service(ctx)?.conversation(&viewer, id).await {
            Ok(c) => Ok(Some(Conversation::new(c))),
            Err(service::Error::NotFound(_)) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// The viewer's unread messages across all conversations.
    async fn unread_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        let viewer = viewer(ctx)?;
        Ok(service(ctx)?.total_unread(&viewer).await?)
    }
}

#[derive(Default)]
pub struct ConversationMutation;

#[Object]
impl ConversationMutation {
    /// Gets or creates the one direct conversation between the viewer and
    /// `userId`.
    async fn open_direct_conversation(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
    ) -> ApiResult<Conversation> {
        let viewer = viewer(ctx)?;
        let other = ids::decode(Kind::User, &user_id, "userId")?;
        Ok(Conversation::new(
            service(ctx)?.open_direct(&viewer, other).await?,
        ))
    }

    /// A group owned by the viewer.
    async fn create_group_conversation(
        &self,
        ctx: &Context<'_>,
        input: CreateGroupConversationInput,
    ) -> ApiResult<Conversation> {
        let viewer = viewer(ctx)?;
        let member_ids = input
            .member_ids
            .iter()
            .map(|id| ids::decode(Kind::User, id, "memberIds"))
            .collect::<ApiResult<Vec<_>>>()?;
        let created = service(ctx)?
            .create_group(
                &viewer,
                CreateGroup {
                    title: input.title,
                    member_ids,
                },
            )
            .await?;
        Ok(Conversation::new(created))
    }

    /// Moves the viewer's read pointer forward.
    async fn mark_read(&self, ctx: &Context<'_>, input: MarkReadInput) -> ApiResult<Conversation> {
        let viewer = viewer(ctx)?;
        let id = ids::decode(Kind::Conversation, &input.conversation_id, "conversationId")?;
        Ok(Conversation::new(
            service(ctx)?
                .mark_read(&viewer, id, input.up_to_seq)
                .await?,
        ))
    }
}

/// Reads, for the whole page at once, what the client selected of each
/// conversation's members, last message and unread count.
async fn prefetch(
    ctx: &Context<'_>,
    viewer: &service::Viewer,
    page: &[service::entity::conversation::Model],
) -> ApiResult<PagePrefetch> {
    let look = ctx.look_ahead();
    let (nodes, edges) = (look.field("nodes"), look.field("edges").field("node"));
    let wants = |field: &str| nodes.field(field).exists() || edges.field(field).exists();
    let ids: Vec<i64> = page.iter().map(|c| c.id).collect();
    let service = service(ctx)?;
    let needs_members = ["members", "title", "memberCount", "lastReadSeq"]
        .iter()
        .any(|f| wants(f));
    let (members, last_messages, unread) = tokio::join!(
        async {
            match needs_members {
                true => service.members_of(&ids).await.map(Some),
                false => Ok(None),
            }
        },
        async {
            match wants("lastMessage") {
                true => service.last_messages(&ids).await.map(Some),
                false => Ok(None),
            }
        },
        async {
            match wants("unreadCount") {
                true => service.unread_counts(viewer.user_id, &ids).await.map(Some),
                false => Ok(None),
            }
        },
    );
    Ok(PagePrefetch {
        members: members?.map(|m| m.into_iter().map(|(k, v)| (k, Arc::new(v))).collect()),
        last_messages: last_messages?,
        unread: unread?,
    })
}

fn encode_inbox_cursor(c: &InboxCursor) -> String {
    cursor::encode(&format!(
        "c:{}:{}",
        c.last_activity_at.timestamp_micros(),
        c.id
    ))
}

fn decode_inbox_cursor(c: &str) -> ApiResult<InboxCursor> {
    cursor::decode(c, "after", |s| {
        let (micros, id) = s.strip_prefix("c:")?.split_once(':')?;
        Some(InboxCursor {
            last_activity_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        })
    })
}
