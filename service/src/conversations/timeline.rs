//! A conversation's timeline: handing out seqs, and the `system` messages
//! that record changes to the conversation in it.
//!
//! Everything that appends to a timeline starts by bumping the
//! conversation's `last_seq`, which takes its row lock on PostgreSQL (and
//! runs under the write lock on SQLite). That one lock orders messages,
//! membership changes and deletion, so a check made after taking it (is
//! the sender still a member?) cannot be overtaken by a change.

use entity::{
    conversation, conversation_member,
    event::Kind as EventKind,
    message::{self, Kind},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, LockType},
};
use serde_json::json;

use crate::{
    error::{Error, Result},
    events::NewEvent,
    time::now,
};

/// Takes the next seq of a live (not deleted) conversation and moves its
/// activity time forward, never back: a writer that waited for the lock may
/// carry an earlier time than the one before it. Returns the conversation
/// as updated; `NotFound` when it does not exist or is deleted.
pub(crate) async fn next_seq<C: ConnectionTrait>(
    db: &C,
    conversation_id: i64,
) -> Result<conversation::Model> {
    let at = now();
    let activity = Expr::case(
        Expr::col(conversation::Column::LastActivityAt).lt(at),
        Expr::value(at),
    )
    .finally(Expr::col(conversation::Column::LastActivityAt));
    let bumped = conversation::Entity::update_many()
        .col_expr(
            conversation::Column::LastSeq,
            Expr::col(conversation::Column::LastSeq).add(1),
        )
        .col_expr(conversation::Column::LastActivityAt, activity.into())
        .filter(conversation::Column::Id.eq(conversation_id))
        .filter(conversation::Column::DeletedAt.is_null())
        .exec_with_returning(db)
        .await?;
    bumped
        .into_iter()
        .next()
        .ok_or(Error::NotFound("conversation"))
}

/// How writers lock a conversation's row on PostgreSQL (SQLite's write
/// lock is already held): `FOR NO KEY UPDATE` excludes other writers of
/// the conversation like `FOR UPDATE`, but not the `FOR KEY SHARE` that a
/// foreign-key check takes. With `FOR UPDATE`, a transaction that logs an
/// event about the conversation without locking it (archive, mute) could
/// hold the event counter while its `events` insert waited for the row,
/// and a writer holding the row would then wait for the counter: a
/// deadlock.
pub(crate) const CONVERSATION_LOCK: LockType = LockType::NoKeyUpdate;

/// Locks a live conversation for a change to its members or settings (a
/// row lock on PostgreSQL; SQLite's write lock is already held), so that
/// checks made after it hold until commit.
pub(crate) async fn lock_conversation<C: ConnectionTrait>(
    db: &C,
    conversation_id: i64,
) -> Result<conversation::Model> {
    conversation::Entity::find_by_id(conversation_id)
        .filter(conversation::Column::DeletedAt.is_null())
        .lock(CONVERSATION_LOCK)
        .one(db)
        .await?
        .ok_or(Error::NotFound("conversation"))
}

/// A change to a conversation, as its system message records it. User ids
/// are the service's; the API shows them as global ids.
#[derive(Clone, Debug)]
pub enum Change {
    MembersAdded {
        user_ids: Vec<i64>,
    },
    MemberRemoved {
        user_id: i64,
    },
    MemberLeft {
        user_id: i64,
        new_owner: Option<i64>,
    },
    RoleChanged {
        user_id: i64,
        role: conversation_member::Role,
    },
    Updated {
        fields: Vec<&'static str>,
        title: Option<String>,
    },
}

