//! The JSON body of each webhook type (the README shows one of each).
//! Ids are the API's global ids; users also carry the host app's
//! `externalId`, so that a push service needs no second lookup.

use entity::{conversation, event, message, user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use super::{EventType, IdKind, WebhookSettings};
use crate::error::Result;

pub(crate) struct Payloads<'a> {
    pub db: &'a DatabaseConnection,
    pub settings: &'a WebhookSettings,
}

impl Payloads<'_> {
    fn id(&self, kind: IdKind, id: i64) -> Value {
        Value::String((self.settings.id_format)(kind, id))
    }

    fn opt_id(&self, kind: IdKind, id: Option<i64>) -> Value {
        id.map_or(Value::Null, |id| self.id(kind, id))
    }

    /// `{id, externalId, displayName, isBot}` of each user, in order;
    /// users deleted since are left out.
    async fn users(&self, ids: &[i64]) -> Result<Vec<Value>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = user::Entity::find()
            .filter(user::Column::Id.is_in(ids.to_vec()))
            .all(self.db)
            .await?;
        Ok(ids
            .iter()
            .filter_map(|id| rows.iter().find(|u| u.id == *id))
            .map(|u| {
                json!({
                    "id": self.id(IdKind::User, u.id),
                    "externalId": u.external_id,
                    "displayName": u.display_name,
                    "isBot": u.is_bot,
                })
            })
            .collect())
    }

    async fn user(&self, id: Option<i64>) -> Result<Value> {
        let Some(id) = id else {
            return Ok(Value::Null);
        };
        Ok(self.users(&[id]).await?.pop().unwrap_or(Value::Null))
    }

    /// The message as it is now (`null` once deleted for good).
    async fn message(&self, id: Option<i64>) -> Result<Value> {
        let Some(id) = id else {
            return Ok(Value::Null);
        };
        let Some(m) = message::Entity::find_by_id(id).one(self.db).await? else {
            return Ok(Value::Null);
        };
        let deleted = m.deleted_at.is_some();
        Ok(json!({
            "id": self.id(IdKind::Message, m.id),
            "seq": m.seq,
            "sender": self.user(m.sender_id).await?,
            "body": if deleted { String::new() } else { m.body },
            "kind": format!("{:?}", m.kind).to_uppercase(),
            "replyToId": self.opt_id(IdKind::Message, m.reply_to_id),
            "streaming": m.streaming,
            "createdAt": m.created_at,
            "editedAt": m.edited_at,
            "deletedAt": m.deleted_at,
        }))
    }

    async fn conversation(&self, id: i64) -> Result<Value> {
        let Some(c) = conversation::Entity::find_by_id(id).one(self.db).await? else {
            return Ok(Value::Null);
        };
        Ok(json!({
            "id": self.id(IdKind::Conversation, c.id),
            "kind": format!("{:?}", c.kind).to_uppercase(),
            "title": c.title,
            "context": c.context,
            "createdAt": c.created_at,
        }))
    }

    /// The body for `event` as type `ty`. `offline`: the recipients of a
    /// new message who were offline; `members`: who a new conversation
    /// started with.
    pub async fn body(
        &self,
        event: &event::Model,
        ty: EventType,
        offline: &[i64],
        members: &[i64],
    ) -> Result<Value> {
        let data: Value = event
            .data
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default();
        let actor = |key: &str| data[key].as_i64();
        let mut body = json!({
            "id": event.id.to_string(),
            "type": ty.name(),
            "createdAt": event.created_at,
            "conversationId": self.id(IdKind::Conversation, event.conversation_id),
        });
        let extra = match ty {
            EventType::MessageAdded => json!({
                "message": self.message(event.message_id).await?,
                "offlineRecipients": self.users(offline).await?,
            }),
            EventType::MessageEdited | EventType::MessageFinished => json!({
                "message": self.message(event.message_id).await?,
            }),
            EventType::MessageDeleted => json!({
                "messageId": self.opt_id(IdKind::Message, event.message_id),
                "actor": self.user(event.user_id).await?,
            }),
            EventType::MemberAdded => json!({
                "user": self.user(event.user_id).await?,
                "actor": self.user(actor("actorId")).await?,
            }),
            EventType::MemberRemoved => json!({
                "user": self.user(event.user_id).await?,
                "reason": if event.kind == event::Kind::MemberLeft { "left" } else { "removed" },
                "actor": self.user(actor("actorId")).await?,
            }),
            EventType::ConversationCreated => json!({
                "conversation": self.conversation(event.conversation_id).await?,
                "members": self.users(members).await?,
                "actor": self.user(actor("actorId")).await?,
            }),
            EventType::ConversationDeleted => json!({
                "actor": self.user(actor("actorId")).await?,
            }),
            EventType::Mention => json!({
                "messageId": self.opt_id(IdKind::Message, event.message_id),
                "user": self.user(event.user_id).await?,
            }),
            EventType::Reaction => json!({
                "messageId": self.opt_id(IdKind::Message, event.message_id),
                "user": self.user(event.user_id).await?,
                "emoji": data["emoji"],
                "added": data["added"],
            }),
        };
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        Ok(body)
    }
}
