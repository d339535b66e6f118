//! Conversations: listing, opening, creating, marking read.

use std::sync::Arc;

use async_graphql::{
    Context, ID, InputObject, Interface, Object, SimpleObject,
    connection::{Connection, Edge},
};
use chrono::DateTime;
use service::{
    conversations::{CreateGroup, InboxCursor},
    page::PageArgs,
};

use crate::graphql::{
    accounts::User,
    context::{actor, service, viewer},
    conversations::{Conversation, ConversationKind, HistoryVisibility, PagePrefetch},
    error::ApiResult,
    ids::{self, Kind, cursor},
    messages::Message,
    paging::page_cost,
};

#[derive(InputObject)]
pub struct CreateGroupConversationInput {
    #[doc = concat!("Up to ", ::service::limit!(TITLE_MAX), " characters. Without one, the group is named by its first", "\n", "message (its first ", ::service::limit!(DERIVED_TITLE_MAX), " characters, cut at a word).")]
    pub title: Option<String>,
    /// The other members; the creator joins as owner. With the admin key,
    /// the first one is the owner.
    pub member_ids: Vec<ID>,
    /// What the host app says the group is about (`course:cs101`).
    pub context: Option<String>,
    /// What members see of the time before they joined (default
    /// `SHARED`).
    pub history_visibility: Option<HistoryVisibility>,
}

/// Narrows the viewer's conversation list.
#[derive(InputObject, Default)]
pub struct ConversationFilter {
    /// Only conversations about this context.
    pub context: Option<String>,
    pub kind: Option<ConversationKind>,
    /// `false` (the default): the inbox; `true`: what the viewer archived.
    #[graphql(default)]
    pub archived: bool,
    /// Matches titles and the other members' names, ignoring case.
    pub search: Option<String>,
    /// `true`: the deleted conversations the viewer may restore (either
    /// person of a direct conversation, a group's owner) within the
    /// retention period, with their `deletedAt`; `archived` is ignored.
    /// Only their own fields and members can be read until restored.
    #[graphql(default)]
    pub deleted: bool,
}

/// The viewer's totals.
#[derive(SimpleObject)]
pub struct MyStats {
    /// Conversations in the inbox.
    pub active: u64,
    pub archived: u64,
    /// Deleted conversations the viewer can still restore (as listed by
    /// `conversations(filter: {deleted: true})`).
    pub deleted: u64,
    pub messages_sent: u64,
    /// As the root `unreadCount`: muted conversations left out.
    pub unread: i64,
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
        filter: Option<ConversationFilter>,
        first: Option<i64>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Conversation>> {
        let viewer = viewer(ctx)?;
        let after = after.map(|c| decode_inbox_cursor(&c)).transpose()?;
        let filter = filter.unwrap_or_default();
        let filter = service::conversations::ConversationFilter {
            context: filter.context,
            kind: filter.kind.map(Into::into),
            archived: filter.archived,
            search: filter.search,
            deleted: filter.deleted,
        };
        let page = service(ctx)?
            .conversations(&viewer, filter, PageArgs::forward(first, after))
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

    /// The viewer's unread messages across all conversations except the
    /// muted ones.
    async fn unread_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        let viewer = viewer(ctx)?;
        Ok(service(ctx)?.total_unread(&viewer).await?)
    }

    /// The viewer's unread messages that mention them, across all
    /// conversations, muted ones included.
    async fn unread_mention_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        let viewer = viewer(ctx)?;
        Ok(service(ctx)?.total_unread_mentions(&viewer).await?)
    }

    /// The viewer's totals.
    async fn my_stats(&self, ctx: &Context<'_>) -> ApiResult<MyStats> {
        let viewer = viewer(ctx)?;
        let stats = service(ctx)?.my_stats(&viewer).await?;
        Ok(MyStats {
            active: stats.active,
            archived: stats.archived,
            deleted: stats.deleted,
            messages_sent: stats.messages_sent,
            unread: stats.unread,
        })
    }

    /// Any user, conversation or message by its global id, under the same
    /// rules as everywhere else; `null` when it does not exist or the
    /// viewer may not see it.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Node>> {
        let viewer = viewer(ctx)?;
        let service = service(ctx)?;
        let found = match ids::decode_any(&id, "id")? {
            // Sessions are listed by `sessions`, endpoints by
            // `webhookEndpoints`; they are not nodes.
            (Kind::Session | Kind::Report | Kind::WebhookEndpoint, _) => Ok(None),
            (Kind::User, id) => service
                .user(&viewer, id)
                .await
                .map(|u| u.map(|u| Node::User(User(u)))),
            (Kind::Conversation, id) => service
                .conversation(&viewer, id)
                .await
                .map(|c| Some(Node::Conversation(Conversation::new(c)))),
            (Kind::Message, id) => service
                .message(&viewer, id)
                .await
                .map(|m| Some(Node::Message(Message(m, None)))),
        };
        match found {
            Ok(node) => Ok(node),
            Err(service::Error::NotFound(_)) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}

/// Anything with a global id.
// One per `node` query, returned at once: not worth boxing the message.
#[allow(clippy::large_enum_variant)]
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    User(User),
    Conversation(Conversation),
    Message(Message),
}

#[derive(Default)]
pub struct ConversationMutation;

#[Object]
impl ConversationMutation {
    /// Gets or creates the one direct conversation between the viewer and
    /// `userId` about `context` (a key the host app chooses, such as
    /// `listing:8841`): one per pair and context.
    async fn open_direct_conversation(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        context: Option<String>,
    ) -> ApiResult<Conversation> {
        let viewer = viewer(ctx)?;
        let other = ids::decode(Kind::User, &user_id, "userId")?;
        Ok(Conversation::new(
            service(ctx)?.open_direct(&viewer, other, context).await?,
        ))
    }

    /// A group owned by the viewer (with the admin key: by the first of
    /// `memberIds`).
    async fn create_group_conversation(
        &self,
        ctx: &Context<'_>,
        input: CreateGroupConversationInput,
    ) -> ApiResult<Conversation> {
        let actor = actor(ctx)?;
        let member_ids = input
            .member_ids
            .iter()
            .map(|id| ids::decode(Kind::User, id, "memberIds"))
            .collect::<ApiResult<Vec<_>>>()?;
        let created = service(ctx)?
            .create_group(
                &actor,
                CreateGroup {
                    title: input.title,
                    member_ids,
                    context: input.context,
                    history_visibility: input
                        .history_visibility
                        .map(Into::into)
                        .unwrap_or_default(),
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

    /// Moves the viewer's read pointer back on purpose, to just before
    /// `fromSeq` (1 to the conversation's newest seq): that message and the
    /// ones after it count as unread again.
    async fn mark_unread(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        from_seq: i64,
    ) -> ApiResult<Conversation> {
        let viewer = viewer(ctx)?;
        let id = ids::decode(Kind::Conversation, &conversation_id, "conversationId")?;
        Ok(Conversation::new(
            service(ctx)?.mark_unread(&viewer, id, from_seq).await?,
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
    let needs_members = [
        "members",
        "title",
        "memberCount",
        "lastReadSeq",
        "unreadMentionCount",
        "myRole",
        "archived",
        "muted",
        "mutedUntil",
    ]
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
                true => service
                    .last_messages(Some(viewer.user_id), &ids)
                    .await
                    .map(Some),
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
