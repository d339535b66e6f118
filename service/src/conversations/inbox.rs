//! Conversations, their members and each member's read state.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{
    conversation::{self, Kind},
    conversation_member::{self, Role},
    event::Kind as EventKind,
    message, user,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Set,
    sea_query::{Expr, ExprTrait, Func, LikeExpr, Query},
};
use serde_json::json;

use crate::{
    Actor, Service, Viewer, db,
    error::{Error, Result, is_unique_violation},
    events::NewEvent,
    page::{Page, PageArgs, Window},
    time::now,
    validate,
};

/// Where the inbox is read from: the conversations after this one in
/// most-recent-activity-first order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxCursor {
    pub last_activity_at: DateTime<Utc>,
    pub id: i64,
}

impl From<&conversation::Model> for InboxCursor {
    fn from(c: &conversation::Model) -> Self {
        Self {
            last_activity_at: c.last_activity_at,
            id: c.id,
        }
    }
}

pub struct CreateGroup {
    /// `None` (or blank): the group takes a title from its first message.
    pub title: Option<String>,
    pub member_ids: Vec<i64>,
    pub context: Option<String>,
}

/// Narrows the viewer's conversation list.
#[derive(Clone, Debug, Default)]
pub struct ConversationFilter {
    pub context: Option<String>,
    pub kind: Option<Kind>,
    /// `false` (the default): the inbox; `true`: the viewer's archive.
    pub archived: bool,
    /// Matches titles and the other members' names, ignoring case.
    pub search: Option<String>,
}

impl Service {
    /// Gets or creates the one direct conversation between the viewer and
    /// `other` about `context` (or about nothing); from either side, and
    /// under concurrent calls, it is the same.
    #[tracing::instrument(skip(self), fields(user_id = viewer.user_id))]
    pub async fn open_direct(
        &self,
        viewer: &Viewer,
        other: i64,
        context: Option<String>,
    ) -> Result<conversation::Model> {
        let context = validate::context(context)?;
        if other == viewer.user_id {
            return Err(Error::invalid(
                "userId",
                "cannot open a direct conversation with yourself",
            ));
        }
        if user::Entity::find_by_id(other)
            .one(self.db())
            .await?
            .is_none()
        {
            return Err(Error::NotFound("user"));
        }
        let key = direct_key(viewer.user_id, other, context.as_deref());
        if let Some(existing) = self.direct_by_key(&key).await? {
            return Ok(existing);
        }

        let txn = self.write().await?;
        let at = now();
        let inserted = conversation::ActiveModel {
            kind: Set(Kind::Direct),
            title: Set(None),
            direct_key: Set(Some(key.clone())),
            context: Set(context),
            created_by: Set(Some(viewer.user_id)),
            last_seq: Set(0),
            last_activity_at: Set(at),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        };
        let created = match conversation::Entity::insert(inserted)
            .exec_with_returning(&*txn)
            .await
        {
            Ok(created) => created,
            Err(err) if is_unique_violation(&err) => {
                // A concurrent call created it first.
                txn.rollback().await?;
                return self
                    .direct_by_key(&key)
                    .await?
                    .ok_or(Error::NotFound("conversation"));
            }
            Err(err) => return Err(err.into()),
        };
        insert_members(
            &txn,
            created.id,
            at,
            0,
            [(viewer.user_id, Role::Member), (other, Role::Member)],
        )
        .await?;
        let joined = joined_events(created.id, None, [viewer.user_id, other]);
        self.commit_logged(txn, joined).await?;
        Ok(created)
    }

    async fn direct_by_key(&self, key: &str) -> Result<Option<conversation::Model>> {
        // A deleted direct conversation gives up its key (see
        // `delete_conversation`), so this finds live ones only.
        Ok(conversation::Entity::find()
            .filter(conversation::Column::DirectKey.eq(key))
            .one(self.db())
            .await?)
    }

