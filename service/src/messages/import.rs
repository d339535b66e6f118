//! Importing history from another network (XMTP, an earlier Stream Chat
//! or Supabase install) with the admin key.
//!
//! Each imported message keeps the id it had there (`external_id`, unique
//! per conversation) and its original time. A batch is one transaction
//! under the conversation's lock: messages already present (by external
//! id), and repeats inside the batch, are skipped; the rest take the next
//! seqs in the order given. Running the same batch twice changes nothing.
//!
//! Imported history is not news: it never counts as unread (see
//! `conversations::unread_after`), does not bring the conversation back
//! from anyone's archive, and moves the conversation's activity time only
//! when its newest message is later than the last activity.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{conversation, conversation_member, event::Kind as EventKind, message};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, sea_query::Expr,
};

use super::content::{self, RichContent};
use crate::{
    Actor, Service,
    accounts::host_app_only,
    conversations::lock_conversation,
    error::{Error, Result},
    events::NewEvent,
    time::now,
    validate,
};

/// Rows per INSERT statement: well inside SQLite's and PostgreSQL's limits
/// on bound values.
const INSERT_CHUNK: usize = 250;

/// One message of another network's history.
pub struct ImportMessage {
    /// Its id there: 1 to 256 characters, unique within the conversation.
    pub external_id: String,
    /// Who sent it: a member of the conversation.
    pub sender_id: i64,
    pub body: String,
    /// Kind, attachments and metadata, under the same rules as a send;
    /// `streaming` is ignored (imported messages are finished).
    pub rich: RichContent,
    /// When it was sent there; not in the future.
    pub created_at: DateTime<Utc>,
}

/// What an import did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportOutcome {
    pub imported: usize,
    /// Already present, or repeated in the batch.
    pub skipped: usize,
}

/// A message that passed validation, with its place in the batch.
struct Checked {
    index: usize,
    external_id: String,
    sender_id: i64,
    content: content::Content,
    created_at: DateTime<Utc>,
}

impl Service {
    /// Appends another network's history to a conversation (see the module
    /// documentation). Admin key only; bad input writes nothing and is
    /// `BAD_USER_INPUT` on `messages`, naming the item.
    #[tracing::instrument(skip(self, messages), fields(count = messages.len()))]
    pub async fn import_messages(
        &self,
        actor: &Actor,
        conversation_id: i64,
        messages: Vec<ImportMessage>,
    ) -> Result<ImportOutcome> {
        host_app_only(actor)?;
        validate::import_count(messages.len())?;
        let at = now();
        let mut seen = HashSet::new();
        let mut batch = Vec::with_capacity(messages.len());
        let mut skipped = 0;
        for (index, m) in messages.into_iter().enumerate() {
            let item = |err| in_message(index, err);
            let external_id = validate::external_id(&m.external_id, "externalId").map_err(item)?;
            let rich = RichContent {
                streaming: false,
                ..m.rich
            };
            let content = content::validate(&m.body, rich).map_err(item)?;
            if m.created_at > at {
                return Err(item(Error::invalid(
                    "createdAt",
                    "must not be in the future",
                )));
            }
            if !seen.insert(external_id.clone()) {
                skipped += 1;
                continue;
            }
            batch.push(Checked {
                index,
                external_id,
                sender_id: m.sender_id,
                content,
                created_at: m.created_at,
            });
        }

        let txn = self.write().await?;
        let conversation = lock_conversation(&*txn, conversation_id).await?;
        let senders: HashSet<i64> = batch.iter().map(|m| m.sender_id).collect();
        let members: HashSet<i64> = conversation_member::Entity::find()
            .select_only()
            .column(conversation_member::Column::UserId)
            .filter(conversation_member::Column::ConversationId.eq(conversation_id))
            .filter(conversation_member::Column::UserId.is_in(senders))
            .into_tuple::<i64>()
            .all(&*txn)
            .await?
            .into_iter()
            .collect();
        if let Some(m) = batch.iter().find(|m| !members.contains(&m.sender_id)) {
            return Err(in_message(
                m.index,
                Error::invalid("senderId", "must be a member of the conversation"),
            ));
        }
        let present: HashSet<String> = message::Entity::find()
            .select_only()
            .column(message::Column::ExternalId)
            .filter(message::Column::ConversationId.eq(conversation_id))
            .filter(message::Column::ExternalId.is_in(batch.iter().map(|m| m.external_id.clone())))
            .into_tuple::<Option<String>>()
            .all(&*txn)
            .await?
            .into_iter()
            .flatten()
            .collect();
        let before = batch.len();
        batch.retain(|m| !present.contains(&m.external_id));
        skipped += before - batch.len();
        let Some(newest) = batch.iter().map(|m| m.created_at).max() else {
            // Nothing new: the transaction only read.
            txn.rollback().await?;
            return Ok(ImportOutcome {
                imported: 0,
                skipped,
            });
        };

        let first_seq = conversation.last_seq + 1;
        let rows: Vec<message::ActiveModel> = batch
            .iter()
            .zip(first_seq..)
            .map(|(m, seq)| message::ActiveModel {
                conversation_id: Set(conversation_id),
                seq: Set(seq),
                sender_id: Set(Some(m.sender_id)),
                body: Set(m.content.body.clone()),
                client_message_id: Set(None),
                created_at: Set(m.created_at),
                kind: Set(m.content.kind),
                metadata: Set(m.content.metadata.clone()),
                attachments: Set(m.content.attachments.clone()),
                streaming: Set(false),
                external_id: Set(Some(m.external_id.clone())),
                ..Default::default()
            })
            .collect();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(INSERT_CHUNK).collect();
            message::Entity::insert_many(chunk)
                .exec_without_returning(&*txn)
                .await?;
        }
        let last_seq = conversation.last_seq + batch.len() as i64;
        let activity = Ord::max(conversation.last_activity_at, newest);
        conversation::Entity::update_many()
            .col_expr(conversation::Column::LastSeq, Expr::value(last_seq))
            .col_expr(conversation::Column::LastActivityAt, Expr::value(activity))
            .filter(conversation::Column::Id.eq(conversation_id))
            .exec(&*txn)
            .await?;
        if activity != conversation.last_activity_at {
            // Every member's copy of the inbox key; unread counts and
            // archives stay as they are.
            conversation_member::Entity::update_many()
                .col_expr(
                    conversation_member::Column::LastActivityAt,
                    Expr::value(activity),
                )
                .filter(conversation_member::Column::ConversationId.eq(conversation_id))
                .exec(&*txn)
                .await?;
        }
        let stored = message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id))
            .filter(message::Column::Seq.gte(first_seq))
            .order_by_asc(message::Column::Seq)
            .all(&*txn)
            .await?;
        let events = stored
            .iter()
            .map(|m| {
                let event = NewEvent::new(conversation_id, EventKind::MessageAdded).message(m.id);
                match m.sender_id {
                    Some(sender) => event.user(sender),
                    None => event,
                }
            })
            .collect();
        let refs: Vec<&message::Model> = stored.iter().collect();
        self.commit_logged_with(txn, events, &refs).await?;
        let imported = stored.len();
        tracing::info!(conversation_id, imported, skipped, "imported history");
        Ok(ImportOutcome { imported, skipped })
    }
}

/// An error about one imported message's field, said as
/// `[index].field: reason` under `messages`.
fn in_message(index: usize, err: Error) -> Error {
    match err {
        Error::Invalid { field, reason } => {
            Error::invalid("messages", format!("[{index}].{field}: {reason}"))
        }
        other => other,
    }
}
