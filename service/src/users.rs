//! Looking people up.

use std::collections::HashMap;

use entity::user;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Func, LikeExpr},
};

use crate::{
    Service, Viewer,
    error::{Error, Result},
    page::{Page, PageArgs, Window},
};

pub const DISPLAY_NAME_MAX: usize = 64;

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
    /// of a username or any part of a display name, ignoring case.
    pub async fn search_users(
        &self,
        _viewer: &Viewer,
        search: Option<&str>,
        args: PageArgs<String>,
    ) -> Result<Page<user::Model>> {
        let Window::Forward { after, limit } = args.window(false)? else {
            return Err(Error::invalid("last", "users are paged forward only"));
        };
        let mut query = user::Entity::find()
            .order_by_asc(user::Column::UsernameKey)
            .limit(limit + 1);
        if let Some(term) = search.map(str::trim).filter(|s| !s.is_empty()) {
            if term.chars().count() > 64 {
                return Err(Error::invalid("search", "must be at most 64 characters"));
            }
            let escaped = escape_like(&term.to_lowercase());
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

/// 1 to 64 characters after trimming.
pub(crate) fn validate_display_name(raw: &str) -> Result<String> {
    crate::nul::reject_nul("displayName", raw)?;
    let name = raw.trim();
    let len = name.chars().count();
    if len == 0 || len > DISPLAY_NAME_MAX {
        return Err(Error::invalid(
            "displayName",
            format!("must be 1 to {DISPLAY_NAME_MAX} characters long"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "displayName",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

pub(crate) fn escape_like(term: &str) -> String {
    let mut out = String::with_capacity(term.len());
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
