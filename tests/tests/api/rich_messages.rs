//! Message kinds, attachments and metadata; streaming messages; importing
//! history with the admin key.

use std::time::Duration;

use anyhow::Result;
use parley_tests::{TestApp, decode_id, error_code, jwt, spawn_host_app};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use service::{entity::event, events::Ephemeral};

const SEND: &str = "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id seq kind body streaming externalId metadata attachments { url name mimeType size width height } } }";
const SEND_AS: &str =
    "mutation($i: SendMessageAsInput!) { sendMessageAs(input: $i) { id streaming body } }";
const APPEND: &str =
    "mutation($m: ID!, $t: String!) { appendToMessage(id: $m, text: $t) { messageId length } }";
const FINISH: &str = "mutation($m: ID!) { finishMessage(id: $m) { id body streaming } }";
const IMPORT: &str = "mutation($c: ID!, $m: [ImportMessageInput!]!) { importMessages(conversationId: $c, messages: $m) { imported skipped } }";
const HISTORY: &str = "query($c: ID!) { conversation(id: $c) { lastSeq lastActivityAt unreadCount messages(last: 50) { nodes { id seq kind body sender { id } createdAt externalId streaming attachments { url } } } } }";
const MESSAGE: &str = "query($m: ID!) { node(id: $m) { ... on Message { body streaming kind } } }";

async fn count_messages(app: &TestApp) -> Result<i64> {
    Ok(app
        .sql_ints("SELECT COUNT(*) FROM messages", vec![])
        .await?[0])
}

/// The error's code and `extensions.field`.
fn refusal(response: &Value) -> (String, String) {
    (
        error_code(response).to_owned(),
        response["errors"][0]["extensions"]["field"]
            .as_str()
            .unwrap_or("<none>")
            .to_owned(),
    )
}

#[tokio::test]
async fn each_kind_is_stored_with_its_attachments_and_metadata() -> Result<()> {
    let app = spawn_host_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let send = |input: Value| {
        let mut input = input;
        input["conversationId"] = json!(c);
        app.ok(&ann.token, SEND, json!({"i": input}))
    };

    let text = send(json!({"body": " hello "})).await?["sendMessage"].clone();
    assert_eq!(text["kind"], "TEXT");
    assert_eq!(text["body"], "hello");
    assert_eq!(text["attachments"], json!([]));
    assert_eq!(text["streaming"], false);
    assert_eq!(text["externalId"], json!(null));

    let image = send(json!({
        "kind": "IMAGE",
        "attachments": [{"url": " HTTPS://Cdn.Example/cat pic.png ", "name": " cat.png ",
                         "mimeType": "Image/PNG", "size": 2048, "width": 640, "height": 480}],
    }))
    .await?["sendMessage"]
        .clone();
    assert_eq!(image["kind"], "IMAGE");
    assert_eq!(image["body"], "");
    assert_eq!(
        image["attachments"],
        json!([{"url": "https://cdn.example/cat%20pic.png", "name": "cat.png",
                "mimeType": "image/png", "size": 2048, "width": 640, "height": 480}])
    );

    let file = send(json!({
        "kind": "FILE", "body": "the contract",
        "attachments": [{"url": "https://files.example/a.pdf"}, {"url": "http://files.example/b.pdf"}],
    }))
    .await?["sendMessage"]
        .clone();
    assert_eq!(file["kind"], "FILE");
    assert_eq!(file["attachments"].as_array().map(Vec::len), Some(2));
    assert_eq!(file["attachments"][1]["name"], json!(null));

    let offer = send(json!({"kind": "OFFER", "metadata": {"amount": "120.00", "currency": "EUR"}}))
        .await?["sendMessage"]
        .clone();
    assert_eq!(offer["kind"], "OFFER");
    assert_eq!(
        offer["metadata"],
        json!({"amount": "120.00", "currency": "EUR"})
    );

    let ai = send(
        json!({"body": "Sure.", "metadata": {"model": "m-1", "tokens": {"in": 12, "out": 3}}}),
    )
    .await?["sendMessage"]
        .clone();
    assert_eq!(ai["metadata"]["tokens"]["out"], 3);

    // Read back as stored, and as the receiver sees them.
    let history = app.ok(&ben.token, HISTORY, json!({"c": c})).await?;
    let kinds: Vec<&str> = history["conversation"]["messages"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["TEXT", "IMAGE", "FILE", "OFFER", "TEXT"]);
    assert_eq!(
        history["conversation"]["messages"]["nodes"][1]["attachments"][0]["url"],
        "https://cdn.example/cat%20pic.png"
    );
    // Every kind a person sends counts as unread, an image without words too.
    assert_eq!(history["conversation"]["unreadCount"], 5);
    Ok(())
}

