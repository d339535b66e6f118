//! Service-level tests: the chat operations called directly, over a real
//! database brought up by the migrations (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::StreamExt;
use parley_tests::TestDb;
use service::{EventBus, Service, Settings, Viewer, accounts::Register, db, messages::SendMessage};

async fn service() -> (Service, TestDb) {
    let test_db = TestDb::new().await.unwrap();
    let conn = db::connect(&test_db.url(), &db::DbOptions::default())
        .await
        .unwrap();
    db::migrate(&conn).await.unwrap();
    (
        Service::new(conn, EventBus::new(), Settings::default()),
        test_db,
    )
}

async fn user(service: &Service, name: &str) -> Viewer {
    let signed_in = service
        .register(
            None,
            Register {
                username: name.into(),
                password: "password123".into(),
                display_name: None,
            },
        )
        .await
        .unwrap();
    service.authenticate(&signed_in.token).await.unwrap()
}

async fn send(service: &Service, viewer: &Viewer, conversation_id: i64, body: &str) -> i64 {
    service
        .send_message(
            viewer,
            SendMessage {
                conversation_id,
                body: body.into(),
                client_message_id: None,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .seq
}

#[tokio::test]
async fn a_lagging_subscriber_rereads_instead_of_losing_messages() {
    let (service, _db) = service().await;
    let a = user(&service, "fast").await;
    let b = user(&service, "slow").await;
    let conversation = service.open_direct(&a, b.user_id, None).await.unwrap();
    let mut stream = Box::pin(
        service
            .follow_messages(b, conversation.id, None)
            .await
            .unwrap(),
    );
    // More than the bus holds, while the subscriber does not read.
    for i in 0..300 {
        send(&service, &a, conversation.id, &format!("m{i}")).await;
    }
    let mut seqs = Vec::new();
    while seqs.len() < 300 {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seqs.push(message.seq);
    }
    assert_eq!(seqs, (1..=300).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_stream_ends_with_an_error_for_a_non_member() {
    let (service, _db) = service().await;
    let a = user(&service, "alpha").await;
    let b = user(&service, "bravo").await;
    let eve = user(&service, "eve").await;
    let conversation = service.open_direct(&a, b.user_id, None).await.unwrap();
    let result = service.follow_messages(eve, conversation.id, Some(0)).await;
    assert!(matches!(
        result,
        Err(service::Error::NotFound("conversation"))
    ));
    assert_eq!(
        service.bus().topic_count(),
        0,
        "a refused subscriber left a topic behind"
    );
}

#[tokio::test]
async fn topics_are_dropped_with_their_last_subscriber() {
    let (service, _db) = service().await;
    let a = user(&service, "alpha").await;
    let b = user(&service, "bravo").await;
    let conversation = service.open_direct(&a, b.user_id, None).await.unwrap();
    let first = service
        .follow_messages(a, conversation.id, None)
        .await
        .unwrap();
    let second = service
        .follow_messages(b, conversation.id, None)
        .await
        .unwrap();
    assert_eq!(service.bus().topic_count(), 1);
    drop(first);
    assert_eq!(service.bus().topic_count(), 1);
    drop(second);
    assert_eq!(service.bus().topic_count(), 0);
}

#[tokio::test]
async fn unread_counts_ignore_own_messages() {
    let (service, _db) = service().await;
    let a = user(&service, "alpha").await;
    let b = user(&service, "bravo").await;
    let conversation = service.open_direct(&a, b.user_id, None).await.unwrap();
    send(&service, &a, conversation.id, "one").await;
    send(&service, &a, conversation.id, "two").await;
    send(&service, &b, conversation.id, "reply").await;
    assert_eq!(service.total_unread(&a).await.unwrap(), 1);
    // b's send moved b's pointer to 3: nothing unread.
    assert_eq!(service.total_unread(&b).await.unwrap(), 0);
    let counts = service
        .unread_counts(a.user_id, &[conversation.id])
        .await
        .unwrap();
    assert_eq!(counts.get(&conversation.id), Some(&1));
}

/// Sends from many tasks at once share commits (group commit); a send that
/// must fail, and retries of one client id, do not disturb the rest.
#[tokio::test]
async fn concurrent_sends_share_commits_without_mixing_their_fates() {
    let (service, _db) = service().await;
    let a = user(&service, "anna").await;
    let b = user(&service, "bert").await;
    let outsider = user(&service, "olga").await;
    let conversation = service.open_direct(&a, b.user_id, None).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let service = service.clone();
        let (viewer, client_id) = match i % 4 {
            0 => (outsider, None),
            1 => (a, Some("retry-me".to_owned())),
            2 => (a, None),
            _ => (b, None),
        };
        tasks.spawn(async move {
            let sent = service
                .send_message(
                    &viewer,
                    SendMessage {
                        conversation_id: conversation.id,
                        body: format!("m{i}"),
                        client_message_id: client_id.clone(),
                        ..Default::default()
                    },
                )
                .await;
            (viewer.user_id, client_id, sent)
        });
    }
    let mut refused = 0;
    let mut retried_ids = std::collections::HashSet::new();
    while let Some(joined) = tasks.join_next().await {
        let (user_id, client_id, sent) = joined.unwrap();
        match sent {
            Err(service::Error::NotFound("conversation")) => {
                assert_eq!(user_id, outsider.user_id);
                refused += 1;
            }
            Ok(message) if client_id.is_some() => {
                retried_ids.insert(message.id);
            }
            Ok(message) => assert_eq!(message.sender_id, Some(user_id)),
            Err(err) => panic!("unexpected error: {err}"),
        }
    }
    assert_eq!(refused, 10);
    assert_eq!(retried_ids.len(), 1, "ten retries store one message");
    // 10 from a, 10 from b, 1 retried: dense seqs, nothing from the outsider.
    let page = service
        .messages(
            &a,
            &conversation,
            service::page::PageArgs::forward(Some(100), None),
        )
        .await
        .unwrap();
    let seqs: Vec<i64> = page.items.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=21).collect::<Vec<_>>());
    assert!(
        page.items
            .iter()
            .all(|m| m.sender_id != Some(outsider.user_id))
    );
}

/// The second migration fills the inbox columns of memberships that
/// existed before it: activity time and unread counts.
#[tokio::test]
async fn the_inbox_migration_fills_existing_memberships() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;

    let test_db = TestDb::new().await.unwrap();
    let conn = db::connect(&test_db.url(), &db::DbOptions::default())
        .await
        .unwrap();
    Migrator::up(&conn, Some(1)).await.unwrap();
    for sql in [
        "INSERT INTO users (id, username, username_key, display_name, created_at, updated_at) \
         VALUES (1, 'a', 'a', 'A', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'), \
                (2, 'b', 'b', 'B', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        "INSERT INTO conversations (id, kind, direct_key, last_seq, last_activity_at, created_at, updated_at) \
         VALUES (1, 'direct', '1:2', 3, '2026-02-02T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        "INSERT INTO conversation_members (conversation_id, user_id, role, last_read_seq, joined_at) \
         VALUES (1, 1, 'member', 3, '2026-01-01T00:00:00Z'), (1, 2, 'member', 1, '2026-01-01T00:00:00Z')",
        "INSERT INTO messages (conversation_id, seq, sender_id, body, created_at) \
         VALUES (1, 1, 1, 'x', '2026-01-01T00:00:00Z'), (1, 2, 1, 'y', '2026-01-01T00:00:00Z'), \
                (1, 3, 1, 'z', '2026-01-01T00:00:00Z')",
    ] {
        conn.execute_unprepared(sql).await.unwrap();
    }
    Migrator::up(&conn, None).await.unwrap();
    let service = Service::new(conn, EventBus::new(), Settings::default());
    let counts = service.unread_counts(2, &[1]).await.unwrap();
    assert_eq!(counts.get(&1), Some(&2), "b has read 1 of a's 3");
    let counts = service.unread_counts(1, &[1]).await.unwrap();
    assert_eq!(counts.get(&1), Some(&0));
    let b = Viewer {
        user_id: 2,
        session_id: 0,
    };
    let inbox = service
        .conversations(
            &b,
            Default::default(),
            service::page::PageArgs::forward(Some(10), None),
        )
        .await
        .unwrap();
    assert_eq!(inbox.items.len(), 1);
}

/// Deleting for good leaves no messages or memberships behind (they go by
/// ON DELETE CASCADE, in the same transaction).
#[tokio::test]
async fn a_permanent_delete_leaves_no_rows_behind() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use service::entity::{conversation_member, message};

    let (service, _db) = service().await;
    let a = user(&service, "ada").await;
    let b = user(&service, "bob").await;
    let conversation = service.open_direct(&a, b.user_id, None).await.unwrap();
    send(&service, &a, conversation.id, "one").await;
    send(&service, &b, conversation.id, "two").await;
    service
        .delete_conversation_permanently(&service::Actor::User(a), conversation.id)
        .await
        .unwrap();
    let messages = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation.id))
        .count(service.db())
        .await
        .unwrap();
    let members = conversation_member::Entity::find()
        .filter(conversation_member::Column::ConversationId.eq(conversation.id))
        .count(service.db())
        .await
        .unwrap();
    assert_eq!((messages, members), (0, 0));
}

