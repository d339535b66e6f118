//! Conversations, their members and each member's read state.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{
    conversation::{self, Kind},
    conversation_member::{self, Role},
    message, user,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Set,
    sea_query::{Expr, ExprTrait, Query},
};

use crate::{
    Service, Viewer, db,
    error::{Error, Result, is_unique_violation},
    page::{Page, PageArgs, Window},
    time::now,
};

pub const TITLE_MAX: usize = 128;

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
    pub title: String,
    pub member_ids: Vec<i64>,
}

impl Service {
    /// The conversation, if the viewer is a member. To anyone else it does
    /// not exist, whether or not it does.
    pub async fn conversation(&self, viewer: &Viewer, id: i64) -> Result<conversation::Model> {
        self.member_conversation(self.db(), viewer, id).await
    }

    pub(crate) async fn member_conversation<C: ConnectionTrait>(
        &self,
        db: &C,
        viewer: &Viewer,
        id: i64,
    ) -> Result<conversation::Model> {
        conversation::Entity::find_by_id(id)
            .join(
                JoinType::InnerJoin,
                conversation::Relation::ConversationMember.def(),
            )
            .filter(conversation_member::Column::UserId.eq(viewer.user_id))
            .one(db)
            .await?
            .ok_or(Error::NotFound("conversation"))
    }

    /// Gets or creates the one direct conversation between the viewer and
    /// `other`; from either side, and under concurrent calls, it is the same.
    #[tracing::instrument(skip(self), fields(user_id = viewer.user_id))]
    pub async fn open_direct(&self, viewer: &Viewer, other: i64) -> Result<conversation::Model> {
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
        let key = format!(
            "{}:{}",
            Ord::min(viewer.user_id, other),
            Ord::max(viewer.user_id, other)
        );
        if let Some(existing) = self.direct_by_key(&key).await? {
            return Ok(existing);
        }

        let txn = self.write().await?;
        let at = now();
        let inserted = conversation::ActiveModel {
            kind: Set(Kind::Direct),
            title: Set(None),
            direct_key: Set(Some(key.clone())),
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
            [(viewer.user_id, Role::Member), (other, Role::Member)],
        )
        .await?;
        txn.commit().await?;
        Ok(created)
    }

    async fn direct_by_key(&self, key: &str) -> Result<Option<conversation::Model>> {
        Ok(conversation::Entity::find()
            .filter(conversation::Column::DirectKey.eq(key))
            .one(self.db())
            .await?)
    }

    /// A group with the viewer as its owner and `member_ids` as members.
    #[tracing::instrument(skip_all, fields(user_id = viewer.user_id))]
    pub async fn create_group(
        &self,
        viewer: &Viewer,
        input: CreateGroup,
    ) -> Result<conversation::Model> {
        let title = input.title.trim();
        let title_len = title.chars().count();
        if title_len == 0 || title_len > TITLE_MAX {
            return Err(Error::invalid(
                "title",
                format!("must be 1 to {TITLE_MAX} characters long"),
            ));
        }
        let mut seen = HashSet::from([viewer.user_id]);
        let members: Vec<i64> = input
            .member_ids
            .into_iter()
            .filter(|id| seen.insert(*id))
            .collect();
        let max = self.settings().max_group_members;
        if members.len() + 1 > max {
            return Err(Error::invalid(
                "memberIds",
                format!("a group has at most {max} members"),
            ));
        }
        let found = user::Entity::find()
            .filter(user::Column::Id.is_in(members.iter().copied()))
            .count(self.db())
            .await?;
        if found != members.len() as u64 {
            return Err(Error::invalid(
                "memberIds",
                "names a user who does not exist",
            ));
        }

        let txn = self.write().await?;
        let at = now();
        let created = conversation::Entity::insert(conversation::ActiveModel {
            kind: Set(Kind::Group),
            title: Set(Some(title.to_owned())),
            direct_key: Set(None),
            created_by: Set(Some(viewer.user_id)),
            last_seq: Set(0),
            last_activity_at: Set(at),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        })
        .exec_with_returning(&*txn)
        .await?;
        let roles = std::iter::once((viewer.user_id, Role::Owner))
            .chain(members.into_iter().map(|id| (id, Role::Member)));
        insert_members(&txn, created.id, roles).await?;
        txn.commit().await?;
        Ok(created)
    }

    /// The viewer's conversations, most recent activity first.
    pub async fn conversations(
        &self,
        viewer: &Viewer,
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

    /// The viewer's unread count across all their conversations.
    pub async fn total_unread(&self, viewer: &Viewer) -> Result<i64> {
        // PostgreSQL sums BIGINTs into NUMERIC; the cast brings it back.
        let sum = Expr::col(conversation_member::Column::UnreadCount)
            .sum()
            .cast_as("BIGINT");
        let total: Option<Option<i64>> = conversation_member::Entity::find()
            .select_only()
            .column_as(sum, "total")
            .filter(conversation_member::Column::UserId.eq(viewer.user_id))
            .into_tuple()
            .one(self.db())
            .await?;
        Ok(total.flatten().unwrap_or(0))
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
        let conversation = conversation::Entity::find_by_id(conversation_id)
            .lock_exclusive()
            .one(&*txn)
            .await?
            .ok_or(Error::NotFound("conversation"))?;
        let target = up_to_seq.map_or(conversation.last_seq, |seq| {
            Ord::min(seq, conversation.last_seq)
        });
        let unread = unread_after(viewer.user_id, conversation_id, target);
        let remaining: i64 = match txn.query_one(&unread).await? {
            Some(row) => row.try_get_by_index(0)?,
            None => 0,
        };
        let updated = conversation_member::Entity::update_many()
            .col_expr(
                conversation_member::Column::LastReadSeq,
                Expr::value(target),
            )
            .col_expr(
                conversation_member::Column::UnreadCount,
                Expr::value(remaining),
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
        txn.commit().await?;
        Ok(conversation)
    }
}

/// `SELECT COUNT(*)` of other people's messages in a conversation after
/// `seq`: what a member whose read pointer is at `seq` has not read.
fn unread_after(
    user_id: i64,
    conversation_id: i64,
    seq: i64,
) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .expr(Expr::col(message::Column::Id).count())
        .from(message::Entity)
        .and_where(Expr::col(message::Column::ConversationId).eq(conversation_id))
        .and_where(Expr::col(message::Column::Seq).gt(seq))
        // `<>` is never true for NULL: messages without a sender (system
        // notices) never count as unread.
        .and_where(Expr::col(message::Column::SenderId).ne(user_id))
        .to_owned()
}

async fn insert_members(
    txn: &db::Tx,
    conversation_id: i64,
    members: impl IntoIterator<Item = (i64, Role)>,
) -> Result<()> {
    let at = now();
    let rows: Vec<_> = members
        .into_iter()
        .map(|(user_id, role)| conversation_member::ActiveModel {
            conversation_id: Set(conversation_id),
            user_id: Set(user_id),
            role: Set(role),
            last_read_seq: Set(0),
            joined_at: Set(at),
            last_activity_at: Set(at),
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
