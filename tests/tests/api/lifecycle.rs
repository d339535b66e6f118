//! A conversation's life: contexts and filters, settings, archive, mute,
//! deletion and restoring, and `node(id)`.

use parley_tests::{TestApp, TestUser, error_code, spawn_app};
use serde_json::{Value, json};

const OPEN: &str = "mutation($u: ID!, $x: String) { openDirectConversation(userId: $u, context: $x) { id context } }";
const CREATE: &str =
    "mutation($i: CreateGroupConversationInput!) { createGroupConversation(input: $i) { id } }";
const LIST: &str =
    "query($f: ConversationFilter) { conversations(filter: $f, first: 50) { nodes { id } } }";
const UPDATE: &str = "mutation($i: UpdateConversationInput!) { updateConversation(input: $i) { id title description avatarUrl metadata } }";
const SETTINGS: &str =
    "query($c: ID!) { conversation(id: $c) { title description avatarUrl metadata lastSeq } }";
const STATS: &str = "{ unreadCount myStats { active archived deleted messagesSent unread } }";

fn field(response: &Value) -> &str {
    response["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("<none>")
}

async fn register_named(app: &TestApp, username: &str, display: &str) -> anyhow::Result<TestUser> {
    let response = app
        .gql(
            None,
            "mutation($u: String!, $d: String) { register(input: {username: $u, password: \"correct horse\", displayName: $d}) { token user { id } } }",
            json!({"u": username, "d": display}),
        )
        .await?;
    let payload = &response["data"]["register"];
    Ok(TestUser {
        id: payload["user"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("register failed: {response}"))
            .to_owned(),
        username: username.to_owned(),
        token: payload["token"].as_str().unwrap().to_owned(),
    })
}

async fn create_group(
    app: &TestApp,
    owner: &TestUser,
    title: &str,
    members: &[&TestUser],
) -> anyhow::Result<String> {
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let data = app
        .ok(
            &owner.token,
            CREATE,
            json!({"i": {"title": title, "memberIds": ids}}),
        )
        .await?;
    Ok(data["createGroupConversation"]["id"]
        .as_str()
        .unwrap()
        .to_owned())
}

/// The ids of `user`'s conversations under `filter`, in list order.
async fn list(app: &TestApp, user: &TestUser, filter: Value) -> anyhow::Result<Vec<String>> {
    let data = app.ok(&user.token, LIST, json!({"f": filter})).await?;
    Ok(data["conversations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect())
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

async fn stats(app: &TestApp, user: &TestUser) -> anyhow::Result<Value> {
    app.ok(&user.token, STATS, json!({})).await
}

/// `conversation(id)` as `viewer` sees it, with the viewer's state.
async fn conversation(app: &TestApp, viewer: &TestUser, id: &str) -> anyhow::Result<Value> {
    let response = app
        .gql(
            Some(&viewer.token),
            "query($c: ID!) { conversation(id: $c) { id unreadCount archived muted mutedUntil deletedAt } }",
            json!({"c": id}),
        )
        .await?;
    assert!(response.get("errors").is_none(), "{response}");
    Ok(response["data"]["conversation"].clone())
}

async fn send_code(app: &TestApp, user: &TestUser, id: &str) -> anyhow::Result<String> {
    let response = app
        .gql(
            Some(&user.token),
            "mutation($c: ID!) { sendMessage(input: {conversationId: $c, body: \"x\"}) { id } }",
            json!({"c": id}),
        )
        .await?;
    Ok(error_code(&response).to_owned())
}

#[tokio::test]
async fn a_context_gives_a_pair_one_conversation_per_subject() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let me = register_named(&app, "seller", "Sam Seller").await?;
    let buyer = register_named(&app, "buyer", "Marguerite Lindqvist").await?;
    let other = register_named(&app, "other", "Oscar Other").await?;

    let open = |user: &TestUser, with: &TestUser, context: Option<&str>| {
        let (token, u, x) = (
            user.token.clone(),
            with.id.clone(),
            context.map(str::to_owned),
        );
        let app = &app;
        async move {
            let data = app.ok(&token, OPEN, json!({"u": u, "x": x})).await?;
            anyhow::Ok(data["openDirectConversation"].clone())
        }
    };
    let first = open(&buyer, &me, Some("listing:1")).await?;
    let second = open(&buyer, &me, Some("listing:2")).await?;
    let plain = open(&buyer, &me, None).await?;
    let first_id = first["id"].as_str().unwrap().to_owned();
    assert_eq!(first["context"], "listing:1");
    assert_eq!(second["context"], "listing:2");
    assert_eq!(plain["context"], Value::Null);
    assert_ne!(first["id"], second["id"]);
    assert_ne!(first["id"], plain["id"]);
    assert_ne!(second["id"], plain["id"]);
    // The same context from the other side is the same conversation.
    assert_eq!(open(&me, &buyer, Some("listing:1")).await?["id"], first_id);
    assert_eq!(open(&buyer, &me, Some("listing:1")).await?["id"], first_id);
    // Another buyer about the same listing has their own.
    let other_first = open(&other, &me, Some("listing:1")).await?;
    assert_ne!(other_first["id"], first["id"]);

    let group = create_group(&app, &me, "Spring Hiking Trip", &[&other]).await?;

    // Filters.
    for user in [&me, &buyer] {
        let about = list(&app, user, json!({"context": "listing:1"})).await?;
        let expected = if user.id == me.id {
            sorted(vec![
                first_id.clone(),
                other_first["id"].as_str().unwrap().to_owned(),
            ])
        } else {
            vec![first_id.clone()]
        };
        assert_eq!(sorted(about), expected, "{user:?}");
    }
    assert_eq!(
        list(&app, &buyer, json!({"context": "listing:2"})).await?,
        vec![second["id"].as_str().unwrap().to_owned()]
    );
    assert_eq!(
        list(&app, &buyer, json!({"context": "listing:3"})).await?,
        Vec::<String>::new()
    );
    assert_eq!(
        list(&app, &me, json!({"kind": "GROUP"})).await?,
        vec![group.clone()]
    );
    let directs = list(&app, &me, json!({"kind": "DIRECT"})).await?;
    assert_eq!(directs.len(), 4, "{directs:?}");
    assert!(!directs.contains(&group));
    assert_eq!(
        list(&app, &me, json!({"kind": "GROUP", "context": "listing:1"})).await?,
        Vec::<String>::new()
    );

    // Search: a group's title and another member's display name, in any
    // case; never the viewer's own name.
    assert_eq!(
        list(&app, &me, json!({"search": "hIKING"})).await?,
        vec![group.clone()]
    );
    let by_name = list(&app, &me, json!({"search": "LINDQVIST"})).await?;
    assert_eq!(
        sorted(by_name),
        sorted(vec![
            first_id.clone(),
            second["id"].as_str().unwrap().to_owned(),
            plain["id"].as_str().unwrap().to_owned()
        ])
    );
    let by_member = list(&app, &me, json!({"search": "oscar"})).await?;
    assert_eq!(
        sorted(by_member),
        sorted(vec![
            other_first["id"].as_str().unwrap().to_owned(),
            group.clone()
        ])
    );
    assert_eq!(
        list(&app, &me, json!({"search": "sam seller"})).await?,
        Vec::<String>::new(),
        "the viewer's own name matches nothing"
    );
    assert_eq!(
        list(
            &app,
            &buyer,
            json!({"search": "sam seller", "context": "listing:2"})
        )
        .await?,
        vec![second["id"].as_str().unwrap().to_owned()]
    );
    assert_eq!(
        list(&app, &buyer, json!({"search": "hiking"})).await?,
        Vec::<String>::new(),
        "not a member of the group"
    );
    Ok(())
}

#[tokio::test]
async fn update_conversation_sets_and_validates_settings() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let owner = app.register("owner").await?;
    let admin = app.register("admin").await?;
    let member = app.register("member").await?;
    let group = create_group(&app, &owner, "Old name", &[&admin, &member]).await?;
    app.ok(
        &owner.token,
        "mutation($c: ID!, $u: ID!) { setMemberRole(conversationId: $c, userId: $u, role: ADMIN) { id } }",
        json!({"c": group, "u": admin.id}),
    )
    .await?;

    let metadata = json!({"listing": 8841, "tags": ["a", "b"], "nested": {"ok": true}});
    let updated = app
        .ok(
            &owner.token,
            UPDATE,
            json!({"i": {"id": group, "title": "New name", "description": "What we do",
                "avatarUrl": "https://example.com/a.png", "metadata": metadata}}),
        )
        .await?;
    assert_eq!(updated["updateConversation"]["title"], "New name");
    let expected = json!({"title": "New name", "description": "What we do",
        "avatarUrl": "https://example.com/a.png", "metadata": metadata});
    let read = |user: &TestUser| {
        let (app, token, group) = (&app, user.token.clone(), group.clone());
        async move {
            let data = app.ok(&token, SETTINGS, json!({"c": group})).await?;
            anyhow::Ok(data["conversation"].clone())
        }
    };
    let seen = read(&member).await?;
    for key in ["title", "description", "avatarUrl", "metadata"] {
        assert_eq!(seen[key], expected[key], "{key}: {seen}");
    }
    let last_seq = seen["lastSeq"].clone();

    // Bad input changes nothing, not even the valid fields beside it.
    let big = json!({"blob": "x".repeat(16 * 1024)});
    for (bad, name) in [
        (json!([1, 2, 3]), "metadata"),
        (json!("a string"), "metadata"),
        (json!(42), "metadata"),
        (big, "metadata"),
    ] {
        let response = app
            .gql(
                Some(&owner.token),
                UPDATE,
                json!({"i": {"id": group, "title": "Should not stick", "metadata": bad}}),
            )
            .await?;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
        assert_eq!(field(&response), name, "{response}");
    }
    let response = app
        .gql(
            Some(&owner.token),
            UPDATE,
            json!({"i": {"id": group, "title": "Should not stick", "avatarUrl": "ftp://x"}}),
        )
        .await?;
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
    assert_eq!(field(&response), "avatarUrl", "{response}");
    // A plain member may not change a group's settings.
    let response = app
        .gql(
            Some(&member.token),
            UPDATE,
            json!({"i": {"id": group, "title": "Should not stick"}}),
        )
        .await?;
    assert_eq!(error_code(&response), "FORBIDDEN", "{response}");
    let seen = read(&owner).await?;
    for key in ["title", "description", "avatarUrl", "metadata"] {
        assert_eq!(seen[key], expected[key], "{key}: {seen}");
    }
    assert_eq!(seen["lastSeq"], last_seq, "a refused change left a notice");

    // Just under the limit is fine; an admin may; null clears.
    let near = json!({"blob": "y".repeat(16 * 1024 - 100)});
    let updated = app
        .ok(
            &admin.token,
            UPDATE,
            json!({"i": {"id": group, "metadata": near, "description": null, "avatarUrl": null}}),
        )
        .await?;
    assert_eq!(updated["updateConversation"]["metadata"], near);
    let seen = read(&member).await?;
    assert_eq!(seen["title"], "New name");
    assert_eq!(seen["description"], Value::Null);
    assert_eq!(seen["avatarUrl"], Value::Null);
    assert_eq!(seen["metadata"], near);
    app.ok(
        &admin.token,
        UPDATE,
        json!({"i": {"id": group, "metadata": null}}),
    )
    .await?;
    assert_eq!(read(&member).await?["metadata"], Value::Null);

    // In a direct conversation, either person.
    let direct = app.open_direct(&owner, &member).await?;
    let renamed = app
        .ok(
            &member.token,
            UPDATE,
            json!({"i": {"id": direct, "description": "deal", "metadata": {"k": 1}}}),
        )
        .await?;
    assert_eq!(renamed["updateConversation"]["description"], "deal");
    assert_eq!(renamed["updateConversation"]["metadata"], json!({"k": 1}));
    Ok(())
}

#[tokio::test]
async fn archiving_hides_a_conversation_until_the_next_message() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let me = app.register("myself").await?;
    let friend = app.register("friend").await?;
    let id = app.open_direct(&me, &friend).await?;
    app.send(&friend, &id, "hi").await?;

    let archived = app
        .ok(
            &me.token,
            "mutation($c: ID!) { archiveConversation(id: $c) { id archived } }",
            json!({"c": id}),
        )
        .await?;
    assert_eq!(archived["archiveConversation"]["archived"], true);
    assert_eq!(list(&app, &me, json!({})).await?, Vec::<String>::new());
    assert_eq!(
        list(&app, &me, json!({"archived": false})).await?,
        Vec::<String>::new()
    );
    assert_eq!(
        list(&app, &me, json!({"archived": true})).await?,
        vec![id.clone()]
    );
    // Only for me.
    assert_eq!(list(&app, &friend, json!({})).await?, vec![id.clone()]);
    let totals = stats(&app, &me).await?;
    assert_eq!(totals["myStats"]["active"], 0, "{totals}");
    assert_eq!(totals["myStats"]["archived"], 1, "{totals}");
    // Still a conversation of mine.
    assert_eq!(conversation(&app, &me, &id).await?["archived"], true);

    // The other person writes: it is back.
    app.send(&friend, &id, "are you there?").await?;
    assert_eq!(list(&app, &me, json!({})).await?, vec![id.clone()]);
    assert_eq!(
        list(&app, &me, json!({"archived": true})).await?,
        Vec::<String>::new()
    );
    assert_eq!(conversation(&app, &me, &id).await?["archived"], false);
    let totals = stats(&app, &me).await?;
    assert_eq!(totals["myStats"]["active"], 1, "{totals}");
    assert_eq!(totals["myStats"]["archived"], 0, "{totals}");

    // Unarchiving by hand works too.
    app.ok(
        &me.token,
        "mutation($c: ID!) { archiveConversation(id: $c) { id } }",
        json!({"c": id}),
    )
    .await?;
    let back = app
        .ok(
            &me.token,
            "mutation($c: ID!) { unarchiveConversation(id: $c) { archived } }",
            json!({"c": id}),
        )
        .await?;
    assert_eq!(back["unarchiveConversation"]["archived"], false);
    assert_eq!(list(&app, &me, json!({})).await?, vec![id.clone()]);

    // A stranger cannot archive it.
    let eve = app.register("eve").await?;
    let response = app
        .gql(
            Some(&eve.token),
            "mutation($c: ID!) { archiveConversation(id: $c) { id } }",
            json!({"c": id}),
        )
        .await?;
    assert_eq!(error_code(&response), "NOT_FOUND", "{response}");
    Ok(())
}

#[tokio::test]
async fn muting_leaves_a_conversation_out_of_the_total_unread_count() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let me = app.register("myself").await?;
    let loud = app.register("loud").await?;
    let quiet = app.register("quiet").await?;
    let noisy = app.open_direct(&me, &loud).await?;
    let calm = app.open_direct(&me, &quiet).await?;
    app.send(&loud, &noisy, "one").await?;
    app.send(&loud, &noisy, "two").await?;
    app.send(&quiet, &calm, "hello").await?;
    assert_eq!(stats(&app, &me).await?["unreadCount"], 3);

    let mute = "mutation($c: ID!, $t: DateTime) { muteConversation(id: $c, until: $t) { muted mutedUntil unreadCount } }";
    let muted = app.ok(&me.token, mute, json!({"c": noisy})).await?;
    assert_eq!(muted["muteConversation"]["muted"], true);
    assert_eq!(muted["muteConversation"]["mutedUntil"], Value::Null);
    assert_eq!(muted["muteConversation"]["unreadCount"], 2);
    let totals = stats(&app, &me).await?;
    assert_eq!(totals["unreadCount"], 1, "{totals}");
    assert_eq!(totals["myStats"]["unread"], 1, "{totals}");
    // The conversation itself still counts.
    assert_eq!(conversation(&app, &me, &noisy).await?["unreadCount"], 2);
    app.send(&loud, &noisy, "three").await?;
    assert_eq!(stats(&app, &me).await?["unreadCount"], 1);
    assert_eq!(conversation(&app, &me, &noisy).await?["unreadCount"], 3);
    // Only for me.
    app.send(&me, &noisy, "shh").await?;
    assert_eq!(stats(&app, &loud).await?["unreadCount"], 1);

    // A mute that has already ended is refused.
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let response = app
        .gql(Some(&me.token), mute, json!({"c": calm, "t": past}))
        .await?;
    assert_eq!(error_code(&response), "BAD_USER_INPUT", "{response}");
    assert_eq!(field(&response), "until", "{response}");
    assert_eq!(conversation(&app, &me, &calm).await?["muted"], false);
    assert_eq!(stats(&app, &me).await?["unreadCount"], 1);

    // Muted until later: left out until then.
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let muted = app
        .ok(&me.token, mute, json!({"c": calm, "t": later.to_rfc3339()}))
        .await?;
    assert_eq!(muted["muteConversation"]["muted"], true);
    let until = chrono::DateTime::parse_from_rfc3339(
        muted["muteConversation"]["mutedUntil"].as_str().unwrap(),
    )?;
    assert!(
        (until.timestamp() - later.timestamp()).abs() <= 1,
        "{until}"
    );
    assert_eq!(stats(&app, &me).await?["unreadCount"], 0);

    // Unmuting brings the counts back.
    let unmute = "mutation($c: ID!) { unmuteConversation(id: $c) { muted mutedUntil } }";
    let unmuted = app.ok(&me.token, unmute, json!({"c": calm})).await?;
    assert_eq!(
        unmuted["unmuteConversation"],
        json!({"muted": false, "mutedUntil": null})
    );
    assert_eq!(stats(&app, &me).await?["unreadCount"], 1);
    app.ok(&me.token, unmute, json!({"c": noisy})).await?;
    // Sending "shh" read everything in `noisy`.
    assert_eq!(conversation(&app, &me, &noisy).await?["unreadCount"], 0);
    app.send(&loud, &noisy, "four").await?;
    let totals = stats(&app, &me).await?;
    assert_eq!(totals["unreadCount"], 2, "{totals}");
    assert_eq!(totals["myStats"]["unread"], 2, "{totals}");
    Ok(())
}