    /// A group with the acting user as its owner and `member_ids` as
    /// members. The host app creates groups with an owner among
    /// `member_ids` (the first one).
    #[tracing::instrument(skip_all, fields(actor = ?actor))]
    pub async fn create_group(
        &self,
        actor: &Actor,
        input: CreateGroup,
    ) -> Result<conversation::Model> {
        let title = validate::title(input.title)?;
        let context = validate::context(input.context)?;
        let mut ids = input.member_ids.into_iter();
        let owner = match actor {
            Actor::User(viewer) => viewer.user_id,
            Actor::HostApp => ids
                .next()
                .ok_or_else(|| Error::invalid("memberIds", "must name the owner first"))?,
        };
        let mut seen = HashSet::from([owner]);
        let members: Vec<i64> = ids.filter(|id| seen.insert(*id)).collect();
        let max = self.settings().max_group_members;
        if members.len() + 1 > max {
            return Err(Error::invalid(
                "memberIds",
                format!("a group has at most {max} members"),
            ));
        }
        let found = user::Entity::find()
            .filter(user::Column::Id.is_in(members.iter().copied().chain([owner])))
            .count(self.db())
            .await?;
        if found != members.len() as u64 + 1 {
            return Err(Error::invalid(
                "memberIds",
                "names a user who does not exist",
            ));
        }

        let txn = self.write().await?;
        let at = now();
        let created = conversation::Entity::insert(conversation::ActiveModel {
            kind: Set(Kind::Group),
            title: Set(title),
            direct_key: Set(None),
            context: Set(context),
            created_by: Set(Some(owner)),
            last_seq: Set(0),
            last_activity_at: Set(at),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        })
        .exec_with_returning(&*txn)
        .await?;
        let joined = joined_events(
            created.id,
            actor.user_id(),
            std::iter::once(owner).chain(members.iter().copied()),
        );
        let roles = std::iter::once((owner, Role::Owner))
            .chain(members.into_iter().map(|id| (id, Role::Member)));
        insert_members(&txn, created.id, at, 0, roles).await?;
        self.commit_logged(txn, joined).await?;
        Ok(created)
    }

