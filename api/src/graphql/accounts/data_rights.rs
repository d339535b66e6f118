//! Data rights: `exportMyData`, `deleteMyAccount`, and the host app's
//! `deleteUser`.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use sea_orm::ActiveEnum;
use serde_json::{Value, json};
use service::accounts::{Export, ExportCursor};

use crate::graphql::{
    context::{actor, client_addr, service, viewer},
    error::ApiResult,
    ids::{self, Kind, cursor},
    scalars::JsonValue,
};

#[derive(Default)]
pub struct DataRightsQuery;

#[Object]
impl DataRightsQuery {
    /// The viewer's own data as one JSON document, in pages: the first page
    /// (without `after`) has `profile`, `sessions` and `memberships`; every
    /// page has up to `first` (default 500, at most 1000) of the messages
    /// they sent and of the reactions they made, oldest first, and `next`:
    /// the `after` of the next page, `null` on the last one. Nothing of
    /// anyone else's is in it (other people appear only as the ids of
    /// conversations and messages). See the README's Data rights.
    async fn export_my_data(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i64>,
    ) -> ApiResult<JsonValue> {
        let viewer = viewer(ctx)?;
        let after = after.map(|c| decode_cursor(&c)).transpose()?;
        let page = service(ctx)?.export_my_data(&viewer, after, first).await?;
        Ok(JsonValue(document(page)))
    }
}

#[derive(Default)]
pub struct DataRightsMutation;

#[Object]
impl DataRightsMutation {
    /// Deletes the viewer's account at once and for good: every session
    /// and socket ends, they leave every conversation, their messages
    /// become "deleted user" tombstones or are erased (as the server is
    /// set up), and nothing left names them. An account with a password
    /// must give it; one signed in by the host app must say `confirm:
    /// true`. See the README's Data rights.
    async fn delete_my_account(
        &self,
        ctx: &Context<'_>,
        password: Option<String>,
        #[graphql(default)] confirm: bool,
    ) -> ApiResult<bool> {
        let viewer = viewer(ctx)?;
        service(ctx)?
            .delete_my_account(client_addr(ctx), &viewer, password, confirm)
            .await?;
        Ok(true)
    }

    /// The host app deletes any user's account, as `deleteMyAccount` does.
    /// People get `FORBIDDEN`.
    async fn delete_user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let actor = actor(ctx)?;
        let id = ids::decode(Kind::User, &id, "id")?;
        service(ctx)?.delete_user(&actor, id).await?;
        Ok(true)
    }
}

fn time(at: DateTime<Utc>) -> Value {
    Value::String(at.to_rfc3339())
}

fn stored_json(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

fn document(page: Export) -> Value {
    let conversation = |id: i64| Value::String(ids::encode(Kind::Conversation, id).0);
    let message = |id: i64| Value::String(ids::encode(Kind::Message, id).0);
    let mut doc = json!({
        "messages": page.messages.iter().map(|m| json!({
            "id": message(m.id),
            "conversationId": conversation(m.conversation_id),
            "seq": m.seq,
            "kind": m.kind.to_value().to_uppercase(),
            "body": m.body,
            "metadata": stored_json(m.metadata.as_deref()),
            "attachments": stored_json(m.attachments.as_deref()),
            "clientMessageId": m.client_message_id,
            "externalId": m.external_id,
            "createdAt": time(m.created_at),
            "editedAt": m.edited_at.map(time),
            "deletedAt": m.deleted_at.map(time),
            "replyToId": m.reply_to_id.map(message),
            "threadRootId": m.thread_root_id.map(message),
        })).collect::<Vec<_>>(),
        "reactions": page.reactions.iter().map(|(r, conversation_id)| json!({
            "messageId": message(r.message_id),
            "conversationId": conversation(*conversation_id),
            "emoji": r.emoji,
            "createdAt": time(r.created_at),
        })).collect::<Vec<_>>(),
        "next": page.next.map(|c| encode_cursor(&c)),
    });
    if let (Some(user), Some(object)) = (page.profile, doc.as_object_mut()) {
        object.insert(
            "profile".into(),
            json!({
                "id": ids::encode(Kind::User, user.id).0,
                "username": user.username,
                "displayName": user.display_name,
                "externalId": user.external_id,
                "avatarUrl": user.avatar_url,
                "isBot": user.is_bot,
                "hasPassword": user.password_hash.is_some(),
                "createdAt": time(user.created_at),
                "updatedAt": time(user.updated_at),
                "lastSeenAt": user.last_seen_at.map(time),
            }),
        );
        object.insert(
            "sessions".into(),
            page.sessions
                .iter()
                .map(|s| {
                    json!({
                        "id": ids::encode(Kind::Session, s.id).0,
                        "createdAt": time(s.created_at),
                        "expiresAt": time(s.expires_at),
                    })
                })
                .collect(),
        );
        object.insert(
            "memberships".into(),
            page.memberships
                .iter()
                .map(|(m, c)| {
                    json!({
                        "conversationId": conversation(c.id),
                        "kind": c.kind.to_value().to_uppercase(),
                        "title": c.title,
                        "context": c.context,
                        "role": m.role.to_value().to_uppercase(),
                        "joinedAt": time(m.joined_at),
                        "lastReadSeq": m.last_read_seq,
                        "lastDeliveredSeq": m.last_delivered_seq,
                        "archived": m.archived,
                        "muted": m.muted,
                        "mutedUntil": m.muted_until.map(time),
                        "conversationDeletedAt": c.deleted_at.map(time),
                    })
                })
                .collect(),
        );
    }
    doc
}

fn encode_cursor(c: &ExportCursor) -> String {
    cursor::encode(&format!("x:{}:{}", c.message, c.reaction))
}

fn decode_cursor(c: &str) -> ApiResult<ExportCursor> {
    cursor::decode(c, "after", |s| {
        let (message, reaction) = s.strip_prefix("x:")?.split_once(':')?;
        Some(ExportCursor {
            message: message.parse().ok()?,
            reaction: reaction.parse().ok()?,
        })
    })
}