#[tokio::test]
async fn deleting_hides_a_conversation_for_everyone_until_restored() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let owner = app.register("owner").await?;
    let m1 = app.register("member1").await?;
    let m2 = app.register("member2").await?;
    let eve = app.register("eve").await?;
    let group = create_group(&app, &owner, "Doomed", &[&m1, &m2]).await?;
    // The owner writes only here, where nothing is deleted.
    let keep = app.open_direct(&owner, &m2).await?;
    app.send(&owner, &keep, "k1").await?;
    app.send(&owner, &keep, "k2").await?;
    app.send(&m1, &group, "g1").await?;
    app.send(&m1, &group, "g2").await?;
    let g3 = app.send(&m2, &group, "g3").await?;
    let g3_id = g3["id"].as_str().unwrap().to_owned();

    let expect = |totals: &Value, active, archived, deleted, sent, unread| {
        let s = &totals["myStats"];
        assert_eq!(
            (
                &s["active"],
                &s["archived"],
                &s["deleted"],
                &s["messagesSent"],
                &s["unread"]
            ),
            (
                &json!(active),
                &json!(archived),
                &json!(deleted),
                &json!(sent),
                &json!(unread)
            ),
            "{totals}"
        );
        assert_eq!(totals["unreadCount"], json!(unread), "{totals}");
    };
    expect(&stats(&app, &owner).await?, 2, 0, 0, 2, 3);
    // Archived counts separately.
    app.ok(
        &owner.token,
        "mutation($c: ID!) { archiveConversation(id: $c) { id } }",
        json!({"c": keep}),
    )
    .await?;
    expect(&stats(&app, &owner).await?, 1, 1, 0, 2, 3);
    expect(&stats(&app, &m1).await?, 1, 0, 0, 2, 1);

    let delete = "mutation($c: ID!) { deleteConversation(id: $c) }";
    let restore = "mutation($c: ID!) { restoreConversation(id: $c) { id deletedAt unreadCount } }";
    let purge = "mutation($c: ID!) { deleteConversationPermanently(id: $c) }";

    // Only the owner deletes a group; to others it does not exist.
    let response = app
        .gql(Some(&m1.token), delete, json!({"c": group}))
        .await?;
    assert_eq!(error_code(&response), "FORBIDDEN", "{response}");
    let response = app
        .gql(Some(&eve.token), delete, json!({"c": group}))
        .await?;
    assert_eq!(error_code(&response), "NOT_FOUND", "{response}");
    let response = app.gql(Some(&m2.token), purge, json!({"c": group})).await?;
    assert_eq!(error_code(&response), "FORBIDDEN", "{response}");
    assert!(!conversation(&app, &m1, &group).await?.is_null());

    let deleted = app.ok(&owner.token, delete, json!({"c": group})).await?;
    assert_eq!(deleted["deleteConversation"], true);
    for user in [&owner, &m1, &m2] {
        assert!(
            conversation(&app, user, &group).await?.is_null(),
            "{user:?}"
        );
        assert!(!list(&app, user, json!({})).await?.contains(&group));
        assert!(
            !list(&app, user, json!({"archived": true}))
                .await?
                .contains(&group)
        );
        assert_eq!(
            send_code(&app, user, &group).await?,
            "NOT_FOUND",
            "{user:?}"
        );
    }
    let node = app
        .gql(
            Some(&m1.token),
            "query($m: ID!) { node(id: $m) { id } }",
            json!({"m": g3_id}),
        )
        .await?;
    assert_eq!(node["data"]["node"], Value::Null, "{node}");
    expect(&stats(&app, &owner).await?, 0, 1, 1, 2, 0);
    // A member who is not the owner cannot restore it: not counted.
    let totals = stats(&app, &m1).await?;
    assert_eq!(
        (
            &totals["myStats"]["active"],
            &totals["myStats"]["deleted"],
            &totals["myStats"]["unread"],
            &totals["unreadCount"]
        ),
        (&json!(0), &json!(0), &json!(0), &json!(0)),
        "{totals}"
    );

    // Only the owner restores it; then everything is as it was, unread
    // counted afresh.
    let response = app
        .gql(Some(&m1.token), restore, json!({"c": group}))
        .await?;
    assert_eq!(error_code(&response), "FORBIDDEN", "{response}");
    let response = app
        .gql(Some(&eve.token), restore, json!({"c": group}))
        .await?;
    assert_eq!(error_code(&response), "NOT_FOUND", "{response}");
    let restored = app.ok(&owner.token, restore, json!({"c": group})).await?;
    assert_eq!(restored["restoreConversation"]["deletedAt"], Value::Null);
    assert_eq!(restored["restoreConversation"]["unreadCount"], 3);
    assert_eq!(conversation(&app, &owner, &group).await?["unreadCount"], 3);
    assert_eq!(conversation(&app, &m1, &group).await?["unreadCount"], 1);
    // m2 wrote the last one.
    assert_eq!(conversation(&app, &m2, &group).await?["unreadCount"], 0);
    assert!(list(&app, &m2, json!({})).await?.contains(&group));
    expect(&stats(&app, &owner).await?, 1, 1, 0, 2, 3);
    expect(&stats(&app, &m1).await?, 1, 0, 0, 2, 1);
    let history = app
        .ok(
            &m2.token,
            "query($c: ID!) { conversation(id: $c) { messages { nodes { body } } } }",
            json!({"c": group}),
        )
        .await?;
    assert_eq!(
        history["conversation"]["messages"]["nodes"],
        json!([{"body": "g1"}, {"body": "g2"}, {"body": "g3"}])
    );
    app.send(&m1, &group, "g4").await?;
    assert_eq!(conversation(&app, &owner, &group).await?["unreadCount"], 4);

    // Gone for good: nothing to restore.
    let response = app
        .gql(Some(&eve.token), purge, json!({"c": group}))
        .await?;
    assert_eq!(error_code(&response), "NOT_FOUND", "{response}");
    let purged = app.ok(&owner.token, purge, json!({"c": group})).await?;
    assert_eq!(purged["deleteConversationPermanently"], true);
    for user in [&owner, &m1, &m2] {
        assert!(
            conversation(&app, user, &group).await?.is_null(),
            "{user:?}"
        );
    }
    let response = app
        .gql(Some(&owner.token), restore, json!({"c": group}))
        .await?;
    assert_eq!(error_code(&response), "NOT_FOUND", "{response}");
    let response = app
        .gql(Some(&owner.token), purge, json!({"c": group}))
        .await?;
    assert_eq!(error_code(&response), "NOT_FOUND", "{response}");
    expect(&stats(&app, &owner).await?, 0, 1, 0, 2, 0);
    expect(&stats(&app, &m1).await?, 0, 0, 0, 0, 0);

    // Either person deletes a direct conversation; a deleted one can be
    // purged too.
    let direct = app.open_direct(&m1, &m2).await?;
    app.send(&m1, &direct, "psst").await?;
    app.ok(&m2.token, delete, json!({"c": direct})).await?;
    let totals = stats(&app, &m1).await?;
    assert_eq!(totals["myStats"]["deleted"], 1, "{totals}");
    assert_eq!(totals["myStats"]["active"], 0, "{totals}");
    assert!(conversation(&app, &m1, &direct).await?.is_null());
    app.ok(&m1.token, purge, json!({"c": direct})).await?;
    expect(&stats(&app, &m1).await?, 0, 0, 0, 0, 0);
    let response = app
        .gql(Some(&m2.token), restore, json!({"c": direct}))
        .await?;
    assert_eq!(error_code(&response), "NOT_FOUND", "{response}");
    Ok(())
}

