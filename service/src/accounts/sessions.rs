//! The viewer's sessions: seeing where they are signed in, and signing out
//! a lost device from another one.

use entity::session;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{
    Service, Viewer,
    error::{Error, Result},
    events::Revoked,
    page::{Page, PageArgs, Window},
    time::now,
};

impl Service {
    /// The viewer's sessions that have not expired, newest first, paged by
    /// id. A viewer signed in by a host-app JWT has none.
    pub async fn sessions(
        &self,
        viewer: &Viewer,
        args: PageArgs<i64>,
    ) -> Result<Page<session::Model>> {
        let Window::Forward { after, limit } = args.window(false)? else {
            return Err(Error::invalid("last", "sessions are paged forward only"));
        };
        let mut query = session::Entity::find()
            .filter(session::Column::UserId.eq(viewer.user_id))
            .filter(session::Column::ExpiresAt.gt(now()))
            .order_by_desc(session::Column::Id)
            .limit(limit + 1);
        if let Some(after) = after {
            query = query.filter(session::Column::Id.lt(after));
        }
        let rows = query.all(self.db()).await?;
        Ok(Page::forward(rows, limit, after.is_some()))
    }

    /// Revokes one of the viewer's sessions; the current one too, which is
    /// logging out. Someone else's session is `NotFound`, exactly like one
    /// that never existed, so ids cannot be probed.
    #[tracing::instrument(skip(self, viewer), fields(user_id = viewer.user_id))]
    pub async fn revoke_session(&self, viewer: &Viewer, id: i64) -> Result<()> {
        let txn = self.write().await?;
        let deleted = session::Entity::delete_many()
            .filter(session::Column::Id.eq(id))
            .filter(session::Column::UserId.eq(viewer.user_id))
            .exec(&*txn)
            .await?;
        txn.commit().await?;
        if deleted.rows_affected == 0 {
            return Err(Error::NotFound("session"));
        }
        self.announce_revoked(Revoked::Session {
            user_id: viewer.user_id,
            session_id: id,
        });
        Ok(())
    }
}