#[tokio::test]
async fn each_kind_refuses_what_it_lacks_and_system_is_parleys_own() -> Result<()> {
    let app = spawn_host_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    for (input, field) in [
        (
            json!({"kind": "IMAGE", "body": "no picture"}),
            "attachments",
        ),
        (json!({"kind": "FILE"}), "attachments"),
        (json!({"kind": "TEXT", "body": "   "}), "body"),
        (json!({}), "body"),
        (json!({"kind": "OFFER"}), "metadata"),
        (json!({"kind": "SYSTEM", "body": "I am Parley"}), "kind"),
        (json!({"body": "x".repeat(4001)}), "body"),
    ] {
        let mut input = input;
        input["conversationId"] = json!(c);
        let response = app
            .gql(Some(&ann.token), SEND, json!({"i": input.clone()}))
            .await?;
        assert_eq!(
            refusal(&response),
            ("BAD_USER_INPUT".to_owned(), field.to_owned()),
            "{input}"
        );
    }
    assert_eq!(count_messages(&app).await?, 0);
    Ok(())
}

#[tokio::test]
async fn bad_attachments_name_their_field_and_write_nothing() -> Result<()> {
    let app = spawn_host_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let ok = json!({"url": "https://cdn.example/a.png"});
    let eleven: Vec<Value> = (0..11).map(|_| ok.clone()).collect();
    for (attachments, mentions) in [
        (json!(eleven), "at most 10"),
        (json!([ok, {"url": "ftp://cdn.example/a.png"}]), "[1].url"),
        (json!([{"url": "javascript:alert(1)"}]), "[0].url"),
        (json!([{"url": "https://u:p@cdn.example/a"}]), "[0].url"),
        (
            json!([ok, ok, {"url": "https://cdn.example/b", "size": -1}]),
            "[2].size",
        ),
        (
            json!([{"url": "https://cdn.example/b", "width": 0}]),
            "[0].width",
        ),
        (
            json!([{"url": "https://cdn.example/b", "mimeType": "png"}]),
            "[0].mimeType",
        ),
        (
            json!([{"url": "https://cdn.example/b", "name": "n".repeat(256)}]),
            "[0].name",
        ),
    ] {
        let response = app
            .gql(
                Some(&ann.token),
                SEND,
                json!({"i": {"conversationId": c, "kind": "IMAGE", "attachments": attachments}}),
            )
            .await?;
        assert_eq!(
            refusal(&response),
            ("BAD_USER_INPUT".to_owned(), "attachments".to_owned())
        );
        let message = response["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains(mentions), "{message}");
    }
    assert_eq!(count_messages(&app).await?, 0);
    Ok(())
}

#[tokio::test]
async fn metadata_is_an_object_of_at_most_16_kib() -> Result<()> {
    let app = spawn_host_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    for metadata in [
        json!([1, 2]),
        json!("text"),
        json!(7),
        json!({"blob": "x".repeat(16 * 1024)}),
    ] {
        let response = app
            .gql(
                Some(&ann.token),
                SEND,
                json!({"i": {"conversationId": c, "body": "hi", "metadata": metadata}}),
            )
            .await?;
        assert_eq!(
            refusal(&response),
            ("BAD_USER_INPUT".to_owned(), "metadata".to_owned())
        );
    }
    assert_eq!(count_messages(&app).await?, 0);
    // Just under the limit is fine.
    let fits = json!({"blob": "x".repeat(16 * 1024 - 20)});
    let sent = app
        .ok(
            &ann.token,
            SEND,
            json!({"i": {"conversationId": c, "body": "hi", "metadata": fits}}),
        )
        .await?;
    assert_eq!(sent["sendMessage"]["metadata"], fits);
    Ok(())
}

/// The next `Appended` of the ephemeral bus, within a second.
async fn next_appended(
    events: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<Ephemeral>>,
) -> Result<(i64, i64, String)> {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(1), events.recv()).await??;
        if let Ephemeral::Appended {
            conversation_id,
            message_id,
            text,
        } = &*event
        {
            return Ok((*conversation_id, *message_id, text.clone()));
        }
    }
}