#[tokio::test]
async fn node_resolves_what_the_viewer_may_see() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.register("alpha").await?;
    let b = app.register("bravo").await?;
    let eve = app.register("eve").await?;
    let id = app.open_direct(&a, &b).await?;
    let message = app.send(&a, &id, "for bravo only").await?;
    let message_id = message["id"].as_str().unwrap().to_owned();
    let query = "query($n: ID!) { node(id: $n) { __typename id
        ... on User { username }
        ... on Conversation { title kind }
        ... on Message { body seq sender { username } } } }";
    let node = |user: &TestUser, target: &str| {
        let (app, token, target) = (&app, user.token.clone(), target.to_owned());
        async move {
            let response = app.gql(Some(&token), query, json!({"n": target})).await?;
            assert!(response.get("errors").is_none(), "{response}");
            anyhow::Ok(response["data"]["node"].clone())
        }
    };

    assert_eq!(
        node(&a, &b.id).await?,
        json!({"__typename": "User", "id": b.id, "username": "bravo"})
    );
    assert_eq!(
        node(&a, &id).await?,
        json!({"__typename": "Conversation", "id": id, "title": "bravo", "kind": "DIRECT"})
    );
    assert_eq!(
        node(&b, &id).await?["title"],
        "alpha",
        "the title is as the viewer sees it"
    );
    assert_eq!(
        node(&b, &message_id).await?,
        json!({"__typename": "Message", "id": message_id, "body": "for bravo only",
               "seq": 1, "sender": {"username": "alpha"}})
    );

    // A non-member sees users, but not the conversation or its messages.
    assert_eq!(node(&eve, &a.id).await?["username"], "alpha");
    assert_eq!(node(&eve, &id).await?, Value::Null);
    assert_eq!(node(&eve, &message_id).await?, Value::Null);
    // Ids that name nothing.
    for missing in [
        "VXNlcjo5OTk5",
        "Q29udmVyc2F0aW9uOjk5OTk",
        "TWVzc2FnZTo5OTk5",
    ] {
        assert_eq!(node(&a, missing).await?, Value::Null, "{missing}");
    }
    let garbage = app
        .gql(Some(&a.token), query, json!({"n": "garbage!"}))
        .await?;
    assert_eq!(error_code(&garbage), "BAD_USER_INPUT", "{garbage}");
    assert_eq!(field(&garbage), "id");
    Ok(())
}