    /// The viewer's conversations, most recent activity first.
    pub async fn conversations(
        &self,
        viewer: &Viewer,
        filter: ConversationFilter,
        args: PageArgs<InboxCursor>,
    ) -> Result<Page<conversation::Model>> {
        let Window::Forward { after, limit } = args.window(false)? else {
            return Err(Error::invalid(
                "last",
                "conversations are paged forward only",
            ));
        };
        // Served by the index on memberships (user, activity, conversation):
        // a page reads its own rows and no others.
        let mut query = conversation::Entity::find()
            .join(
                JoinType::InnerJoin,
                conversation::Relation::ConversationMember.def(),
            )
            .filter(conversation_member::Column::UserId.eq(viewer.user_id))
            .filter(conversation_member::Column::Archived.eq(filter.archived))
            .filter(conversation::Column::DeletedAt.is_null())
            .order_by_desc(conversation_member::Column::LastActivityAt)
            .order_by_desc(conversation_member::Column::ConversationId)
            .limit(limit + 1);
        if let Some(cursor) = &after {
            query = query.filter(
                Condition::any()
                    .add(conversation_member::Column::LastActivityAt.lt(cursor.last_activity_at))
                    .add(
                        Condition::all()
                            .add(
                                conversation_member::Column::LastActivityAt
                                    .eq(cursor.last_activity_at),
                            )
                            .add(conversation_member::Column::ConversationId.lt(cursor.id)),
                    ),
            );
        }
        if let Some(context) = validate::context(filter.context)? {
            query = query.filter(conversation::Column::Context.eq(context));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(conversation::Column::Kind.eq(kind));
        }
        if let Some(term) = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            query = query.filter(search_condition(viewer.user_id, term)?);
        }
        let rows = query.all(self.db()).await?;
        Ok(Page::forward(rows, limit, after.is_some()))
    }

    /// Members of each conversation with their users, oldest first, for
    /// batch loading (one query however many conversations). The caller
    /// must already have checked that the viewer may see them.
    pub async fn members_of(
        &self,
        conversation_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<(conversation_member::Model, user::Model)>>> {
        let rows = conversation_member::Entity::find()
            .find_also_related(user::Entity)
            .filter(
                conversation_member::Column::ConversationId.is_in(conversation_ids.iter().copied()),
            )
            .order_by_asc(conversation_member::Column::JoinedAt)
            .order_by_asc(conversation_member::Column::UserId)
            .all(self.db())
            .await?;
        let mut by_conversation: HashMap<i64, Vec<_>> = HashMap::new();
        for (member, user) in rows {
            // Members cascade with their user, so there always is one.
            if let Some(user) = user {
                by_conversation
                    .entry(member.conversation_id)
                    .or_default()
                    .push((member, user));
            }
        }
        Ok(by_conversation)
    }

    /// A user's unread count in each of `conversation_ids`: other people's
    /// messages after the user's read pointer. Conversations the user is not
    /// in are missing.
    pub async fn unread_counts(
        &self,
        user_id: i64,
        conversation_ids: &[i64],
    ) -> Result<HashMap<i64, i64>> {
        let rows: Vec<(i64, i64)> = conversation_member::Entity::find()
            .select_only()
            .column(conversation_member::Column::ConversationId)
            .column(conversation_member::Column::UnreadCount)
            .filter(conversation_member::Column::UserId.eq(user_id))
            .filter(
                conversation_member::Column::ConversationId.is_in(conversation_ids.iter().copied()),
            )
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// The viewer's unread count across all their conversations but the
    /// muted ones. (A deleted conversation's counts are zeroed when it is
    /// deleted, so it needs no join here.)
    pub async fn total_unread(&self, viewer: &Viewer) -> Result<i64> {
        // PostgreSQL sums BIGINTs into NUMERIC; the cast brings it back.
        let sum = Expr::col(conversation_member::Column::UnreadCount)
            .sum()
            .cast_as("BIGINT");
        let total: Option<Option<i64>> = conversation_member::Entity::find()
            .select_only()
            .column_as(sum, "total")
            .filter(conversation_member::Column::UserId.eq(viewer.user_id))
            .filter(crate::conversations::not_muted(now()))
            .into_tuple()
            .one(self.db())
            .await?;
        Ok(total.flatten().unwrap_or(0))
    }

    /// The viewer's unread count in one conversation and their total (as
    /// [`Self::total_unread`]), in one statement.
    pub async fn unread_now(&self, user_id: i64, conversation_id: i64) -> Result<(i64, i64)> {
        let count = Expr::col(conversation_member::Column::UnreadCount);
        let this = Expr::case(
            conversation_member::Column::ConversationId.eq(conversation_id),
            count.clone(),
        )
        .finally(0)
        .sum()
        .cast_as("BIGINT");
        let total = Expr::case(crate::conversations::not_muted(now()), count)
            .finally(0)
            .sum()
            .cast_as("BIGINT");
        let row: Option<(Option<i64>, Option<i64>)> = conversation_member::Entity::find()
            .select_only()
            .column_as(this, "this")
            .column_as(total, "total")
            .filter(conversation_member::Column::UserId.eq(user_id))
            .into_tuple()
            .one(self.db())
            .await?;
        let (this, total) = row.unwrap_or_default();
        Ok((this.unwrap_or(0), total.unwrap_or(0)))
    }

    /// Moves the viewer's read pointer forward to `up_to_seq` (the newest
    /// message when `None`); never back.
    #[tracing::instrument(skip(self), fields(user_id = viewer.user_id))]
    pub async fn mark_read(
        &self,
        viewer: &Viewer,
        conversation_id: i64,
        up_to_seq: Option<i64>,
    ) -> Result<conversation::Model> {
        if up_to_seq.is_some_and(|seq| seq < 0) {
            return Err(Error::invalid("upToSeq", "must not be negative"));
        }
        let txn = self.write().await?;
        // Locks the conversation's row on PostgreSQL (SQLite's write lock
        // is already held), so no send slips in between the count below and
        // the update: the unread count stays exact.
        // A deleted conversation is not read into anyone's counts.
        let conversation = crate::conversations::lock_conversation(&*txn, conversation_id).await?;
        let target = up_to_seq.map_or(conversation.last_seq, |seq| {
            Ord::min(seq, conversation.last_seq)
        });
        let remaining = unread_after(&*txn, viewer.user_id, conversation_id, target).await?;
        let updated = conversation_member::Entity::update_many()
            .col_expr(
                conversation_member::Column::LastReadSeq,
                Expr::value(target),
            )
            .col_expr(
                conversation_member::Column::UnreadCount,
                Expr::value(remaining),
            )
            // Reading implies receiving: the delivered pointer follows.
            .col_expr(
                conversation_member::Column::LastDeliveredSeq,
                Expr::case(
                    Expr::col(conversation_member::Column::LastDeliveredSeq).lt(target),
                    Expr::value(target),
                )
                .finally(Expr::col(conversation_member::Column::LastDeliveredSeq))
                .into(),
            )
            .filter(conversation_member::Column::ConversationId.eq(conversation_id))
            .filter(conversation_member::Column::UserId.eq(viewer.user_id))
            .filter(conversation_member::Column::LastReadSeq.lt(target))
            .exec(&*txn)
            .await?;
        if updated.rows_affected == 0 {
            // Either already read that far, or not a member at all.
            drop(txn);
            return self.conversation(viewer, conversation_id).await;
        }
        let receipt = NewEvent::new(conversation_id, EventKind::ReadReceipt)
            .user(viewer.user_id)
            .data(json!({ "seq": target, "unreadCount": remaining }));
        self.commit_logged(txn, vec![receipt]).await?;
        Ok(conversation)
    }
}

/// Other people's messages in a conversation after `seq`: what a member
/// whose read pointer is at `seq` has not read. `<>` is never true for
/// NULL, so messages without a sender (system notices) never count;
/// imported history (with an external id) and deleted messages
/// (tombstones) never count either.
pub(crate) async fn unread_after<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    conversation_id: i64,
    seq: i64,
) -> Result<i64> {
    let count = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::Seq.gt(seq))
        .filter(message::Column::SenderId.ne(user_id))
        .filter(message::Column::ExternalId.is_null())
        .filter(message::Column::DeletedAt.is_null())
        .count(db)
        .await?;
    Ok(count as i64)
}