#[tokio::test]
async fn a_streamed_message_is_live_stored_as_it_grows_and_finished_whole() -> Result<()> {
    let app = spawn_host_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let mut live = app.service.bus().subscribe_ephemeral();

    let started = app
        .ok(
            &ann.token,
            SEND,
            json!({"i": {"conversationId": c, "streaming": true}}),
        )
        .await?["sendMessage"]
        .clone();
    assert_eq!(started["streaming"], true);
    assert_eq!(started["body"], "");
    let m = started["id"].as_str().unwrap().to_owned();

    let first = app
        .ok(&ann.token, APPEND, json!({"m": m, "t": "Hel"}))
        .await?;
    assert_eq!(
        first["appendToMessage"],
        json!({"messageId": m, "length": 3})
    );
    app.ok(&ann.token, APPEND, json!({"m": m, "t": "lo, "}))
        .await?;
    // Subscribers get each piece, in order, as it is appended.
    let (conversation_id, message_id, text) = next_appended(&mut live).await?;
    assert_eq!(
        (conversation_id, message_id, text.as_str()),
        (decode_id(&c)?, decode_id(&m)?, "Hel")
    );
    assert_eq!(next_appended(&mut live).await?.2, "lo, ");

    // The database has the text within 250 ms, without a finish.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let stored = app.ok(&ben.token, MESSAGE, json!({"m": m})).await?;
    assert_eq!(stored["node"]["body"], "Hello, ");
    assert_eq!(stored["node"]["streaming"], true);

    // Finishing right after an append stores the whole text at once.
    app.ok(&ann.token, APPEND, json!({"m": m, "t": "world"}))
        .await?;
    let finished = app.ok(&ann.token, FINISH, json!({"m": m})).await?;
    assert_eq!(
        finished["finishMessage"],
        json!({"id": m, "body": "Hello, world", "streaming": false})
    );
    let stored = app.ok(&ben.token, MESSAGE, json!({"m": m})).await?;
    assert_eq!(stored["node"]["body"], "Hello, world");
    assert_eq!(stored["node"]["streaming"], false);
    // No late flush overwrites it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let stored = app.ok(&ben.token, MESSAGE, json!({"m": m})).await?;
    assert_eq!(stored["node"]["body"], "Hello, world");

    // The finish is a durable event.
    let logged = event::Entity::find()
        .filter(event::Column::Kind.eq(event::Kind::MessageFinished))
        .all(app.service.db())
        .await?;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].message_id, Some(decode_id(&m)?));
    assert_eq!(logged[0].user_id, Some(decode_id(&ann.id)?));
    Ok(())
}

