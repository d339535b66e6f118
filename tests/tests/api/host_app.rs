//! The admin key: users and bots by external id, sending as bots, and
//! never acting as a person.

use futures_util::future::join_all;
use parley_tests::{
    WsClient, error_code,
    jwt::{self, claims, hs256},
    spawn_app, spawn_host_app,
};
use serde_json::json;

const UPSERT: &str = "mutation($i: UpsertUserInput!) { upsertUser(input: $i) { id username displayName externalId avatarUrl isBot lastSeenAt } }";
const SEND_AS: &str = "mutation($i: SendMessageAsInput!) { sendMessageAs(input: $i) { seq body sender { id isBot } } }";

#[tokio::test]
async fn the_admin_key_creates_and_updates_users_by_external_id() -> anyhow::Result<()> {
    let app = spawn_host_app().await?;
    let created = app
        .admin(
            UPSERT,
            json!({"i": {"externalId": "host-7", "displayName": "Seven", "avatarUrl": "https://cdn.example/7.png"}}),
        )
        .await?["upsertUser"]
        .clone();
    assert_eq!(created["externalId"], "host-7");
    assert_eq!(created["displayName"], "Seven");
    assert_eq!(created["isBot"], false);
    assert_eq!(created["lastSeenAt"], json!(null));
    assert!(created["username"].as_str().unwrap().starts_with('~'));

    // The same external id updates the same user; left-out fields stay.
    let renamed = app
        .admin(
            UPSERT,
            json!({"i": {"externalId": "host-7", "displayName": "Seven of Nine"}}),
        )
        .await?["upsertUser"]
        .clone();
    assert_eq!(renamed["id"], created["id"]);
    assert_eq!(renamed["displayName"], "Seven of Nine");
    assert_eq!(renamed["avatarUrl"], "https://cdn.example/7.png");
    let cleared = app
        .admin(
            UPSERT,
            json!({"i": {"externalId": "host-7", "avatarUrl": null}}),
        )
        .await?["upsertUser"]
        .clone();
    assert_eq!(cleared["avatarUrl"], json!(null));
    assert_eq!(cleared["displayName"], "Seven of Nine");

    // A person cannot be turned into a bot (nor back).
    let flip = app
        .gql(
            Some(jwt::ADMIN_KEY),
            UPSERT,
            json!({"i": {"externalId": "host-7", "isBot": true, "displayName": "Hijacked"}}),
        )
        .await?;
    assert_eq!(error_code(&flip), "CONFLICT");
    assert_eq!(flip["errors"][0]["extensions"]["field"], "isBot");

    // The host app's JWT for that id signs in as that very user.
    let token = hs256(&claims("host-7", 300))?;
    let me = app
        .ok(&token, "{ me { id displayName lastSeenAt } }", json!({}))
        .await?;
    assert_eq!(me["me"]["id"], created["id"]);
    assert_eq!(me["me"]["displayName"], "Seven of Nine");
    assert!(me["me"]["lastSeenAt"].is_string());

    // Without a display name, a new user is named after its external id.
    let bot = app
        .admin(
            UPSERT,
            json!({"i": {"externalId": "support-bot", "isBot": true}}),
        )
        .await?["upsertUser"]
        .clone();
    assert_eq!(bot["displayName"], "support-bot");
    assert_eq!(bot["isBot"], true);
    Ok(())
}