/// Appends a `system` message describing `change`, made by `actor` (`None`
/// for the host app), inside the caller's transaction. The members' inbox
/// key moves; unread counts do not. Returns the conversation as updated,
/// the message, and the events to log with the commit.
pub(crate) async fn append_system<C: ConnectionTrait>(
    db: &C,
    conversation_id: i64,
    actor: Option<i64>,
    change: &Change,
) -> Result<(conversation::Model, message::Model, Vec<NewEvent>)> {
    let conversation = next_seq(db, conversation_id).await?;
    let names = Names::load(db, actor, change).await?;
    let (kind, details, body) = describe(actor, change, &names);
    let mut metadata = json!({ "type": kind, "actorId": actor });
    if let (Some(target), serde_json::Value::Object(extra)) = (metadata.as_object_mut(), details) {
        target.extend(extra);
    }
    conversation_member::Entity::update_many()
        .col_expr(
            conversation_member::Column::LastActivityAt,
            Expr::value(conversation.last_activity_at),
        )
        .filter(conversation_member::Column::ConversationId.eq(conversation_id))
        .exec(db)
        .await?;
    let notice = message::ActiveModel {
        conversation_id: Set(conversation_id),
        seq: Set(conversation.last_seq),
        sender_id: Set(None),
        body: Set(body),
        client_message_id: Set(None),
        created_at: Set(Ord::max(now(), conversation.last_activity_at)),
        kind: Set(Kind::System),
        metadata: Set(Some(metadata.to_string())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let events = change_events(conversation_id, actor, &notice, change);
    Ok((conversation, notice, events))
}

/// The logged events of a change: its notice, then what it did.
fn change_events(
    conversation_id: i64,
    actor: Option<i64>,
    notice: &message::Model,
    change: &Change,
) -> Vec<NewEvent> {
    let event = |kind| NewEvent::new(conversation_id, kind);
    let by = json!({ "actorId": actor });
    let mut events = vec![event(EventKind::MessageAdded).message(notice.id)];
    match change {
        Change::MembersAdded { user_ids } => events.extend(
            user_ids
                .iter()
                .map(|id| event(EventKind::MemberJoined).user(*id).data(by.clone())),
        ),
        Change::MemberRemoved { user_id } => {
            events.push(event(EventKind::MemberRemoved).user(*user_id).data(by))
        }
        Change::MemberLeft { user_id, new_owner } => events.push(
            event(EventKind::MemberLeft)
                .user(*user_id)
                .data(json!({ "newOwnerId": new_owner })),
        ),
        Change::RoleChanged { user_id, role } => events.push(
            event(EventKind::MemberRoleChanged)
                .user(*user_id)
                .data(json!({ "actorId": actor, "role": role_key(*role) })),
        ),
        Change::Updated { fields, .. } => events.push(
            event(EventKind::ConversationUpdated)
                .data(json!({ "actorId": actor, "fields": fields })),
        ),
    }
    events
}

/// A role as the API spells it.
pub(crate) fn role_key(role: conversation_member::Role) -> &'static str {
    match role {
        conversation_member::Role::Owner => "OWNER",
        conversation_member::Role::Admin => "ADMIN",
        conversation_member::Role::Member => "MEMBER",
    }
}

/// Display names of the people a change mentions.
struct Names(std::collections::HashMap<i64, String>);

impl Names {
    async fn load<C: ConnectionTrait>(db: &C, actor: Option<i64>, change: &Change) -> Result<Self> {
        let mut ids: Vec<i64> = actor.into_iter().collect();
        match change {
            Change::MembersAdded { user_ids } => ids.extend(user_ids),
            Change::MemberRemoved { user_id } | Change::RoleChanged { user_id, .. } => {
                ids.push(*user_id)
            }
            Change::MemberLeft { user_id, new_owner } => {
                ids.push(*user_id);
                ids.extend(new_owner);
            }
            Change::Updated { .. } => {}
        }
        let users = entity::user::Entity::find()
            .filter(entity::user::Column::Id.is_in(ids))
            .all(db)
            .await?;
        Ok(Self(
            users.into_iter().map(|u| (u.id, u.display_name)).collect(),
        ))
    }

    fn of(&self, id: i64) -> &str {
        // Only a deleted account has no row.
        self.0.get(&id).map_or("a deleted user", String::as_str)
    }

    fn list(&self, ids: &[i64]) -> String {
        let names: Vec<&str> = ids.iter().map(|id| self.of(*id)).collect();
        match names.as_slice() {
            [] => String::new(),
            [one] => (*one).to_owned(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        }
    }
}

/// The change's type, its details for `metadata`, and a readable body.
fn describe(
    actor: Option<i64>,
    change: &Change,
    names: &Names,
) -> (&'static str, serde_json::Value, String) {
    let who = actor.map(|id| names.of(id).to_owned());
    match change {
        Change::MembersAdded { user_ids } => (
            "members_added",
            json!({ "userIds": user_ids }),
            match who {
                Some(who) => format!("{who} added {}", names.list(user_ids)),
                None => format!("{} joined", names.list(user_ids)),
            },
        ),
        Change::MemberRemoved { user_id } => (
            "member_removed",
            json!({ "userId": user_id }),
            match who {
                Some(who) => format!("{who} removed {}", names.of(*user_id)),
                None => format!("{} was removed", names.of(*user_id)),
            },
        ),
        Change::MemberLeft { user_id, new_owner } => (
            "member_left",
            json!({ "userId": user_id, "newOwnerId": new_owner }),
            match new_owner {
                Some(owner) => format!(
                    "{} left; {} is now the owner",
                    names.of(*user_id),
                    names.of(*owner)
                ),
                None => format!("{} left", names.of(*user_id)),
            },
        ),
        Change::RoleChanged { user_id, role } => {
            let role_name = match role {
                conversation_member::Role::Owner => "the owner",
                conversation_member::Role::Admin => "an admin",
                conversation_member::Role::Member => "a member",
            };
            (
                "role_changed",
                json!({ "userId": user_id, "role": role_key(*role) }),
                match who {
                    Some(who) => format!("{who} made {} {role_name}", names.of(*user_id)),
                    None => format!("{} is now {role_name}", names.of(*user_id)),
                },
            )
        }
        Change::Updated { fields, title } => (
            "conversation_updated",
            json!({ "fields": fields, "title": title }),
            match (who, title) {
                (Some(who), Some(title)) => format!("{who} renamed the conversation to “{title}”"),
                (None, Some(title)) => format!("The conversation was renamed to “{title}”"),
                (Some(who), None) => format!("{who} updated the conversation"),
                (None, None) => "The conversation was updated".to_owned(),
            },
        ),
    }
}

/// After `user_id`'s account was deleted: every system message that
/// mentioned them is described again (their name becomes "a deleted
/// user") and their id in its metadata becomes `null`. Metadata is text,
/// so candidates are found by the id's digits and checked parsed.
pub(crate) async fn forget_in_system_messages<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
) -> Result<()> {
    let candidates = message::Entity::find()
        .filter(message::Column::Kind.eq(Kind::System))
        .filter(message::Column::Metadata.contains(user_id.to_string()))
        .all(db)
        .await?;
    for notice in candidates {
        let Some(mut metadata) = notice
            .metadata
            .as_deref()
            .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
        else {
            continue;
        };
        if !forget_id(&mut metadata, user_id) {
            continue;
        }
        // Described from the ids as they were, with the user's row gone.
        let original: serde_json::Value = notice
            .metadata
            .as_deref()
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or_default();
        let body = match change_of(&original) {
            Some((actor, change)) => {
                let names = Names::load(db, actor, &change).await?;
                describe(actor, &change, &names).2
            }
            None => notice.body.clone(),
        };
        message::Entity::update_many()
            .col_expr(message::Column::Body, Expr::value(body))
            .col_expr(message::Column::Metadata, Expr::value(metadata.to_string()))
            .filter(message::Column::Id.eq(notice.id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Replaces `user_id` with `null` in the id fields a system message's or an
/// event's JSON carries (`actorId`, `userId`, `newOwnerId`, `userIds`);
/// true when it was there.
pub(crate) fn forget_id(value: &mut serde_json::Value, user_id: i64) -> bool {
    let Some(object) = value.as_object_mut() else {
        return false;
    };
    let mut found = false;
    for key in ["actorId", "userId", "newOwnerId"] {
        if let Some(v) = object.get_mut(key)
            && v.as_i64() == Some(user_id)
        {
            *v = serde_json::Value::Null;
            found = true;
        }
    }
    if let Some(serde_json::Value::Array(ids)) = object.get_mut("userIds") {
        for v in ids.iter_mut() {
            if v.as_i64() == Some(user_id) {
                *v = serde_json::Value::Null;
                found = true;
            }
        }
    }
    found
}

/// The actor and change a system message's metadata records.
fn change_of(metadata: &serde_json::Value) -> Option<(Option<i64>, Change)> {
    let actor = metadata.get("actorId").and_then(serde_json::Value::as_i64);
    let id = |key: &str| metadata.get(key).and_then(serde_json::Value::as_i64);
    let change = match metadata.get("type")?.as_str()? {
        "members_added" => Change::MembersAdded {
            user_ids: metadata
                .get("userIds")?
                .as_array()?
                .iter()
                .filter_map(serde_json::Value::as_i64)
                .collect(),
        },
        "member_removed" => Change::MemberRemoved {
            user_id: id("userId")?,
        },
        "member_left" => Change::MemberLeft {
            user_id: id("userId")?,
            new_owner: id("newOwnerId"),
        },
        "role_changed" => Change::RoleChanged {
            user_id: id("userId")?,
            role: match metadata.get("role")?.as_str()? {
                "OWNER" => conversation_member::Role::Owner,
                "ADMIN" => conversation_member::Role::Admin,
                _ => conversation_member::Role::Member,
            },
        },
        "conversation_updated" => Change::Updated {
            fields: Vec::new(),
            title: metadata
                .get("title")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
        },
        _ => return None,
    };
    Some((actor, change))
}