/// New memberships, all with the conversation's activity time and read up
/// to `read_seq`.
pub(crate) async fn insert_members(
    txn: &db::Tx,
    conversation_id: i64,
    activity_at: DateTime<Utc>,
    read_seq: i64,
    members: impl IntoIterator<Item = (i64, Role)>,
) -> Result<()> {
    let at = now();
    let rows: Vec<_> = members
        .into_iter()
        .map(|(user_id, role)| conversation_member::ActiveModel {
            conversation_id: Set(conversation_id),
            user_id: Set(user_id),
            role: Set(role),
            last_read_seq: Set(read_seq),
            last_delivered_seq: Set(read_seq),
            joined_at: Set(at),
            last_activity_at: Set(activity_at),
            unread_count: Set(0),
            ..Default::default()
        })
        .collect();
    // Stay under SQLite's limit on bound parameters per statement.
    for chunk in rows.chunks(500) {
        conversation_member::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// The unique key of a direct conversation: the pair, lower id first, and
/// the context when there is one.
pub(crate) fn direct_key(a: i64, b: i64, context: Option<&str>) -> String {
    let (low, high) = (Ord::min(a, b), Ord::max(a, b));
    match context {
        Some(context) => format!("{low}:{high}:{context}"),
        None => format!("{low}:{high}"),
    }
}

/// Conversations whose title, or another member's name, contains `term`.
fn search_condition(viewer_id: i64, term: &str) -> Result<Condition> {
    validate::name_search(term)?;
    let pattern =
        LikeExpr::new(format!("%{}%", db::escape_like(&term.to_lowercase()))).escape('\\');
    let lower = |col: Expr| Expr::expr(Func::lower(col));
    let other_names = Query::select()
        .expr(Expr::value(1))
        .from(conversation_member::Entity)
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id)).equals((
                conversation_member::Entity,
                conversation_member::Column::UserId,
            )),
        )
        .and_where(
            Expr::col((
                conversation_member::Entity,
                conversation_member::Column::ConversationId,
            ))
            .equals((conversation::Entity, conversation::Column::Id)),
        )
        .and_where(
            Expr::col((
                conversation_member::Entity,
                conversation_member::Column::UserId,
            ))
            .ne(viewer_id),
        )
        .cond_where(
            Condition::any()
                .add(
                    lower(Expr::col((user::Entity, user::Column::DisplayName)))
                        .like(pattern.clone()),
                )
                .add(Expr::col((user::Entity, user::Column::UsernameKey)).like(pattern.clone())),
        )
        .to_owned();
    Ok(Condition::any()
        .add(
            lower(Expr::col((
                conversation::Entity,
                conversation::Column::Title,
            )))
            .like(pattern),
        )
        .add(Expr::exists(other_names)))
}

/// The events of people joining a new conversation, so that their `events`
/// streams start following it.
fn joined_events(
    conversation_id: i64,
    actor: Option<i64>,
    user_ids: impl IntoIterator<Item = i64>,
) -> Vec<NewEvent> {
    user_ids
        .into_iter()
        .map(|id| {
            NewEvent::new(conversation_id, EventKind::MemberJoined)
                .user(id)
                .data(json!({ "actorId": actor }))
        })
        .collect()
}