#[tokio::test]
async fn a_deleted_conversation_cannot_be_read_into_the_unread_count() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let owner = app.register("owner").await?;
    let member = app.register("member").await?;
    let group = create_group(&app, &owner, "Doomed", &[&member]).await?;
    for body in ["one", "two", "three"] {
        app.send(&owner, &group, body).await?;
    }
    assert_eq!(stats(&app, &member).await?["unreadCount"], 3);
    app.ok(
        &owner.token,
        "mutation($c: ID!) { deleteConversation(id: $c) }",
        json!({"c": group}),
    )
    .await?;
    assert_eq!(stats(&app, &member).await?["unreadCount"], 0);

    // Marking part of it read is refused like any other use of it, and
    // does not bring its messages back into the member's total.
    let mark = app
        .gql(
            Some(&member.token),
            "mutation($c: ID!) { markRead(input: {conversationId: $c, upToSeq: 1}) { id unreadCount deletedAt } }",
            json!({"c": group}),
        )
        .await?;
    let totals = stats(&app, &member).await?;
    assert_eq!(totals["unreadCount"], 0, "{totals} after {mark}");
    assert_eq!(totals["myStats"]["unread"], 0, "{totals} after {mark}");
    assert_eq!(error_code(&mark), "NOT_FOUND", "{mark}");
    Ok(())
}

#[tokio::test]
async fn a_deletion_past_its_retention_is_neither_restorable_nor_counted() -> anyhow::Result<()> {
    let app = parley_tests::spawn_app_with(|config| {
        config.delete_retention = std::time::Duration::from_secs(1);
    })
    .await?;
    let a = app.register("alpha").await?;
    let b = app.register("bravo").await?;
    let id = app.open_direct(&a, &b).await?;
    app.send(&b, &id, "hello").await?;
    app.ok(
        &a.token,
        "mutation($c: ID!) { deleteConversation(id: $c) }",
        json!({"c": id}),
    )
    .await?;
    assert_eq!(stats(&app, &a).await?["myStats"]["deleted"], 1);

    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let restore = app
        .gql(
            Some(&a.token),
            "mutation($c: ID!) { restoreConversation(id: $c) { id } }",
            json!({"c": id}),
        )
        .await?;
    assert_eq!(error_code(&restore), "NOT_FOUND", "{restore}");
    // `deleted` counts what can still be restored: nothing now.
    let totals = stats(&app, &a).await?;
    assert_eq!(totals["myStats"]["deleted"], 0, "{totals}");
    Ok(())
}
