//! Looking people up.

use std::collections::HashMap;

use entity::user;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Func, LikeExpr},
};

use super::{Audience, contacts_of_query};
use crate::{
    Service, Viewer, db,
    error::{Error, Result},
    page::{Page, PageArgs, Window},
    validate,
};

impl Service {
    pub async fn user(&self, _viewer: &Viewer, id: i64) -> Result<Option<user::Model>> {
        Ok(user::Entity::find_by_id(id).one(self.db()).await?)
    }

    /// The signed-in user; a session whose user is gone is not valid.
    pub async fn me(&self, viewer: &Viewer) -> Result<user::Model> {
        user::Entity::find_by_id(viewer.user_id)
            .one(self.db())
            .await?
            .ok_or(Error::Unauthenticated("invalid or expired token"))
    }

    /// Users by id, for batch loading. Missing ids are left out.
    pub async fn users_by_ids(&self, ids: &[i64]) -> Result<HashMap<i64, user::Model>> {
        Ok(user::Entity::find()
            .filter(user::Column::Id.is_in(ids.iter().copied()))
            .all(self.db())
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect())
    }

    /// People to chat with, by username order. `search` matches the start
    /// of a username or any part of a display name, ignoring case. Under
    /// `PARLEY_USER_SEARCH=contacts` (the default) it finds only the
    /// viewer's contacts (themselves included) and, by its exact username
    /// (ignoring case), anyone; without a term, only contacts.
    pub async fn search_users(
        &self,
        viewer: &Viewer,
        search: Option<&str>,
        args: PageArgs<String>,
    ) -> Result<Page<user::Model>> {
        let Window::Forward { after, limit } = args.window(false)? else {
            return Err(Error::invalid("last", "users are paged forward only"));
        };
        let mut query = user::Entity::find()
            .order_by_asc(user::Column::UsernameKey)
            .limit(limit + 1);
        let term = search.map(str::trim).filter(|s| !s.is_empty());
        if self.settings().user_search == Audience::Contacts {
            let mut reach = Condition::any()
                .add(user::Column::Id.in_subquery(contacts_of_query(viewer.user_id)))
                .add(user::Column::Id.eq(viewer.user_id));
            if let Some(term) = term {
                reach = reach.add(user::Column::UsernameKey.eq(term.to_lowercase()));
            }
            query = query.filter(reach);
        }
        if let Some(term) = term {
            validate::name_search(term)?;
            let escaped = db::escape_like(&term.to_lowercase());
            query = query.filter(
                Condition::any()
                    .add(
                        Expr::col(user::Column::UsernameKey)
                            .like(LikeExpr::new(format!("{escaped}%")).escape('\\')),
                    )
                    .add(
                        Expr::expr(Func::lower(Expr::col(user::Column::DisplayName)))
                            .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
                    ),
            );
        }
        if let Some(after) = &after {
            query = query.filter(user::Column::UsernameKey.gt(after.as_str()));
        }
        let rows = query.all(self.db()).await?;
        Ok(Page::forward(rows, limit, after.is_some()))
    }
}