/// The words of a search's hits, newest first.
async fn search(service: &Service, viewer: &Viewer, query: &str) -> Vec<String> {
    service
        .search_messages(
            viewer,
            service::messages::search::SearchInput {
                query: query.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|hit| hit.message.body)
        .collect()
}

/// The index follows the table by itself (triggers on SQLite, a generated
/// column on PostgreSQL): an edited body is found by its new words only,
/// a deleted message not at all, whichever code path changed the row.
#[tokio::test]
async fn search_follows_body_updates_and_deletes() {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    use service::entity::message;

    let (service, _db) = service().await;
    let a = user(&service, "ada").await;
    let b = user(&service, "bob").await;
    let conversation = service.open_direct(&a, b.user_id, None).await.unwrap();
    send(&service, &a, conversation.id, "the deploy failed").await;
    send(&service, &a, conversation.id, "lunch at noon").await;
    assert_eq!(search(&service, &b, "deplo").await, ["the deploy failed"]);

    let stored = message::Entity::find()
        .all(service.db())
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.body == "the deploy failed")
        .unwrap();
    let mut edit: message::ActiveModel = stored.clone().into();
    edit.body = Set("the rollback worked".into());
    edit.update(service.db()).await.unwrap();
    assert!(search(&service, &b, "deploy").await.is_empty());
    assert_eq!(search(&service, &b, "rollb").await, ["the rollback worked"]);

    message::Entity::delete_by_id(stored.id)
        .exec(service.db())
        .await
        .unwrap();
    assert!(search(&service, &b, "rollback").await.is_empty());
    assert_eq!(search(&service, &a, "noon").await, ["lunch at noon"]);
}