#[tokio::test]
async fn only_the_author_adds_to_a_streaming_message_and_never_after_it_is_finished() -> Result<()>
{
    let app = spawn_host_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let eve = app.register("eve").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let m = app
        .ok(
            &ann.token,
            SEND,
            json!({"i": {"conversationId": c, "body": "Thinking", "streaming": true}}),
        )
        .await?["sendMessage"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Another member may see it, but not write in it; an outsider cannot
    // tell it from a missing message.
    for (token, code) in [(&ben.token, "FORBIDDEN"), (&eve.token, "NOT_FOUND")] {
        for (query, vars) in [
            (APPEND, json!({"m": m, "t": "!"})),
            (FINISH, json!({"m": m})),
        ] {
            let response = app.gql(Some(token), query, vars).await?;
            assert_eq!(error_code(&response), code, "{response}");
        }
    }
    let missing = app
        .gql(
            Some(&eve.token),
            APPEND,
            json!({"m": "TWVzc2FnZTo5OTk5OTk5", "t": "!"}),
        )
        .await?;
    assert_eq!(error_code(&missing), "NOT_FOUND");
    // The host app speaks for bots only.
    let response = app
        .gql(Some(jwt::ADMIN_KEY), APPEND, json!({"m": m, "t": "!"}))
        .await?;
    assert_eq!(error_code(&response), "FORBIDDEN");

    // Empty text, and text past the body limit, are refused and add nothing.
    let empty = app
        .gql(Some(&ann.token), APPEND, json!({"m": m, "t": ""}))
        .await?;
    assert_eq!(refusal(&empty), ("BAD_USER_INPUT".into(), "text".into()));
    let too_long = app
        .gql(
            Some(&ann.token),
            APPEND,
            json!({"m": m, "t": "x".repeat(4000 - 7)}),
        )
        .await?;
    assert_eq!(refusal(&too_long), ("BAD_USER_INPUT".into(), "text".into()));
    let fits = app
        .ok(
            &ann.token,
            APPEND,
            json!({"m": m, "t": "x".repeat(4000 - 8)}),
        )
        .await?;
    assert_eq!(fits["appendToMessage"]["length"], 4000);

    // An edit would be overwritten by the stream's next flush: it waits
    // for the finish.
    let edit = app
        .gql(
            Some(&ann.token),
            "mutation($m: ID!) { editMessage(id: $m, body: \"Done\") { id } }",
            json!({"m": m}),
        )
        .await?;
    assert_eq!(refusal(&edit), ("CONFLICT".into(), "id".into()));

    app.ok(&ann.token, FINISH, json!({"m": m})).await?;
    for (query, vars) in [
        (APPEND, json!({"m": m, "t": "more"})),
        (FINISH, json!({"m": m})),
    ] {
        let response = app.gql(Some(&ann.token), query, vars).await?;
        assert_eq!(refusal(&response), ("CONFLICT".into(), "id".into()));
    }
    // A message sent without `streaming` was finished from the start.
    let plain = app.send(&ann, &c, "done").await?;
    let response = app
        .gql(
            Some(&ann.token),
            APPEND,
            json!({"m": plain["id"], "t": "!"}),
        )
        .await?;
    assert_eq!(refusal(&response), ("CONFLICT".into(), "id".into()));
    let body = app.ok(&ann.token, MESSAGE, json!({"m": m})).await?;
    assert_eq!(
        body["node"]["body"].as_str().map(|b| b.chars().count()),
        Some(4000)
    );
    Ok(())
}

#[tokio::test]
async fn the_admin_key_streams_as_its_bot() -> Result<()> {
    let app = spawn_host_app().await?;
    let ann = app.register("ann").await?;
    let bot = app
        .admin(
            "mutation { upsertUser(input: {externalId: \"assistant\", isBot: true}) { id } }",
            json!({}),
        )
        .await?["upsertUser"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = app
        .ok(
            &ann.token,
            "mutation($u: ID!) { openDirectConversation(userId: $u) { id } }",
            json!({"u": bot}),
        )
        .await?["openDirectConversation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let m = app
        .admin(
            SEND_AS,
            json!({"i": {"userId": bot, "conversationId": c, "streaming": true,
                         "metadata": {"model": "m-1"}}}),
        )
        .await?["sendMessageAs"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for piece in ["The answer ", "is 42."] {
        app.admin(APPEND, json!({"m": m, "t": piece})).await?;
    }
    // The person it talks to cannot write in the bot's message.
    let response = app
        .gql(Some(&ann.token), APPEND, json!({"m": m, "t": "no"}))
        .await?;
    assert_eq!(error_code(&response), "FORBIDDEN");
    let finished = app.admin(FINISH, json!({"m": m})).await?;
    assert_eq!(finished["finishMessage"]["body"], "The answer is 42.");
    assert_eq!(finished["finishMessage"]["streaming"], false);
    let logged = event::Entity::find()
        .filter(event::Column::Kind.eq(event::Kind::MessageFinished))
        .all(app.service.db())
        .await?;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].user_id, Some(decode_id(&bot)?));
    Ok(())
}

fn imported(id: &str, sender: &str, body: &str, at: &str) -> Value {
    json!({"externalId": id, "senderId": sender, "body": body, "createdAt": at})
}

#[tokio::test]
async fn imports_keep_order_and_time_skip_what_is_there_and_are_not_unread() -> Result<()> {
    let app = spawn_host_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    app.send(&ann, &c, "live before the import").await?;
    let before = app.ok(&ben.token, HISTORY, json!({"c": c})).await?;
    let activity = before["conversation"]["lastActivityAt"].clone();

    let mut photo = imported("xmtp:3", &ben.id, "", "2021-03-01T10:00:02Z");
    photo["kind"] = json!("IMAGE");
    photo["attachments"] = json!([{"url": "https://old.example/p.jpg"}]);
    let batch = json!([
        imported("xmtp:1", &ann.id, "first", "2021-03-01T10:00:00Z"),
        imported("xmtp:2", &ben.id, "second", "2021-03-01T10:00:01Z"),
        imported("xmtp:1", &ann.id, "first again", "2021-03-01T10:00:00Z"),
        photo,
    ]);
    let done = app.admin(IMPORT, json!({"c": c, "m": batch})).await?;
    assert_eq!(done["importMessages"], json!({"imported": 3, "skipped": 1}));

    let history = app.ok(&ben.token, HISTORY, json!({"c": c})).await?;
    let nodes = history["conversation"]["messages"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let seen: Vec<(i64, &str, &str)> = nodes
        .iter()
        .map(|m| {
            (
                m["seq"].as_i64().unwrap(),
                m["externalId"].as_str().unwrap_or("-"),
                m["createdAt"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen[0].1, "-");
    assert_eq!(
        seen[1..],
        [
            (2, "xmtp:1", "2021-03-01T10:00:00+00:00"),
            (3, "xmtp:2", "2021-03-01T10:00:01+00:00"),
            (4, "xmtp:3", "2021-03-01T10:00:02+00:00"),
        ]
    );
    assert_eq!(nodes[1]["body"], "first");
    assert_eq!(nodes[1]["sender"]["id"], json!(ann.id));
    assert_eq!(nodes[3]["kind"], "IMAGE");
    assert_eq!(
        nodes[3]["attachments"][0]["url"],
        "https://old.example/p.jpg"
    );
    // Old history is not news: unread counts and activity stay.
    assert_eq!(history["conversation"]["unreadCount"], 1);
    assert_eq!(history["conversation"]["lastActivityAt"], activity);
    let ann_view = app.ok(&ann.token, HISTORY, json!({"c": c})).await?;
    assert_eq!(ann_view["conversation"]["unreadCount"], 0);
    // ... and stays so when a read pointer is recounted.
    app.ok(
        &ann.token,
        "mutation($c: ID!) { markRead(input: {conversationId: $c, upToSeq: 1}) { id } }",
        json!({"c": c}),
    )
    .await?;
    assert_eq!(
        app.ok(&ann.token, "{ unreadCount }", json!({})).await?["unreadCount"],
        0
    );

    // One MessageAdded per imported message.
    let added = event::Entity::find()
        .filter(event::Column::Kind.eq(event::Kind::MessageAdded))
        .order_by_asc(event::Column::Id)
        .all(app.service.db())
        .await?;
    let ids: Vec<Option<i64>> = added.iter().map(|e| e.message_id).collect();
    let want: Vec<Option<i64>> = nodes
        .iter()
        .map(|m| decode_id(m["id"].as_str().unwrap()).ok())
        .collect();
    assert_eq!(ids, want);

    // Twice is a no-op; new messages go after the last seq.
    let again = app.admin(IMPORT, json!({"c": c, "m": batch})).await?;
    assert_eq!(
        again["importMessages"],
        json!({"imported": 0, "skipped": 4})
    );
    let more = json!([
        imported("xmtp:2", &ben.id, "second", "2021-03-01T10:00:01Z"),
        imported("xmtp:4", &ann.id, "fourth", "2021-03-01T10:00:03Z"),
    ]);
    let next = app.admin(IMPORT, json!({"c": c, "m": more})).await?;
    assert_eq!(next["importMessages"], json!({"imported": 1, "skipped": 1}));
    let history = app.ok(&ben.token, HISTORY, json!({"c": c})).await?;
    assert_eq!(history["conversation"]["lastSeq"], 5);
    assert_eq!(count_messages(&app).await?, 5);

    // Deleting imported history takes nothing from unread counts: it never
    // counted. Ben still has the one live message from Ann to read.
    app.ok(
        &ann.token,
        "mutation($m: ID!) { deleteMessage(id: $m) { id } }",
        json!({"m": nodes[1]["id"]}),
    )
    .await?;
    let history = app.ok(&ben.token, HISTORY, json!({"c": c})).await?;
    assert_eq!(history["conversation"]["unreadCount"], 1);
    Ok(())
}

#[tokio::test]
async fn an_import_newer_than_the_last_activity_moves_the_inbox() -> Result<()> {
    let app = spawn_host_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let stamp = (chrono::Utc::now() - chrono::Duration::milliseconds(5))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let at: chrono::DateTime<chrono::Utc> = stamp.parse()?;
    app.admin(
        IMPORT,
        json!({"c": c, "m": [imported("s:1", &ben.id, "recent", &stamp)]}),
    )
    .await?;
    let history = app.ok(&ann.token, HISTORY, json!({"c": c})).await?;
    let activity: chrono::DateTime<chrono::Utc> = history["conversation"]["lastActivityAt"]
        .as_str()
        .unwrap()
        .parse()?;
    assert_eq!(activity, at);
    assert_eq!(history["conversation"]["unreadCount"], 0);
    let inbox = app
        .ok(
            &ann.token,
            "{ conversations { nodes { id lastActivityAt lastMessage { body } } } }",
            json!({}),
        )
        .await?;
    assert_eq!(
        inbox["conversations"]["nodes"][0]["lastMessage"]["body"],
        "recent"
    );
    assert_eq!(
        inbox["conversations"]["nodes"][0]["lastActivityAt"],
        history["conversation"]["lastActivityAt"]
    );
    Ok(())
}

#[tokio::test]
async fn people_cannot_import_and_bad_imports_write_nothing() -> Result<()> {
    let app = spawn_host_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let eve = app.register("eve").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let good = imported("e:1", &ann.id, "ok", "2020-01-01T00:00:00Z");
    for token in [&ann.token, &eve.token] {
        let response = app
            .gql(Some(token), IMPORT, json!({"c": c, "m": [good.clone()]}))
            .await?;
        assert_eq!(error_code(&response), "FORBIDDEN");
    }

    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let mut system = imported("e:3", &ann.id, "I am Parley", "2020-01-01T00:00:00Z");
    system["kind"] = json!("SYSTEM");
    let mut bad_photo = imported("e:3", &ann.id, "", "2020-01-01T00:00:00Z");
    bad_photo["kind"] = json!("IMAGE");
    bad_photo["attachments"] = json!([{"url": "ftp://old.example/p.jpg"}]);
    let too_many: Vec<Value> = (0..1001)
        .map(|i| imported(&format!("n:{i}"), &ann.id, "x", "2020-01-01T00:00:00Z"))
        .collect();
    for (batch, mentions) in [
        (
            json!([
                good,
                imported("e:2", &eve.id, "not a member", "2020-01-01T00:00:00Z")
            ]),
            "[1].senderId",
        ),
        (
            json!([good, imported("e:2", &ann.id, "later", &future)]),
            "[1].createdAt",
        ),
        (
            json!([good, imported("", &ann.id, "no id", "2020-01-01T00:00:00Z")]),
            "[1].externalId",
        ),
        (
            json!([good, imported("e:2", &ann.id, " ", "2020-01-01T00:00:00Z")]),
            "[1].body",
        ),
        (json!([good, system]), "[1].kind"),
        (json!([good, bad_photo]), "[1].attachments: [0].url"),
        (json!(too_many), "at most 1000"),
    ] {
        let response = app
            .gql(Some(jwt::ADMIN_KEY), IMPORT, json!({"c": c, "m": batch}))
            .await?;
        assert_eq!(
            refusal(&response),
            ("BAD_USER_INPUT".to_owned(), "messages".to_owned())
        );
        let message = response["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains(mentions), "{message}");
    }
    // A conversation that does not exist, as for anything else.
    let missing = app
        .gql(
            Some(jwt::ADMIN_KEY),
            IMPORT,
            json!({"c": "Q29udmVyc2F0aW9uOjk5OTk5OTk", "m": [good]}),
        )
        .await?;
    assert_eq!(error_code(&missing), "NOT_FOUND");
    assert_eq!(count_messages(&app).await?, 0);
    let events = app
        .sql_ints(
            "SELECT COUNT(*) FROM events WHERE kind = 'message_added'",
            vec![],
        )
        .await?;
    assert_eq!(events, vec![0]);
    Ok(())
}

#[tokio::test]
async fn concurrent_appends_lose_nothing_across_flushes() -> Result<()> {
    let app = spawn_host_app().await?;
    let ann = app.register("ann").await?;
    let ben = app.register("ben").await?;
    let c = app.open_direct(&ann, &ben).await?;
    let m = app
        .ok(
            &ann.token,
            SEND,
            json!({"i": {"conversationId": c, "streaming": true}}),
        )
        .await?["sendMessage"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Waves of concurrent appends, with pauses that let flushes run (and
    // forget the buffer) between them.
    for _ in 0..3 {
        let appends = (0..20).map(|_| app.ok(&ann.token, APPEND, json!({"m": m, "t": "ab"})));
        for done in futures_util::future::join_all(appends).await {
            done?;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Flushes store all of it, whatever the waves interleaved with; under
    // load a flush may land later than its 250 ms, so wait for it.
    let mut stored = Value::Null;
    for _ in 0..100 {
        stored = app.ok(&ben.token, MESSAGE, json!({"m": m})).await?["node"]["body"].clone();
        if stored == "ab".repeat(60) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stored, "ab".repeat(60));
    let finished = app.ok(&ann.token, FINISH, json!({"m": m})).await?;
    assert_eq!(finished["finishMessage"]["body"], "ab".repeat(60));
    Ok(())
}
