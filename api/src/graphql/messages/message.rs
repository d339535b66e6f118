use crate::graphql::scalars::{JsonValue, Timestamp};
use async_graphql::{
    Context, Enum, ID, Object, SimpleObject,
    connection::{Connection, Edge},
};
use service::{
    entity::{message, user},
    messages::attachments_of,
    page::PageArgs,
};

use crate::graphql::{
    accounts::User,
    conversations::{Conversation, seq_cursor},
    paging::page_cost,
};
use crate::graphql::{
    context::{loaders, member_view, service, viewer},
    error::ApiResult,
    ids::{self, Kind, cursor},
};

/// A stored message, with its sender when it was loaded alongside.
pub struct Message(pub message::Model, pub Option<user::Model>);

#[Object]
impl Message {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Message, self.0.id)
    }

    /// Its place in the conversation: 1, 2, 3, ... with no gaps.
    async fn seq(&self) -> i64 {
        self.0.seq
    }

    async fn conversation_id(&self) -> ID {
        ids::encode(Kind::Conversation, self.0.conversation_id)
    }

    async fn conversation(&self, ctx: &Context<'_>) -> ApiResult<Conversation> {
        let viewer = viewer(ctx)?;
        Ok(Conversation::new(
            service(ctx)?
                .conversation(&viewer, self.0.conversation_id)
                .await?,
        ))
    }

    /// Who sent it; `null` for notices from the system.
    async fn sender(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let Some(sender) = self.0.sender_id else {
            return Ok(None);
        };
        if let Some(user) = &self.1 {
            return Ok(Some(User(user.clone())));
        }
        Ok(loaders(ctx)?.users.load_one(sender).await?.map(User))
    }

    async fn body(&self) -> &str {
        &self.0.body
    }

    /// The sender's idempotency key, if it sent one.
    async fn client_message_id(&self) -> Option<&str> {
        self.0.client_message_id.as_deref()
    }

    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }

    /// How far the message has got, shown to its author in a direct
    /// conversation (`null` for everyone else, and in groups): `READ` once
    /// the other person has read it, `DELIVERED` once one of their clients
    /// has received it, else `SENT`.
    async fn status(&self, ctx: &Context<'_>) -> ApiResult<Option<MessageStatus>> {
        let Some(viewer) = member_view(ctx)? else {
            return Ok(None);
        };
        // Only the author needs the members: others cost nothing.
        if self.0.sender_id != Some(viewer.user_id) {
            return Ok(None);
        }
        let members = loaders(ctx)?
            .direct_members
            .load_one(self.0.conversation_id)
            .await?;
        Ok(service(ctx)?
            .message_status(
                viewer.user_id,
                &self.0,
                members.as_deref().map(Vec::as_slice),
            )
            .map(Into::into))
    }

    async fn kind(&self) -> MessageKind {
        self.0.kind.into()
    }

    #[doc = concat!("Files it points at (up to ", ::service::limit!(ATTACHMENTS_MAX), "); empty for most text.")]
    async fn attachments(&self) -> Vec<Attachment> {
        attachments_of(&self.0)
            .into_iter()
            .map(|a| Attachment {
                url: a.url,
                name: a.name,
                mime_type: a.mime_type,
                size: a.size,
                width: a.width,
                height: a.height,
            })
            .collect()
    }

    /// True while its author is still adding text (`appendToMessage`);
    /// `body` is the text stored so far (at most 250 ms behind).
    async fn streaming(&self) -> bool {
        self.0.streaming
    }

    /// Its id on the network it was imported from (`importMessages`);
    /// `null` for messages sent here.
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }

    /// A JSON object. For `SYSTEM` messages it describes the change:
    /// `type` (`members_added`, `member_removed`, `member_left`,
    /// `role_changed`, `conversation_updated`), `actorId` (`null` for the
    /// host app) and the change's details; user ids in it are global ids.
    #[doc = concat!("For others, what the sender attached (at most ", ::service::limit!(METADATA_MAX_KIB), " KiB).")]
    async fn metadata(&self) -> Option<JsonValue> {
        let mut value: serde_json::Value =
            serde_json::from_str(self.0.metadata.as_deref()?).ok()?;
        if self.0.kind == message::Kind::System {
            globalize_user_ids(&mut value);
        }
        Some(JsonValue(value))
    }

    /// When its author last changed the body; `null` if never.
    async fn edited_at(&self) -> Option<Timestamp> {
        self.0.edited_at.map(Timestamp)
    }

    /// The versions of the body that edits replaced, oldest first. Erased
    /// when the message is deleted.
    async fn edits(&self, ctx: &Context<'_>) -> ApiResult<Vec<MessageEdit>> {
        if self.0.edited_at.is_none() {
            return Ok(Vec::new());
        }
        let edits = loaders(ctx)?.edits.load_one(self.0.id).await?;
        Ok(edits
            .map(|rows| {
                rows.iter()
                    .map(|e| MessageEdit {
                        body: e.body.clone(),
                        edited_at: e.edited_at.into(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// When it was deleted. A deleted message stays in its place as a
    /// tombstone: empty body, no metadata, edits or reactions.
    async fn deleted_at(&self) -> Option<Timestamp> {
        self.0.deleted_at.map(Timestamp)
    }

    /// The message this one answers (in the same conversation).
    async fn reply_to(&self, ctx: &Context<'_>) -> ApiResult<Option<Message>> {
        let Some(target) = self.0.reply_to_id else {
            return Ok(None);
        };
        let loaders = loaders(ctx)?;
        let viewer = member_view(ctx)?;
        let Some(target) = loaders
            .messages
            .load_one((viewer.map(|v| v.user_id), target))
            .await?
        else {
            return Ok(None);
        };
        // A reply after the viewer joined may answer a message from before,
        // which a since-joined group's history hides from them.
        if let Some(viewer) = viewer {
            let floor = loaders
                .history_floors
                .load_one((viewer.user_id, target.conversation_id))
                .await?
                .unwrap_or(i64::MAX);
            if target.seq < floor {
                return Ok(None);
            }
        }
        Ok(Some(Message(target, None)))
    }

    /// The first message of the thread this reply is in (a reply to a
    /// reply joins its target's thread); `null` unless it is a reply.
    async fn thread_root_id(&self) -> Option<ID> {
        self.0
            .thread_root_id
            .map(|id| ids::encode(Kind::Message, id))
    }

    /// Live replies in this message's thread; 0 unless it starts one.
    async fn reply_count(&self) -> i64 {
        self.0.reply_count
    }

    /// When the newest live reply in its thread was sent.
    async fn last_reply_at(&self) -> Option<Timestamp> {
        self.0.last_reply_at.map(Timestamp)
    }

    /// The replies in the thread this message starts, oldest first
    /// (deleted ones as tombstones, in their place).
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn replies(
        &self,
        ctx: &Context<'_>,
        first: Option<i64>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, Message>> {
        let viewer = viewer(ctx)?;
        let after = after
            .map(|c| cursor::decode(&c, "after", |s| s.strip_prefix("seq:")?.parse().ok()))
            .transpose()?;
        let page = service(ctx)?
            .replies(&viewer, &self.0, PageArgs::forward(first, after))
            .await?;
        let mut connection = Connection::new(page.has_previous_page, page.has_next_page);
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|m| Edge::new(seq_cursor(m.seq), Message(m, None))),
        );
        Ok(connection)
    }

    /// Reactions by emoji, in order of first use (of the earliest
    /// reaction with that emoji that still stands).
    /// Members of the conversation it mentions (by `@username` or by id),
    /// by user id; a tombstone mentions no one.
    async fn mentions(&self, ctx: &Context<'_>) -> ApiResult<Vec<User>> {
        let loaders = loaders(ctx)?;
        let Some(ids) = loaders.mentions.load_one(self.0.id).await? else {
            return Ok(Vec::new());
        };
        let users = loaders.users.load_many(ids.iter().copied()).await?;
        Ok(ids
            .iter()
            .filter_map(|id| users.get(id).cloned().map(User))
            .collect())
    }

    async fn reactions(&self, ctx: &Context<'_>) -> ApiResult<Vec<ReactionGroup>> {
        // The host app reacts as no one: user ids start at 1.
        let viewer = member_view(ctx)?.map_or(0, |v| v.user_id);
        let groups = loaders(ctx)?
            .reactions
            .load_one((viewer, self.0.id))
            .await?;
        Ok(groups
            .map(|groups| {
                groups
                    .iter()
                    .map(|g| ReactionGroup {
                        emoji: g.emoji.clone(),
                        count: g.count,
                        reacted_by_me: g.reacted_by_me,
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// A version of a message's body that an edit replaced.
#[derive(SimpleObject)]
pub struct MessageEdit {
    /// The body before the edit.
    pub body: String,
    /// When the edit replaced it.
    pub edited_at: Timestamp,
}

/// One emoji's reactions to a message.
#[derive(SimpleObject)]
pub struct ReactionGroup {
    pub emoji: String,
    /// How many people reacted with it.
    pub count: i64,
    /// Whether the viewer is one of them.
    pub reacted_by_me: bool,
}

/// What a message is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "service::entity::message::Kind")]
pub enum MessageKind {
    /// Written by a person or a bot.
    Text,
    /// A picture: at least one attachment; the body is an optional caption.
    Image,
    /// A document: at least one attachment; the body is optional.
    File,
    /// A proposal, its terms in `metadata` (amount, currency, ...).
    Offer,
    /// A change to the conversation, recorded by Parley; no sender, never
    /// unread.
    System,
}

/// A file a message points at. Parley stores the reference, not the file.
#[derive(SimpleObject)]
pub struct Attachment {
    /// An `http` or `https` URL.
    pub url: String,
    pub name: Option<String>,
    /// `type/subtype`, lower-cased.
    pub mime_type: Option<String>,
    /// In bytes.
    pub size: Option<i64>,
    /// In pixels.
    pub width: Option<i64>,
    pub height: Option<i64>,
}

/// How far a message has got, for its author in a direct conversation.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "service::live::Status")]
pub enum MessageStatus {
    /// Stored; not yet received by the other person's clients.
    Sent,
    /// Received by one of the other person's clients.
    Delivered,
    /// Read by the other person.
    Read,
}

/// System notices store the service's user ids under keys ending in `Id`
/// or `Ids`; clients know users by global ids.
fn globalize_user_ids(value: &mut serde_json::Value) {
    let Some(object) = value.as_object_mut() else {
        return;
    };
    for (key, v) in object.iter_mut() {
        if key.ends_with("Id") {
            if let Some(id) = v.as_i64() {
                *v = serde_json::Value::String(ids::encode(Kind::User, id).to_string());
            }
        } else if key.ends_with("Ids")
            && let Some(list) = v.as_array_mut()
        {
            for item in list {
                if let Some(id) = item.as_i64() {
                    *item = serde_json::Value::String(ids::encode(Kind::User, id).to_string());
                }
            }
        }
    }
}