/// Messages stored before the search migrations are indexed by them.
#[tokio::test]
async fn the_search_migration_indexes_existing_messages() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;

    let test_db = TestDb::new().await.unwrap();
    let conn = db::connect(&test_db.url(), &db::DbOptions::default())
        .await
        .unwrap();
    // The three migrations before search's.
    Migrator::up(&conn, Some(3)).await.unwrap();
    for sql in [
        "INSERT INTO users (id, username, username_key, display_name, created_at, updated_at) \
         VALUES (1, 'a', 'a', 'A', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        "INSERT INTO conversations (id, kind, title, last_seq, last_activity_at, created_at, updated_at) \
         VALUES (1, 'group', 'g', 2, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        "INSERT INTO conversation_members (conversation_id, user_id, role, last_read_seq, last_activity_at, joined_at) \
         VALUES (1, 1, 'owner', 2, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        "INSERT INTO messages (conversation_id, seq, sender_id, body, created_at) \
         VALUES (1, 1, 1, 'Crème brûlée tonight', '2026-01-01T00:00:00Z'), \
                (1, 2, 1, 'nothing here', '2026-01-01T00:00:00Z')",
    ] {
        conn.execute_unprepared(sql).await.unwrap();
    }
    Migrator::up(&conn, None).await.unwrap();
    let service = Service::new(conn, EventBus::new(), Settings::default());
    let viewer = Viewer {
        user_id: 1,
        session_id: 0,
    };
    assert_eq!(
        search(&service, &viewer, "creme brulee").await,
        ["Crème brûlée tonight"]
    );
    // Migration 9 rebuilds the SQLite index with another prefix index;
    // both ways keep every message found, by whole words and prefixes of
    // each indexed length and beyond.
    for step in ["down", "up"] {
        if step == "down" {
            Migrator::down(service.db(), Some(1)).await.unwrap();
        } else {
            Migrator::up(service.db(), None).await.unwrap();
        }
        for query in ["creme", "cr", "cre", "crem", "brulé", "tonig"] {
            assert_eq!(
                search(&service, &viewer, query).await,
                ["Crème brûlée tonight"],
                "{query} after {step}"
            );
        }
    }
}
