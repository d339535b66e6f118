//! Service-level tests: the chat operations called directly, over a real
//! database brought up by the migrations (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::StreamExt;
use parley_tests::TestDb;
use service::{EventBus, Service, Settings, Viewer, auth::Register, db, messages::SendMessage};

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
        .register(Register {
            username: name.into(),
            password: "password123".into(),
            display_name: None,
        })
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
    let conversation = service.open_direct(&a, b.user_id).await.unwrap();
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
    let conversation = service.open_direct(&a, b.user_id).await.unwrap();
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
    let conversation = service.open_direct(&a, b.user_id).await.unwrap();
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
    let conversation = service.open_direct(&a, b.user_id).await.unwrap();
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
