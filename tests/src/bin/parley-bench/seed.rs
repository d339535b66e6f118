//! Filling the database fast: multi-row inserts straight into the tables,
//! instead of one mutation per row.

use std::collections::HashMap;

use anyhow::{Context, Result};
use chrono::{Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, Set,
    TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use service::{
    accounts, db,
    entity::{
        conversation::{self, Kind},
        conversation_member::{self, Role},
        message, session, user,
    },
};

/// Rows per INSERT: under SQLite's 32,766 bound parameters.
const CHUNK: usize = 3000;

#[derive(Clone, Debug)]
pub struct SeedUser {
    pub id: i64,
    pub token: String,
}

pub struct Seeder {
    pub db: DatabaseConnection,
}

impl Seeder {
    pub async fn connect(url: &str) -> Result<Self> {
        let db = db::connect(url, &db::DbOptions { max_connections: 4 }).await?;
        db::migrate(&db).await?;
        Ok(Self { db })
    }

    /// `n` users named `{prefix}{i}`, each with a session token.
    pub async fn users(&self, prefix: &str, n: usize) -> Result<Vec<SeedUser>> {
        let now = Utc::now();
        let names: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
        let txn = self.db.begin().await?;
        for chunk in names.chunks(CHUNK) {
            user::Entity::insert_many(chunk.iter().map(|name| user::ActiveModel {
                username: Set(name.clone()),
                username_key: Set(name.to_lowercase()),
                display_name: Set(name.clone()),
                password_hash: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }))
            .exec(&txn)
            .await?;
        }
        let mut ids: HashMap<String, i64> = HashMap::with_capacity(n);
        for chunk in names.chunks(CHUNK) {
            let rows = user::Entity::find()
                .filter(user::Column::UsernameKey.is_in(chunk.iter().map(|s| s.to_lowercase())))
                .all(&txn)
                .await?;
            ids.extend(rows.into_iter().map(|u| (u.username_key, u.id)));
        }
        let mut users = Vec::with_capacity(n);
        for name in &names {
            let id = *ids
                .get(&name.to_lowercase())
                .context("seeded user missing")?;
            users.push(SeedUser {
                id,
                token: accounts::new_token()?,
            });
        }
        for chunk in users.chunks(CHUNK) {
            session::Entity::insert_many(chunk.iter().map(|u| session::ActiveModel {
                user_id: Set(u.id),
                token_hash: Set(accounts::hash_token(&u.token)),
                created_at: Set(now),
                expires_at: Set(now + Duration::days(1)),
                ..Default::default()
            }))
            .exec(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(users)
    }

    /// One conversation per member list; the first member owns groups.
    /// Returns the conversation ids in order.
    pub async fn conversations(&self, kind: Kind, member_lists: &[Vec<i64>]) -> Result<Vec<i64>> {
        let now = Utc::now();
        let tag = accounts::new_token()?;
        let titles: Vec<String> = (0..member_lists.len())
            .map(|i| format!("seed {tag} {i}"))
            .collect();
        let txn = self.db.begin().await?;
        for (chunk_index, chunk) in member_lists.chunks(CHUNK).enumerate() {
            conversation::Entity::insert_many(chunk.iter().enumerate().map(|(i, members)| {
                let index = chunk_index * CHUNK + i;
                let direct_key = (kind == Kind::Direct).then(|| {
                    let (a, b) = (
                        Ord::min(members[0], members[1]),
                        Ord::max(members[0], members[1]),
                    );
                    format!("{a}:{b}")
                });
                conversation::ActiveModel {
                    kind: Set(kind),
                    title: Set(Some(titles[index].clone())),
                    direct_key: Set(direct_key),
                    created_by: Set(members.first().copied()),
                    last_seq: Set(0),
                    last_activity_at: Set(now),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
            }))
            .exec(&txn)
            .await?;
        }
        let mut ids: HashMap<String, i64> = HashMap::new();
        for chunk in titles.chunks(CHUNK) {
            let rows = conversation::Entity::find()
                .filter(conversation::Column::Title.is_in(chunk.iter().cloned()))
                .all(&txn)
                .await?;
            ids.extend(rows.into_iter().filter_map(|c| Some((c.title?, c.id))));
        }
        let conversation_ids: Vec<i64> = titles
            .iter()
            .map(|t| ids.get(t).copied().context("seeded conversation missing"))
            .collect::<Result<_>>()?;
        // Direct conversations show the other person's name as their title.
        if kind == Kind::Direct {
            conversation::Entity::update_many()
                .col_expr(
                    conversation::Column::Title,
                    Expr::value(Option::<String>::None),
                )
                .filter(conversation::Column::Kind.eq(Kind::Direct))
                .exec(&txn)
                .await?;
        }
        let members: Vec<conversation_member::ActiveModel> = member_lists
            .iter()
            .zip(&conversation_ids)
            .flat_map(|(members, id)| {
                members
                    .iter()
                    .enumerate()
                    .map(move |(i, user)| conversation_member::ActiveModel {
                        conversation_id: Set(*id),
                        user_id: Set(*user),
                        role: Set(if i == 0 && kind == Kind::Group {
                            Role::Owner
                        } else {
                            Role::Member
                        }),
                        last_read_seq: Set(0),
                        joined_at: Set(now),
                        last_activity_at: Set(now),
                        unread_count: Set(0),
                        ..Default::default()
                    })
            })
            .collect();
        for chunk in members.chunks(CHUNK) {
            conversation_member::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(conversation_ids)
    }

    /// `count` messages from `sender` appended to a conversation.
    pub async fn messages(&self, conversation_id: i64, sender: i64, count: usize) -> Result<()> {
        self.messages_with(conversation_id, sender, count, |seq| {
            format!("seeded message {seq} with a little text to make it look like chat")
        })
        .await
    }

    /// Like [`messages`](Self::messages), with each body made by `body`
    /// from the message's seq.
    pub async fn messages_with(
        &self,
        conversation_id: i64,
        sender: i64,
        count: usize,
        mut body: impl FnMut(i64) -> String,
    ) -> Result<()> {
        let txn = self.db.begin().await?;
        let start = conversation::Entity::find_by_id(conversation_id)
            .one(&txn)
            .await?
            .context("no such conversation")?
            .last_seq;
        let now = Utc::now();
        let mut seq = start;
        let mut remaining = count;
        while remaining > 0 {
            let n = remaining.min(CHUNK);
            let rows: Vec<message::ActiveModel> = (0..n)
                .map(|_| {
                    seq += 1;
                    message::ActiveModel {
                        conversation_id: Set(conversation_id),
                        seq: Set(seq),
                        sender_id: Set(Some(sender)),
                        body: Set(body(seq)),
                        client_message_id: Set(None),
                        created_at: Set(now - Duration::seconds((count as i64) - seq + start)),
                        ..Default::default()
                    }
                })
                .collect();
            message::Entity::insert_many(rows).exec(&txn).await?;
            remaining -= n;
        }
        conversation::Entity::update_many()
            .col_expr(conversation::Column::LastSeq, Expr::value(seq))
            .col_expr(conversation::Column::LastActivityAt, Expr::value(now))
            .filter(conversation::Column::Id.eq(conversation_id))
            .exec(&txn)
            .await?;
        // What a send keeps on each membership: the inbox key and unread
        // counts.
        conversation_member::Entity::update_many()
            .col_expr(
                conversation_member::Column::LastActivityAt,
                Expr::value(now),
            )
            .col_expr(
                conversation_member::Column::UnreadCount,
                Expr::col(conversation_member::Column::UnreadCount).add(count as i64),
            )
            .filter(conversation_member::Column::ConversationId.eq(conversation_id))
            .filter(conversation_member::Column::UserId.ne(sender))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Brings the PostgreSQL planner's statistics up to date after a bulk
    /// load, as autovacuum does by itself within a minute on a default
    /// server (this machine's PostgreSQL runs with autovacuum off). Without
    /// them the planner guesses how many messages a word is in, and reads
    /// the wrong index. SQLite's FTS5 needs no statistics.
    pub async fn analyze(&self) -> Result<()> {
        if self.db.get_database_backend() == DbBackend::Postgres {
            self.db.execute_unprepared("ANALYZE").await?;
        }
        Ok(())
    }

    /// One message in each conversation, from the given sender: a quick
    /// way to give thousands of conversations a last message and an unread
    /// count.
    pub async fn one_message_each(&self, pairs: &[(i64, i64)]) -> Result<()> {
        let now = Utc::now();
        let txn = self.db.begin().await?;
        for chunk in pairs.chunks(CHUNK) {
            message::Entity::insert_many(chunk.iter().map(|(conversation_id, sender)| {
                message::ActiveModel {
                    conversation_id: Set(*conversation_id),
                    seq: Set(1),
                    sender_id: Set(Some(*sender)),
                    body: Set("hello from the seed".to_owned()),
                    client_message_id: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                }
            }))
            .exec(&txn)
            .await?;
            conversation::Entity::update_many()
                .col_expr(conversation::Column::LastSeq, Expr::value(1))
                .filter(conversation::Column::Id.is_in(chunk.iter().map(|(c, _)| *c)))
                .exec(&txn)
                .await?;
            for (conversation_id, sender) in chunk {
                conversation_member::Entity::update_many()
                    .col_expr(conversation_member::Column::UnreadCount, Expr::value(1))
                    .filter(conversation_member::Column::ConversationId.eq(*conversation_id))
                    .filter(conversation_member::Column::UserId.ne(*sender))
                    .exec(&txn)
                    .await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }
}