#[tokio::test]
async fn concurrent_upserts_create_one_user() -> anyhow::Result<()> {
    let app = spawn_host_app().await?;
    let answers = join_all((0..10).map(|i| {
        app.admin(
            UPSERT,
            json!({"i": {"externalId": "same", "displayName": format!("Name {i}")}}),
        )
    }))
    .await;
    let mut ids = answers
        .into_iter()
        .map(|a| a.map(|data| data["upsertUser"]["id"].clone()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let count = app
        .sql_ints(
            "SELECT COUNT(*) FROM users WHERE external_id = $1",
            vec!["same".into()],
        )
        .await?;
    assert_eq!(count, vec![1]);
    Ok(())
}

#[tokio::test]
async fn bad_upserts_name_their_field_and_write_nothing() -> anyhow::Result<()> {
    let app = spawn_host_app().await?;
    let cases = [
        (json!({"externalId": ""}), "externalId"),
        (json!({"externalId": "x".repeat(257)}), "externalId"),
        (json!({"externalId": " padded "}), "externalId"),
        (json!({"externalId": "line\nbreak"}), "externalId"),
        (
            json!({"externalId": "ok", "displayName": ""}),
            "displayName",
        ),
        (
            json!({"externalId": "ok", "displayName": "d".repeat(65)}),
            "displayName",
        ),
        (
            json!({"externalId": "ok", "avatarUrl": "ftp://example.com/a.png"}),
            "avatarUrl",
        ),
        (
            json!({"externalId": "ok", "avatarUrl": "javascript:alert(1)"}),
            "avatarUrl",
        ),
    ];
    for (input, field) in cases {
        let response = app
            .gql(Some(jwt::ADMIN_KEY), UPSERT, json!({"i": input}))
            .await?;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{input}");
        assert_eq!(
            response["errors"][0]["extensions"]["field"], field,
            "{input}"
        );
    }
    assert_eq!(
        app.sql_ints("SELECT COUNT(*) FROM users", vec![]).await?,
        vec![0]
    );
    Ok(())
}

#[tokio::test]
async fn the_admin_key_sends_only_as_a_bot_that_is_a_member() -> anyhow::Result<()> {
    let app = spawn_host_app().await?;
    let alice = app.register("alice").await?;
    let bob = app.register("bob").await?;
    let bot = app
        .admin(
            UPSERT,
            json!({"i": {"externalId": "helper-bot", "displayName": "Helper", "isBot": true}}),
        )
        .await?["upsertUser"]["id"]
        .clone();
    // Alice talks to the bot; a bot joins like any user.
    let with_bot = app
        .ok(
            &alice.token,
            "mutation($u: ID!) { openDirectConversation(userId: $u) { id } }",
            json!({"u": bot}),
        )
        .await?["openDirectConversation"]["id"]
        .clone();
    let mut ws = app.ws(&alice.token).await?;
    ws.subscribe(
        "live",
        // From seq 0: no race between subscribing and the send below.
        "subscription($c: ID!) { messageAdded(conversationId: $c, afterSeq: 0) { body sender { displayName isBot } } }",
        json!({"c": with_bot}),
    )
    .await?;

    let input = json!({"userId": bot, "conversationId": with_bot, "body": " Hello! ", "clientMessageId": "m-1"});
    let sent = app.admin(SEND_AS, json!({"i": input})).await?;
    assert_eq!(
        sent["sendMessageAs"],
        json!({"seq": 1, "body": "Hello!", "sender": {"id": bot, "isBot": true}})
    );
    assert_eq!(
        ws.next_data("live").await?,
        json!({"data": {"messageAdded": {"body": "Hello!", "sender": {"displayName": "Helper", "isBot": true}}}})
    );
    // The client message id makes a retry return the same message.
    let retry = app.admin(SEND_AS, json!({"i": input})).await?;
    assert_eq!(retry["sendMessageAs"]["seq"], 1);

    // Not as a person, even one in the conversation.
    let as_alice = app
        .gql(
            Some(jwt::ADMIN_KEY),
            SEND_AS,
            json!({"i": {"userId": alice.id, "conversationId": with_bot, "body": "hi"}}),
        )
        .await?;
    assert_eq!(error_code(&as_alice), "FORBIDDEN");
    // Not into a conversation the bot is not in.
    let elsewhere = app.open_direct(&alice, &bob).await?;
    let outsider = app
        .gql(
            Some(jwt::ADMIN_KEY),
            SEND_AS,
            json!({"i": {"userId": bot, "conversationId": elsewhere, "body": "hi"}}),
        )
        .await?;
    assert_eq!(error_code(&outsider), "NOT_FOUND");
    let empty = app
        .gql(
            Some(jwt::ADMIN_KEY),
            SEND_AS,
            json!({"i": {"userId": bot, "conversationId": with_bot, "body": "   "}}),
        )
        .await?;
    assert_eq!(error_code(&empty), "BAD_USER_INPUT");
    assert_eq!(empty["errors"][0]["extensions"]["field"], "body");
    let bob_messages = app
        .ok(
            &bob.token,
            "query($c: ID!) { conversation(id: $c) { messages { nodes { id } } } }",
            json!({"c": elsewhere}),
        )
        .await?;
    assert_eq!(bob_messages["conversation"]["messages"]["nodes"], json!([]));
    Ok(())
}

#[tokio::test]
async fn the_admin_key_is_not_a_person_and_people_are_not_the_host_app() -> anyhow::Result<()> {
    let app = spawn_host_app().await?;
    for query in [
        "{ me { id } }",
        "{ conversations { nodes { id } } }",
        "{ sessions { nodes { id } } }",
    ] {
        let response = app.gql(Some(jwt::ADMIN_KEY), query, json!({})).await?;
        assert_eq!(error_code(&response), "FORBIDDEN", "{query}");
    }

    let input = json!({"i": {"externalId": "someone"}});
    let alice = app.register("alice").await?;
    let person = app.gql(Some(&alice.token), UPSERT, input.clone()).await?;
    assert_eq!(error_code(&person), "FORBIDDEN");
    let jwt_user = app
        .gql(
            Some(&hs256(&claims("jwt-user", 300))?),
            UPSERT,
            input.clone(),
        )
        .await?;
    assert_eq!(error_code(&jwt_user), "FORBIDDEN");
    let anonymous = app.gql(None, UPSERT, input.clone()).await?;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    let wrong_key = format!("{}x", jwt::ADMIN_KEY);
    let guessed = app.gql(Some(&wrong_key), UPSERT, input.clone()).await?;
    assert_eq!(error_code(&guessed), "UNAUTHENTICATED");

    // Sockets follow users: the admin key gets no connection_ack.
    let mut ws = WsClient::connect(&app.ws_url(), "graphql-transport-ws").await?;
    ws.send(json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {}", jwt::ADMIN_KEY)}}))
        .await?;
    assert_eq!(ws.closed().await?.0, 4403);

    // A server without an admin key has no host app.
    let plain = spawn_app().await?;
    let response = plain.gql(Some(jwt::ADMIN_KEY), UPSERT, input).await?;
    assert_eq!(error_code(&response), "UNAUTHENTICATED");
    Ok(())
}

/// What each member sees of the group: their role, or nothing.
async fn roles(
    app: &parley_tests::TestApp,
    people: &[&parley_tests::TestUser],
    group: &serde_json::Value,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut seen = Vec::new();
    for person in people {
        let data = app
            .ok(
                &person.token,
                "query($c: ID!) { conversation(id: $c) { myRole } }",
                json!({"c": group}),
            )
            .await?;
        seen.push(data["conversation"]["myRole"].clone());
    }
    Ok(seen)
}

#[tokio::test]
async fn the_admin_key_runs_a_group_for_the_host_app() -> anyhow::Result<()> {
    let app = spawn_host_app().await?;
    let alice = app.register("alice").await?;
    let bob = app.register("bob").await?;
    let carol = app.register("carol").await?;
    let tutor = app
        .admin(
            UPSERT,
            json!({"i": {"externalId": "tutor-bot", "displayName": "Tutor", "isBot": true}}),
        )
        .await?["upsertUser"]["id"]
        .clone();

    // Created with given members: the first one owns it, the host app is
    // not a member.
    let group = app
        .admin(
            "mutation($m: [ID!]!) { createGroupConversation(input: {title: \"Algebra 101\", memberIds: $m, context: \"course:42\"}) { id context memberCount myRole } }",
            json!({"m": [alice.id, bob.id, tutor]}),
        )
        .await?["createGroupConversation"]
        .clone();
    assert_eq!(group["context"], "course:42");
    assert_eq!(group["memberCount"], 3);
    assert_eq!(group["myRole"], json!(null));
    let c = group["id"].clone();
    assert_eq!(
        roles(&app, &[&alice, &bob, &carol], &c).await?,
        [json!("OWNER"), json!("MEMBER"), json!(null)]
    );

    // Members in and out, roles, and ownership handed over.
    app.admin(
        "mutation($c: ID!, $u: ID!) { addMembers(conversationId: $c, userIds: [$u]) { id } }",
        json!({"c": c, "u": carol.id}),
    )
    .await?;
    app.admin(
        "mutation($c: ID!, $u: ID!) { setMemberRole(conversationId: $c, userId: $u, role: ADMIN) { id } }",
        json!({"c": c, "u": bob.id}),
    )
    .await?;
    app.admin(
        "mutation($c: ID!, $u: ID!) { setMemberRole(conversationId: $c, userId: $u, role: OWNER) { id } }",
        json!({"c": c, "u": carol.id}),
    )
    .await?;
    assert_eq!(
        roles(&app, &[&alice, &bob, &carol], &c).await?,
        [json!("ADMIN"), json!("ADMIN"), json!("OWNER")]
    );
    app.admin(
        "mutation($c: ID!, $u: ID!) { removeMember(conversationId: $c, userId: $u) { id } }",
        json!({"c": c, "u": bob.id}),
    )
    .await?;
    let gone = app
        .gql(
            Some(&bob.token),
            "query($c: ID!) { conversation(id: $c) { id } }",
            json!({"c": c}),
        )
        .await?;
    assert_eq!(gone["data"]["conversation"], json!(null), "{gone}");

    // Settings the host app owns.
    let updated = app
        .admin(
            "mutation($c: ID!) { updateConversation(input: {id: $c, description: \"Weekly problem sets\", metadata: {courseId: 42}}) { description metadata } }",
            json!({"c": c}),
        )
        .await?;
    assert_eq!(
        updated["updateConversation"],
        json!({"description": "Weekly problem sets", "metadata": {"courseId": 42}})
    );

    // Each change is a SYSTEM notice with no sender and no acting user.
    let timeline = app
        .ok(
            &alice.token,
            "query($c: ID!) { conversation(id: $c) { unreadCount messages { nodes { kind sender { id } metadata } } } }",
            json!({"c": c}),
        )
        .await?;
    let notices = timeline["conversation"]["messages"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let types: Vec<&str> = notices
        .iter()
        .filter_map(|n| n["metadata"]["type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "members_added",
            "role_changed",
            "role_changed",
            "member_removed",
            "conversation_updated"
        ],
        "{timeline:#}"
    );
    for notice in &notices {
        assert_eq!(notice["kind"], "SYSTEM", "{notice}");
        assert_eq!(notice["sender"], json!(null), "{notice}");
        assert_eq!(notice["metadata"]["actorId"], json!(null), "{notice}");
    }
    assert_eq!(timeline["conversation"]["unreadCount"], 0);

    // Deleted for everyone, restored, then gone for good.
    let visible = |who: &parley_tests::TestUser| {
        let token = who.token.clone();
        let app = &app;
        let c = c.clone();
        async move {
            let seen = app
                .ok(
                    &token,
                    "query($c: ID!) { conversation(id: $c) { id } }",
                    json!({"c": c}),
                )
                .await?;
            anyhow::Ok(!seen["conversation"].is_null())
        }
    };
    app.admin(
        "mutation($c: ID!) { deleteConversation(id: $c) }",
        json!({"c": c}),
    )
    .await?;
    assert!(!visible(&alice).await? && !visible(&carol).await?);
    app.admin(
        "mutation($c: ID!) { restoreConversation(id: $c) { id } }",
        json!({"c": c}),
    )
    .await?;
    assert!(visible(&alice).await? && visible(&carol).await?);
    app.admin(
        "mutation($c: ID!) { deleteConversationPermanently(id: $c) }",
        json!({"c": c}),
    )
    .await?;
    let restore = app
        .gql(
            Some(jwt::ADMIN_KEY),
            "mutation($c: ID!) { restoreConversation(id: $c) { id } }",
            json!({"c": c}),
        )
        .await?;
    assert_eq!(error_code(&restore), "NOT_FOUND");
    Ok(())
}

#[tokio::test]
async fn the_admin_key_names_the_owner_and_bad_groups_write_nothing() -> anyhow::Result<()> {
    let app = spawn_host_app().await?;
    let alice = app.register("alice").await?;
    for (members, field) in [
        (json!([]), "memberIds"),
        (json!(["VXNlcjo5OTk5OTk5"]), "memberIds"),
        (json!([alice.id, "VXNlcjo5OTk5OTk5"]), "memberIds"),
    ] {
        let response = app
            .gql(
                Some(jwt::ADMIN_KEY),
                "mutation($m: [ID!]!) { createGroupConversation(input: {title: \"t\", memberIds: $m}) { id } }",
                json!({"m": members}),
            )
            .await?;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
        assert_eq!(
            response["errors"][0]["extensions"]["field"], field,
            "{response}"
        );
    }
    let listed = app
        .ok(
            &alice.token,
            "{ conversations { nodes { id } } }",
            json!({}),
        )
        .await?;
    assert_eq!(listed["conversations"]["nodes"], json!([]));
    Ok(())
}
