//! Batch loaders, so that a page of N conversations costs a fixed number of
//! statements however large N is. They keep no cache: a loader only merges
//! the loads of one moment into one query, so nothing it returns is stale.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use service::{
    Service,
    entity::{conversation_member, message, message_edit, user},
    messages::ReactionGroup,
};

type LoadResult<V> = Result<V, Arc<service::Error>>;

/// Users by id.
pub struct Users(pub Service);

impl Loader<i64> for Users {
    type Value = user::Model;
    type Error = Arc<service::Error>;

    async fn load(&self, keys: &[i64]) -> LoadResult<HashMap<i64, user::Model>> {
        self.0.users_by_ids(keys).await.map_err(Arc::new)
    }
}

/// Every member of a conversation, by conversation id.
pub struct Members(pub Service);

impl Loader<i64> for Members {
    type Value = Arc<Vec<(conversation_member::Model, user::Model)>>;
    type Error = Arc<service::Error>;

    async fn load(&self, keys: &[i64]) -> LoadResult<HashMap<i64, Self::Value>> {
        let members = self.0.members_of(keys).await.map_err(Arc::new)?;
        Ok(members.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

/// Keys grouped by the viewer they are loaded for.
fn by_viewer(keys: &[(Option<i64>, i64)]) -> HashMap<Option<i64>, Vec<i64>> {
    let mut grouped: HashMap<Option<i64>, Vec<i64>> = HashMap::new();
    for (viewer, id) in keys {
        grouped.entry(*viewer).or_default().push(*id);
    }
    grouped
}

/// The newest message of a conversation the viewer may see, with its
/// sender, by `(viewer id, conversation id)` (no viewer: the host app).
pub struct LastMessages(pub Service);

impl Loader<(Option<i64>, i64)> for LastMessages {
    type Value = (message::Model, Option<user::Model>);
    type Error = Arc<service::Error>;

    async fn load(
        &self,
        keys: &[(Option<i64>, i64)],
    ) -> LoadResult<HashMap<(Option<i64>, i64), Self::Value>> {
        let mut out = HashMap::with_capacity(keys.len());
        for (viewer, ids) in by_viewer(keys) {
            let found = self.0.last_messages(viewer, &ids).await.map_err(Arc::new)?;
            out.extend(found.into_iter().map(|(id, v)| ((viewer, id), v)));
        }
        Ok(out)
    }
}

/// A viewer's unread count in a conversation, by `(user id, conversation id)`.
pub struct UnreadCounts(pub Service);

impl Loader<(i64, i64)> for UnreadCounts {
    type Value = i64;
    type Error = Arc<service::Error>;

    async fn load(&self, keys: &[(i64, i64)]) -> LoadResult<HashMap<(i64, i64), i64>> {
        let mut out = per_user(keys, |user, conversations| async move {
            self.0.unread_counts(user, &conversations).await
        })
        .await?;
        // A conversation with nothing unread may have no row to count.
        for key in keys {
            out.entry(*key).or_insert(0);
        }
        Ok(out)
    }
}

/// The members of a direct conversation, by conversation id; groups have
/// no entry.
pub struct DirectMembers(pub Service);

impl Loader<i64> for DirectMembers {
    type Value = Arc<Vec<conversation_member::Model>>;
    type Error = Arc<service::Error>;

    async fn load(&self, keys: &[i64]) -> LoadResult<HashMap<i64, Self::Value>> {
        let members = self.0.direct_members(keys).await.map_err(Arc::new)?;
        Ok(members.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

/// Messages the viewer may see by `(viewer id, message id)` (reply
/// targets).
pub struct Messages(pub Service);

impl Loader<(Option<i64>, i64)> for Messages {
    type Value = message::Model;
    type Error = Arc<service::Error>;

    async fn load(
        &self,
        keys: &[(Option<i64>, i64)],
    ) -> LoadResult<HashMap<(Option<i64>, i64), message::Model>> {
        let mut out = HashMap::with_capacity(keys.len());
        for (viewer, ids) in by_viewer(keys) {
            let found = self
                .0
                .visible_messages_by_ids(viewer, &ids)
                .await
                .map_err(Arc::new)?;
            out.extend(found.into_iter().map(|(id, m)| ((viewer, id), m)));
        }
        Ok(out)
    }
}

/// The versions edits replaced, by message id.
pub struct Edits(pub Service);

impl Loader<i64> for Edits {
    type Value = Arc<Vec<message_edit::Model>>;
    type Error = Arc<service::Error>;

    async fn load(&self, keys: &[i64]) -> LoadResult<HashMap<i64, Self::Value>> {
        let edits = self.0.edits_of(keys).await.map_err(Arc::new)?;
        Ok(edits.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

/// The first seq a user may see of a conversation (0 unless its history is
/// visible since joining), by `(user id, conversation id)`.
pub struct HistoryFloors(pub Service);

impl Loader<(i64, i64)> for HistoryFloors {
    type Value = i64;
    type Error = Arc<service::Error>;

    async fn load(&self, keys: &[(i64, i64)]) -> LoadResult<HashMap<(i64, i64), i64>> {
        per_user(keys, |user, conversations| async move {
            self.0.history_floors(user, &conversations).await
        })
        .await
    }
}

/// Loads `(user id, conversation id)` keys with one `read` per user of
/// their conversations.
async fn per_user<F, Fut>(keys: &[(i64, i64)], read: F) -> LoadResult<HashMap<(i64, i64), i64>>
where
    F: Fn(i64, Vec<i64>) -> Fut,
    Fut: std::future::Future<Output = service::Result<HashMap<i64, i64>>>,
{
    let mut by_user: HashMap<i64, Vec<i64>> = HashMap::new();
    for (user, conversation) in keys {
        by_user.entry(*user).or_default().push(*conversation);
    }
    let mut out = HashMap::with_capacity(keys.len());
    for (user, conversations) in by_user {
        for (conversation, value) in read(user, conversations).await.map_err(Arc::new)? {
            out.insert((user, conversation), value);
        }
    }
    Ok(out)
}

/// The users a message mentions, by message id.
pub struct Mentions(pub Service);

impl Loader<i64> for Mentions {
    type Value = Arc<Vec<i64>>;
    type Error = Arc<service::Error>;

    async fn load(&self, keys: &[i64]) -> LoadResult<HashMap<i64, Self::Value>> {
        let mentions = self.0.mentions_of(keys).await.map_err(Arc::new)?;
        Ok(mentions
            .into_iter()
            .map(|(k, v)| (k, Arc::new(v)))
            .collect())
    }
}

/// A message's reactions as one viewer sees them, by `(user id, message
/// id)`: one query per viewer for a whole page of messages.
pub struct Reactions(pub Service);

impl Loader<(i64, i64)> for Reactions {
    type Value = Arc<Vec<ReactionGroup>>;
    type Error = Arc<service::Error>;

    async fn load(&self, keys: &[(i64, i64)]) -> LoadResult<HashMap<(i64, i64), Self::Value>> {
        let mut by_user: HashMap<i64, Vec<i64>> = HashMap::new();
        for (user, message) in keys {
            by_user.entry(*user).or_default().push(*message);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for (user, messages) in by_user {
            let groups = self.0.reactions(user, &messages).await.map_err(Arc::new)?;
            for (message, groups) in groups {
                out.insert((user, message), Arc::new(groups));
            }
        }
        Ok(out)
    }
}

/// Whether a viewer may see a user's presence, by `(viewer id, user id)`:
/// one query per viewer for a whole page of users.
pub struct PresenceVisible(pub Service);

impl Loader<(i64, i64)> for PresenceVisible {
    type Value = bool;
    type Error = Arc<service::Error>;

    async fn load(&self, keys: &[(i64, i64)]) -> LoadResult<HashMap<(i64, i64), bool>> {
        let mut by_viewer: HashMap<i64, Vec<i64>> = HashMap::new();
        for (viewer, user) in keys {
            by_viewer.entry(*viewer).or_default().push(*user);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for (viewer, users) in by_viewer {
            let visible = self
                .0
                .presence_visible(
                    &service::Viewer {
                        user_id: viewer,
                        session_id: service::Viewer::NO_SESSION,
                    },
                    &users,
                )
                .await
                .map_err(Arc::new)?;
            for user in users {
                out.insert((viewer, user), visible.contains(&user));
            }
        }
        Ok(out)
    }
}

/// The loaders, shared by every request of one app.
pub struct Loaders {
    pub users: DataLoader<Users>,
    pub members: DataLoader<Members>,
    pub last_messages: DataLoader<LastMessages>,
    pub unread: DataLoader<UnreadCounts>,
    pub direct_members: DataLoader<DirectMembers>,
    pub messages: DataLoader<Messages>,
    pub edits: DataLoader<Edits>,
    pub reactions: DataLoader<Reactions>,
    pub presence_visible: DataLoader<PresenceVisible>,
    pub mentions: DataLoader<Mentions>,
    pub history_floors: DataLoader<HistoryFloors>,
}

impl Loaders {
    pub fn new(service: &Service) -> Self {
        Self {
            users: DataLoader::new(Users(service.clone()), tokio::spawn),
            members: DataLoader::new(Members(service.clone()), tokio::spawn),
            last_messages: DataLoader::new(LastMessages(service.clone()), tokio::spawn),
            unread: DataLoader::new(UnreadCounts(service.clone()), tokio::spawn),
            direct_members: DataLoader::new(DirectMembers(service.clone()), tokio::spawn),
            messages: DataLoader::new(Messages(service.clone()), tokio::spawn),
            edits: DataLoader::new(Edits(service.clone()), tokio::spawn),
            reactions: DataLoader::new(Reactions(service.clone()), tokio::spawn),
            presence_visible: DataLoader::new(PresenceVisible(service.clone()), tokio::spawn),
            mentions: DataLoader::new(Mentions(service.clone()), tokio::spawn),
            history_floors: DataLoader::new(HistoryFloors(service.clone()), tokio::spawn),
        }
    }
}
