use std::{collections::HashMap, sync::Arc};

use crate::graphql::scalars::{JsonValue, Timestamp};
use async_graphql::{
    Context, Enum, ID, Object,
    connection::{Connection, Edge},
};
use chrono::Utc;
use service::{
    conversations::untitled_title,
    entity::{conversation, conversation_member, message, user},
    page::{Page, PageArgs},
};

use crate::graphql::{accounts::User, messages::Message, paging::page_cost};
use crate::graphql::{
    context::{loaders, member_view, service, viewer},
    error::{ApiError, ApiResult},
    ids::{self, Kind, cursor},
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "service::entity::conversation::Kind")]
pub enum ConversationKind {
    /// Exactly two people; one per pair.
    Direct,
    /// Any number of people, with an owner.
    Group,
}

/// What a member may do in a group: owners and admins manage members,
/// only owners manage admins. Both people in a direct conversation are
/// members.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "service::entity::conversation_member::Role")]
pub enum MemberRole {
    /// One per group: manages members and admins, deletes the group.
    Owner,
    /// Manages members.
    Admin,
    Member,
}

/// What a group's members see of the time before they (last) joined.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "service::entity::conversation::HistoryVisibility")]
pub enum HistoryVisibility {
    /// Everything, whenever they joined (the default).
    Shared,
    /// Only messages from their latest join on: history, search, threads,
    /// `node` and the event streams hide the older ones.
    SinceJoined,
}

/// A conversation the viewer is a member of. Values of this type are only
/// built from service calls that checked membership. Conversations of an
/// inbox page carry what was loaded for the whole page.
pub struct Conversation(pub conversation::Model, pub Option<Arc<PagePrefetch>>);

type MemberRows = Arc<Vec<(conversation_member::Model, user::Model)>>;

/// The data of a page of conversations, read in one query per kind before
/// the page resolves. Batch loaders would do the same, but their batching
/// window splits batches on a busy machine; reading ahead makes the
/// statement count of a page fixed.
#[derive(Default)]
pub struct PagePrefetch {
    pub members: Option<HashMap<i64, MemberRows>>,
    pub last_messages: Option<HashMap<i64, (message::Model, Option<user::Model>)>>,
    pub unread: Option<HashMap<i64, i64>>,
}

impl Conversation {
    pub fn new(model: conversation::Model) -> Self {
        Self(model, None)
    }

    /// The viewer's own membership row.
    async fn own_row(&self, ctx: &Context<'_>) -> ApiResult<Option<conversation_member::Model>> {
        let Some(viewer) = member_view(ctx)? else {
            return Ok(None);
        };
        Ok(self
            .member_rows(ctx)
            .await?
            .iter()
            .find(|(m, _)| m.user_id == viewer.user_id)
            .map(|(m, _)| m.clone()))
    }

    async fn member_rows(&self, ctx: &Context<'_>) -> ApiResult<MemberRows> {
        if let Some(members) = self.1.as_ref().and_then(|p| p.members.as_ref()) {
            return Ok(members.get(&self.0.id).cloned().unwrap_or_default());
        }
        Ok(loaders(ctx)?
            .members
            .load_one(self.0.id)
            .await?
            .unwrap_or_default())
    }
}

