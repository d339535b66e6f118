//! Editing and deleting messages, and reading the edit history.
//!
//! Both run under the conversation's lock (as sends, member changes and
//! reads do), so the membership and role they check hold until commit, and
//! an edit cannot interleave with a delete of the same message. Each logs
//! its event in the same transaction.
//!
//! Rules shared with reactions and replies: `SYSTEM` messages and
//! tombstones cannot be edited or reacted to (`Invalid` on the message id:
//! the caller can see why), and to someone who is not a member a message
//! does not exist (`NotFound`, as for a missing id).

use std::collections::HashMap;

use entity::{
    conversation, conversation_member,
    event::Kind as EventKind,
    message::{self, Kind},
    message_edit, reaction,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::{
    Actor, Service, Viewer,
    conversations::{lock_conversation, may_delete_message, may_edit_message, uncount_deleted},
    error::{Error, Result},
    events::NewEvent,
    messages::{leave_thread, mentions},
    time::now,
    validate,
};

/// A message read under its conversation's lock, with who acts on it.
pub(crate) struct Locked {
    pub message: message::Model,
    pub conversation: conversation::Model,
    /// The acting user's membership; `None` for the host app.
    pub member: Option<conversation_member::Model>,
}

/// Locks the conversation of message `id` and reads the message again under
/// the lock (an edit or delete may have committed since the first read).
/// `NotFound("message")` when it is missing, its conversation is deleted,
/// or the acting user is not a member.
pub(crate) async fn lock_message<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    id: i64,
) -> Result<Locked> {
    let not_found = || Error::NotFound("message");
    let first = message::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let conversation =
        lock_conversation(db, first.conversation_id)
            .await
            .map_err(|err| match err {
                Error::NotFound(_) => not_found(),
                err => err,
            })?;
    let member = match actor {
        Actor::User(viewer) => Some(
            conversation_member::Entity::find_by_id((conversation.id, viewer.user_id))
                .one(db)
                .await?
                .ok_or_else(not_found)?,
        ),
        Actor::HostApp => None,
    };
    let message = message::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    Ok(Locked {
        message,
        conversation,
        member,
    })
}

/// Refuses `SYSTEM` messages and tombstones for edits and reactions;
/// `field` is the argument that named the message.
pub(crate) fn require_live_text(message: &message::Model, field: &'static str) -> Result<()> {
    if message.kind == Kind::System {
        return Err(Error::invalid(field, "system messages cannot be changed"));
    }
    if message.deleted_at.is_some() {
        return Err(Error::invalid(field, "the message was deleted"));
    }
    Ok(())
}

impl Service {
    /// Replaces the body of the viewer's own message, keeping the previous
    /// version in its history. The same body again changes nothing and
    /// logs nothing.
    #[tracing::instrument(skip(self, body), fields(user_id = viewer.user_id))]
    pub async fn edit_message(
        &self,
        viewer: &Viewer,
        id: i64,
        body: &str,
    ) -> Result<message::Model> {
        let body = validate::body(body)?;
        let txn = self.write().await?;
        let Locked { message, .. } = lock_message(&*txn, &Actor::User(*viewer), id).await?;
        require_live_text(&message, "id")?;
        may_edit_message(viewer, &message)?;
        // The stream's buffer would write over the edit at its next flush.
        if message.streaming {
            return Err(Error::conflict(
                "id",
                "the message is still streaming: finish it first",
            ));
        }
        if message.body == body {
            return Ok(message);
        }
        let at = now();
        message_edit::ActiveModel {
            message_id: Set(message.id),
            body: Set(message.body.clone()),
            edited_at: Set(at),
            ..Default::default()
        }
        .insert(&*txn)
        .await?;
        let edited = message::ActiveModel {
            id: Set(message.id),
            body: Set(body.to_owned()),
            edited_at: Set(Some(at)),
            ..Default::default()
        }
        .update(&*txn)
        .await?;
        let event = NewEvent::new(edited.conversation_id, EventKind::MessageEdited)
            .message(edited.id)
            .user(viewer.user_id);
        // The new body's `@username`s are the mentions now.
        let mut events = vec![event];
        events.extend(mentions::reparse(&*txn, &edited).await?);
        self.commit_logged(txn, events).await?;
        Ok(edited)
    }

    /// Turns a message into a tombstone: it keeps its seq, and loses its
    /// body, metadata, edit history and reactions. Its author, a group's
    /// owner or admin, and the host app may delete it. Members who had not
    /// read it have one unread fewer; a reply leaves its thread's count.
    /// Deleting a tombstone again changes nothing.
    #[tracing::instrument(skip(self), fields(actor = ?actor))]
    pub async fn delete_message(&self, actor: &Actor, id: i64) -> Result<message::Model> {
        let txn = self.write().await?;
        let Locked {
            message,
            conversation,
            member,
        } = lock_message(&*txn, actor, id).await?;
        if message.kind == Kind::System {
            return Err(Error::invalid("id", "system messages cannot be deleted"));
        }
        may_delete_message(member.as_ref(), &conversation, &message)?;
        if message.deleted_at.is_some() {
            return Ok(message);
        }
        let tombstone = tombstone(&*txn, &message).await?;
        let mut event =
            NewEvent::new(conversation.id, EventKind::MessageDeleted).message(message.id);
        if let Some(user) = actor.user_id() {
            event = event.user(user);
        }
        self.commit_logged(txn, vec![event]).await?;
        Ok(tombstone)
    }

    /// The versions an edit replaced, oldest first, for each of
    /// `message_ids`. The caller must already have checked that the viewer
    /// may see the messages.
    pub async fn edits_of(
        &self,
        message_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<message_edit::Model>>> {
        let rows = message_edit::Entity::find()
            .filter(message_edit::Column::MessageId.is_in(message_ids.iter().copied()))
            .order_by_asc(message_edit::Column::Id)
            .all(self.db())
            .await?;
        let mut out: HashMap<i64, Vec<message_edit::Model>> = HashMap::new();
        for row in rows {
            out.entry(row.message_id).or_default().push(row);
        }
        Ok(out)
    }
}

/// Makes `message` a tombstone in the caller's transaction: its body,
/// metadata, attachments, edits and reactions go, unread counts and its
/// thread forget it. The caller logs `MessageDeleted`.
pub(crate) async fn tombstone<C: ConnectionTrait>(
    db: &C,
    message: &message::Model,
) -> Result<message::Model> {
    let tombstone = message::ActiveModel {
        id: Set(message.id),
        body: Set(String::new()),
        metadata: Set(None),
        attachments: Set(None),
        // A streaming message ends here: later appends are refused and
        // a pending flush (which only writes streaming rows) cannot
        // bring the text back.
        streaming: Set(false),
        edited_at: Set(None),
        deleted_at: Set(Some(now())),
        ..Default::default()
    }
    .update(db)
    .await?;
    message_edit::Entity::delete_many()
        .filter(message_edit::Column::MessageId.eq(message.id))
        .exec(db)
        .await?;
    reaction::Entity::delete_many()
        .filter(reaction::Column::MessageId.eq(message.id))
        .exec(db)
        .await?;
    uncount_deleted(db, message).await?;
    mentions::forget(db, message).await?;
    if let Some(root) = message.thread_root_id {
        leave_thread(db, root).await?;
    }
    Ok(tombstone)
}
