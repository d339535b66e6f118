//! The viewer's conversations: the inbox and its filters, and the members
//! of each.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    conversation::{self, Kind},
    conversation_member, user,
};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait,
    sea_query::{Expr, ExprTrait, Func, LikeExpr, Query},
};

use super::access::may_restore_condition;
use crate::{
    Service, Viewer, db,
    error::{Error, Result},
    page::{Page, PageArgs, Window},
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

/// Narrows the viewer's conversation list.
#[derive(Clone, Debug, Default)]
pub struct ConversationFilter {
    pub context: Option<String>,
    pub kind: Option<Kind>,
    /// `false` (the default): the inbox; `true`: the viewer's archive.
    pub archived: bool,
    /// Matches titles and the other members' names, ignoring case.
    pub search: Option<String>,
    /// `true`: the deleted conversations the viewer may still restore
    /// (either person of a direct conversation, a group's owner), within
    /// the retention period; `archived` is then ignored.
    pub deleted: bool,
}

impl Service {
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
        query = match filter.deleted {
            false => query
                .filter(conversation_member::Column::Archived.eq(filter.archived))
                .filter(conversation::Column::DeletedAt.is_null()),
            true => query
                .filter(conversation::Column::DeletedAt.gt(self.restorable_since()))
                .filter(may_restore_condition()),
        };
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