#[Object]
impl Conversation {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Conversation, self.0.id)
    }

    async fn kind(&self) -> ConversationKind {
        self.0.kind.into()
    }

    /// A group's title; for a direct conversation, the other person's
    /// display name; for a group not yet named, its members' names.
    async fn title(&self, ctx: &Context<'_>) -> ApiResult<String> {
        if let Some(title) = &self.0.title {
            return Ok(title.clone());
        }
        let viewer = member_view(ctx)?;
        let loaders = loaders(ctx)?;
        let members = self.member_rows(ctx).await?;
        let others: Vec<&str> = members
            .iter()
            .filter(|(m, _)| viewer.is_none_or(|v| m.user_id != v.user_id))
            .map(|(_, u)| u.display_name.as_str())
            .collect();
        // Alone in it: the viewer's own name, loaded only then.
        let own = match (others.is_empty(), viewer) {
            (true, Some(viewer)) => loaders
                .users
                .load_one(viewer.user_id)
                .await?
                .map(|u| u.display_name),
            _ => None,
        };
        Ok(untitled_title(&others, own.as_deref()))
    }

    /// What the host app says the conversation is about
    /// (`listing:8841`), if anything.
    async fn context(&self) -> Option<&str> {
        self.0.context.as_deref()
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    async fn avatar_url(&self) -> Option<&str> {
        self.0.avatar_url.as_deref()
    }

    #[doc = concat!("The host app's JSON object (at most ", ::service::limit!(METADATA_MAX_KIB), " KiB).")]
    async fn metadata(&self) -> Option<JsonValue> {
        self.0
            .metadata
            .as_deref()
            .and_then(|m| serde_json::from_str(m).ok())
            .map(JsonValue)
    }

    /// The viewer's role here.
    async fn my_role(&self, ctx: &Context<'_>) -> ApiResult<Option<MemberRole>> {
        Ok(self.own_row(ctx).await?.map(|m| m.role.into()))
    }

    /// Hidden from the viewer's inbox until the next message.
    async fn archived(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(self.own_row(ctx).await?.is_some_and(|m| m.archived))
    }

    /// Muted for the viewer: left out of their total unread count.
    async fn muted(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let now = Utc::now();
        Ok(self
            .own_row(ctx)
            .await?
            .is_some_and(|m| m.muted && m.muted_until.is_none_or(|until| until > now)))
    }

    /// When the viewer's mute ends; `null` when muted for good or not muted.
    async fn muted_until(&self, ctx: &Context<'_>) -> ApiResult<Option<Timestamp>> {
        Ok(self
            .own_row(ctx)
            .await?
            .filter(|m| m.muted)
            .and_then(|m| m.muted_until)
            .map(Timestamp))
    }

    /// Set while the conversation is deleted and can still be restored.
    async fn deleted_at(&self) -> Option<Timestamp> {
        self.0.deleted_at.map(Timestamp)
    }

    /// The seq of the newest message; 0 while there is none.
    async fn last_seq(&self) -> i64 {
        self.0.last_seq
    }

    /// When the newest message arrived (creation time while empty). The
    /// conversation list is sorted by it.
    async fn last_activity_at(&self) -> Timestamp {
        self.0.last_activity_at.into()
    }

    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }

    async fn last_message(&self, ctx: &Context<'_>) -> ApiResult<Option<Message>> {
        if self.0.last_seq == 0 {
            return Ok(None);
        }
        if let Some(last) = self.1.as_ref().and_then(|p| p.last_messages.as_ref()) {
            return Ok(last
                .get(&self.0.id)
                .cloned()
                .map(|(m, sender)| Message(m, sender)));
        }
        let viewer = member_view(ctx)?.map(|v| v.user_id);
        Ok(loaders(ctx)?
            .last_messages
            .load_one((viewer, self.0.id))
            .await?
            .map(|(m, sender)| Message(m, sender)))
    }

    /// Other people's messages after the viewer's read pointer.
    async fn unread_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        // The host app is in no conversation: nothing is unread for it.
        let Some(viewer) = member_view(ctx)? else {
            return Ok(0);
        };
        if let Some(unread) = self.1.as_ref().and_then(|p| p.unread.as_ref()) {
            return Ok(unread.get(&self.0.id).copied().unwrap_or(0));
        }
        Ok(loaders(ctx)?
            .unread
            .load_one((viewer.user_id, self.0.id))
            .await?
            .unwrap_or(0))
    }

    /// What members see of the time before they joined; always `SHARED`
    /// for a direct conversation.
    async fn history_visibility(&self) -> HistoryVisibility {
        self.0.history_visibility.into()
    }

    /// The viewer's unread messages here that mention them (muting does not
    /// hide them).
    async fn unread_mention_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        Ok(self.own_row(ctx).await?.map_or(0, |m| m.unread_mentions))
    }

    /// The seq up to which the viewer has read.
    async fn last_read_seq(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        Ok(self.own_row(ctx).await?.map_or(0, |m| m.last_read_seq))
    }

    async fn member_count(&self, ctx: &Context<'_>) -> ApiResult<usize> {
        Ok(self.member_rows(ctx).await?.len())
    }

    /// Members in the order they joined.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i64>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, ConversationMember>> {
        let after = after
            .map(|c| cursor::decode(&c, "after", |s| s.parse::<usize>().ok()))
            .transpose()?;
        let window = PageArgs::forward(first, after).window(false)?;
        let service::page::Window::Forward { after, limit } = window else {
            return Err(ApiError::bad_input(
                "last",
                "members are paged forward only",
            ));
        };
        let members = self.member_rows(ctx).await?;
        let start = match after {
            None => 0,
            Some(i) => i
                .checked_add(1)
                .ok_or_else(|| ApiError::bad_input("after", "is not a valid cursor"))?,
        };
        let rows: Vec<(usize, (conversation_member::Model, user::Model))> = members
            .iter()
            .cloned()
            .enumerate()
            .skip(start)
            .take(limit as usize + 1)
            .collect();
        let page = Page::forward(rows, limit, start > 0);
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection
            .edges
            .extend(page.items.into_iter().map(|(i, (m, u))| {
                Edge::new(cursor::encode(&i.to_string()), ConversationMember(m, u))
            }));
        Ok(connection)
    }

    /// The history, oldest first within a page. `last: 50` is the newest
    /// page; page back with `before:` its first cursor. Without arguments,
    #[doc = concat!("the newest ", ::service::limit!(PAGE_DEFAULT), ".")]
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i64>,
        after: Option<String>,
        last: Option<i64>,
        before: Option<String>,
    ) -> ApiResult<Connection<String, Message>> {
        let viewer = viewer(ctx)?;
        let args = PageArgs {
            first,
            after: after.map(|c| decode_seq(&c, "after")).transpose()?,
            last,
            before: before.map(|c| decode_seq(&c, "before")).transpose()?,
        };
        let page = service(ctx)?.messages(&viewer, &self.0, args).await?;
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|m| Edge::new(seq_cursor(m.seq), Message(m, None))),
        );
        Ok(connection)
    }
}

pub fn seq_cursor(seq: i64) -> String {
    cursor::encode(&format!("seq:{seq}"))
}

fn decode_seq(c: &str, field: &str) -> ApiResult<i64> {
    cursor::decode(c, field, |s| s.strip_prefix("seq:")?.parse().ok())
}

/// One member of a conversation.
pub struct ConversationMember(pub conversation_member::Model, pub user::Model);

#[Object]
impl ConversationMember {
    async fn user(&self) -> User {
        User(self.1.clone())
    }

    async fn role(&self) -> MemberRole {
        self.0.role.into()
    }

    /// How far this member has read.
    async fn last_read_seq(&self) -> i64 {
        self.0.last_read_seq
    }

    /// How far this member's clients have received: messages they fetched
    /// or got live. Never below `lastReadSeq`.
    async fn last_delivered_seq(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        let delivered = service(ctx)?.delivered_seq(&self.0);
        Ok(Ord::max(delivered, self.0.last_read_seq))
    }

    async fn joined_at(&self) -> Timestamp {
        self.0.joined_at.into()
    }
}
