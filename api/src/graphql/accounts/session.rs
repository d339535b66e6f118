use crate::graphql::scalars::Timestamp;
use async_graphql::{ID, Object};
use service::{Viewer, entity::session};

use crate::graphql::ids::{self, Kind};

/// A place the viewer is signed in: one token from `register` or `login`.
pub struct Session {
    model: session::Model,
    current: bool,
}

impl Session {
    pub fn new(model: session::Model, viewer: &Viewer) -> Self {
        let current = viewer.session() == Some(model.id);
        Self { model, current }
    }
}

#[Object]
impl Session {
    /// Pass to `revokeSession` to sign this session out.
    async fn id(&self) -> ID {
        ids::encode(Kind::Session, self.model.id)
    }

    async fn created_at(&self) -> Timestamp {
        self.model.created_at.into()
    }

    async fn expires_at(&self) -> Timestamp {
        self.model.expires_at.into()
    }

    /// True for the session this request was made with.
    async fn current(&self) -> bool {
        self.current
    }
}
