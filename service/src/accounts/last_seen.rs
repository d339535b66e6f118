//! When each user was last seen: written when they authenticate, at most
//! once a minute.
//!
//! Every request authenticates, and a write per request would put each
//! read behind SQLite's single writer. Authentication already reads the
//! user's row, so the stored time says whether it is stale; only then is
//! it written, with a condition that keeps concurrent requests (and other
//! instances) from writing it twice.

use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, sea_query::Expr,
};

use crate::{Service, time::now};

/// How stale `last_seen_at` may get.
pub const INTERVAL: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// True when a user last seen at `seen` should be written as seen `at`.
fn is_stale(seen: Option<DateTime<Utc>>, at: DateTime<Utc>) -> bool {
    seen.is_none_or(|seen| at - seen >= INTERVAL)
}

impl Service {
    /// Notes that a user last seen at `last_seen_at` was just seen, if that
    /// is stale; true when it wrote. Best effort: a failure is logged and
    /// the request goes on, since a stale "last seen" is no reason to
    /// refuse someone.
    pub(crate) async fn note_seen(
        &self,
        user_id: i64,
        last_seen_at: Option<DateTime<Utc>>,
    ) -> bool {
        let at = now();
        if !is_stale(last_seen_at, at) {
            return false;
        }
        let result: crate::Result<()> = async {
            let txn = self.write().await?;
            mark_seen(&*txn, user_id, at).await?;
            Ok(txn.commit().await?)
        }
        .await;
        match result {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(error = %err, user_id, "could not note when the user was seen");
                false
            }
        }
    }
}

/// Sets `last_seen_at` to `at` unless it was set less than a minute before;
/// true when it did.
pub(crate) async fn mark_seen<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let updated = user::Entity::update_many()
        .col_expr(user::Column::LastSeenAt, Expr::value(at))
        .filter(user::Column::Id.eq(user_id))
        .filter(
            Condition::any()
                .add(user::Column::LastSeenAt.is_null())
                .add(user::Column::LastSeenAt.lte(at - INTERVAL)),
        )
        .exec(db)
        .await?;
    Ok(updated.rows_affected > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_after_a_minute() {
        let at = now();
        assert!(is_stale(None, at));
        assert!(is_stale(Some(at - INTERVAL), at));
        assert!(!is_stale(Some(at - chrono::TimeDelta::seconds(59)), at));
        // A clock that went back does not cause writes.
        assert!(!is_stale(Some(at + INTERVAL), at));
    }
}
