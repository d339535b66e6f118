//! Data rights: `exportMyData` holds exactly the viewer's own data, and a
//! deleted account (`deleteMyAccount`, the host app's `deleteUser`)
//! leaves no row that names its person.

use anyhow::{Context, Result};
use parley_tests::{TestApp, TestUser, decode_id, error_code, jwt, spawn_app_with, spawn_host_app};
use serde_json::{Value, json};

const EXPORT: &str = "query($a: String, $f: Int) { exportMyData(after: $a, first: $f) }";
const REACT: &str =
    "mutation($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { id } }";
const REPLY: &str = "mutation($c: ID!, $b: String!, $r: ID) { sendMessage(input: {conversationId: $c, body: $b, replyToId: $r}) { id } }";
const HISTORY: &str = "query($c: ID!) { conversation(id: $c) { members { nodes { user { username } role } } messages(last: 50) { nodes { kind body sender { id } deletedAt replyCount } } } }";

/// The account to delete: a name distinctive enough that any text
/// containing it names them.
const NAME: &str = "zanzibar7";

struct World {
    app: TestApp,
    doomed: TestUser,
    ben: TestUser,
    cat: TestUser,
    direct: String,
    group: String,
    /// The doomed user's thread root in the group, which ben replied to.
    root: String,
}

async fn world(app: TestApp) -> Result<World> {
    let doomed = app.register(NAME).await?;
    let ben = app.register("ben").await?;
    let cat = app.register("cat").await?;
    let direct = app.open_direct(&doomed, &ben).await?;
    let group = app
        .ok(
            &doomed.token,
            "mutation($m: [ID!]!) { createGroupConversation(input: {title: \"club\", memberIds: $m}) { id } }",
            json!({"m": [ben.id, cat.id]}),
        )
        .await?["createGroupConversation"]["id"]
        .as_str()
        .context("group id")?
        .to_owned();
    // A system message that names them: "zanzibar7 added dan".
    let dan = app.register("dan").await?;
    app.ok(
        &doomed.token,
        "mutation($c: ID!, $u: ID!) { addMembers(conversationId: $c, userIds: [$u]) { id } }",
        json!({"c": group, "u": dan.id}),
    )
    .await?;
    let mine = app.send(&doomed, &direct, "mine one").await?["id"].clone();
    app.send(&doomed, &direct, "mine two").await?;
    let theirs = app.send(&ben, &direct, "bens words").await?["id"].clone();
    let root = app.send(&doomed, &group, "mine three").await?["id"]
        .as_str()
        .context("root id")?
        .to_owned();
    app.ok(
        &ben.token,
        REPLY,
        json!({"c": group, "b": "bens reply", "r": root}),
    )
    .await?;
    app.ok(&ben.token, REACT, json!({"m": mine, "e": "🎉"}))
        .await?;
    app.ok(&doomed.token, REACT, json!({"m": theirs, "e": "👍"}))
        .await?;
    app.ok(
        &doomed.token,
        "mutation($c: ID!) { markRead(input: {conversationId: $c}) { id } }",
        json!({"c": direct}),
    )
    .await?;
    Ok(World {
        app,
        doomed,
        ben,
        cat,
        direct,
        group,
        root,
    })
}

fn bodies(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["body"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn the_export_holds_exactly_the_viewers_data_in_pages() -> Result<()> {
    let w = world(spawn_host_app().await?).await?;
    let first = w.app.ok(&w.doomed.token, EXPORT, json!({"f": 2})).await?["exportMyData"].clone();
    assert_eq!(first["profile"]["username"], NAME);
    assert_eq!(first["profile"]["id"], json!(w.doomed.id));
    assert_eq!(first["profile"]["hasPassword"], true);
    assert!(first["profile"].get("passwordHash").is_none());
    assert_eq!(first["sessions"].as_array().map(Vec::len), Some(1));
    let memberships: Vec<&Value> = first["memberships"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| &m["conversationId"])
        .collect();
    assert_eq!(memberships, vec![&json!(w.direct), &json!(w.group)]);
    assert_eq!(first["memberships"][1]["role"], "OWNER");
    assert_eq!(bodies(&first), vec!["mine one", "mine two"]);
    // Only the reaction they made, not the one they got.
    assert_eq!(
        first["reactions"],
        json!([{"messageId": first["reactions"][0]["messageId"], "conversationId": w.direct, "emoji": "👍", "createdAt": first["reactions"][0]["createdAt"]}])
    );
    let next = first["next"].as_str().context("a next page")?;
    let second = w
        .app
        .ok(&w.doomed.token, EXPORT, json!({"f": 2, "a": next}))
        .await?["exportMyData"]
        .clone();
    assert!(second.get("profile").is_none());
    assert_eq!(bodies(&second), vec!["mine three"]);
    assert_eq!(second["reactions"], json!([]));
    assert_eq!(second["next"], Value::Null);
    // Nothing anyone else wrote is anywhere in it.
    let whole = format!("{first}{second}");
    for foreign in ["bens words", "bens reply", "🎉", "ben", &w.cat.id] {
        assert!(!whole.contains(foreign), "{foreign} in {whole}");
    }
    // Ben's export has his, not theirs.
    let bens = w.app.ok(&w.ben.token, EXPORT, json!({})).await?["exportMyData"].clone();
    assert_eq!(bodies(&bens), vec!["bens words", "bens reply"]);
    let too_many = w
        .app
        .gql(Some(&w.ben.token), EXPORT, json!({"f": 1001}))
        .await?;
    assert_eq!(error_code(&too_many), "BAD_USER_INPUT");
    Ok(())
}

/// Every row that could name the deleted user, counted straight from the
/// database: all must be zero.
async fn rows_naming(app: &TestApp, user_id: i64) -> Result<Vec<(&'static str, i64)>> {
    let checks = [
        (
            "users",
            format!(
                "SELECT COUNT(*) FROM users WHERE id = {user_id} OR username_key = '{NAME}' OR display_name = '{NAME}'"
            ),
        ),
        (
            "sessions",
            format!("SELECT COUNT(*) FROM sessions WHERE user_id = {user_id}"),
        ),
        (
            "members",
            format!("SELECT COUNT(*) FROM conversation_members WHERE user_id = {user_id}"),
        ),
        (
            "reactions",
            format!("SELECT COUNT(*) FROM reactions WHERE user_id = {user_id}"),
        ),
        (
            "messages sent",
            format!("SELECT COUNT(*) FROM messages WHERE sender_id = {user_id}"),
        ),
        (
            "message text",
            format!(
                "SELECT COUNT(*) FROM messages WHERE body LIKE '%{NAME}%' OR metadata LIKE '%{NAME}%' OR body LIKE 'mine %'"
            ),
        ),
        (
            "message ids",
            format!(
                "SELECT COUNT(*) FROM messages WHERE metadata LIKE '%\"actorId\":{user_id}%' OR metadata LIKE '%\"userId\":{user_id}%' OR metadata LIKE '%[{user_id}]%' OR metadata LIKE '%,{user_id}]%' OR metadata LIKE '%[{user_id},%' OR metadata LIKE '%,{user_id},%'"
            ),
        ),
        (
            "edits",
            "SELECT COUNT(*) FROM message_edits WHERE body LIKE 'mine %'".to_owned(),
        ),
        (
            "conversations",
            format!(
                "SELECT COUNT(*) FROM conversations WHERE created_by = {user_id} OR direct_key LIKE '%{user_id}:%' OR direct_key LIKE '%:{user_id}%'"
            ),
        ),
        (
            "events",
            format!(
                "SELECT COUNT(*) FROM events WHERE user_id = {user_id} OR only_user_id = {user_id} OR data LIKE '%\"actorId\":{user_id}%' OR data LIKE '%\"userId\":{user_id}%' OR data LIKE '%\"newOwnerId\":{user_id}%'"
            ),
        ),
    ];
    let mut found = Vec::new();
    for (what, sql) in checks {
        let count = app.sql_ints(&sql, vec![]).await?;
        found.push((what, count.first().copied().unwrap_or(-1)));
    }
    Ok(found)
}

fn none(found: &[(&'static str, i64)]) -> Vec<(&'static str, i64)> {
    found.iter().map(|(what, _)| (*what, 0)).collect()
}

#[tokio::test]
async fn deleting_ones_account_ends_sessions_and_leaves_nothing_that_names_them() -> Result<()> {
    let w = world(spawn_host_app().await?).await?;
    let user_id = decode_id(&w.doomed.id)?;
    let before = rows_naming(&w.app, user_id).await?;
    // The checks see the user while they exist.
    for (what, count) in &before {
        if [
            "users",
            "sessions",
            "members",
            "reactions",
            "messages sent",
            "message text",
            "message ids",
            "events",
        ]
        .contains(what)
        {
            assert!(*count > 0, "{what}: {before:?}");
        }
    }
    let mut socket = w.app.ws(&w.doomed.token).await?;
    let wrong = w
        .app
        .gql(
            Some(&w.doomed.token),
            "mutation { deleteMyAccount(password: \"not it at all\") }",
            json!({}),
        )
        .await?;
    assert_eq!(error_code(&wrong), "BAD_USER_INPUT");
    assert_eq!(wrong["errors"][0]["extensions"]["field"], "password");
    let missing = w
        .app
        .gql(
            Some(&w.doomed.token),
            "mutation { deleteMyAccount }",
            json!({}),
        )
        .await?;
    assert_eq!(error_code(&missing), "BAD_USER_INPUT");
    let done = w
        .app
        .ok(
            &w.doomed.token,
            "mutation { deleteMyAccount(password: \"correct horse\") }",
            json!({}),
        )
        .await?;
    assert_eq!(done["deleteMyAccount"], true);
    assert_eq!(socket.closed().await?.0, 4403);
    let me = w
        .app
        .gql(Some(&w.doomed.token), "{ me { id } }", json!({}))
        .await?;
    assert_eq!(error_code(&me), "UNAUTHENTICATED");
    let found = rows_naming(&w.app, user_id).await?;
    assert_eq!(found, none(&found));

    // What the others see: tombstones without a sender, a system message
    // about "a deleted user", and the group passed on.
    let direct = w
        .app
        .ok(&w.ben.token, HISTORY, json!({"c": w.direct}))
        .await?["conversation"]
        .clone();
    assert_eq!(
        direct["members"]["nodes"],
        json!([{"user": {"username": "ben"}, "role": "MEMBER"}])
    );
    let nodes = direct["messages"]["nodes"].as_array().context("messages")?;
    let mine: Vec<&Value> = nodes.iter().filter(|m| m["kind"] == "TEXT").collect();
    assert_eq!(mine.len(), 3);
    for m in &mine[..2] {
        assert_eq!(m["body"], "");
        assert_eq!(m["sender"], Value::Null);
        assert!(m["deletedAt"].is_string());
    }
    assert_eq!(mine[2]["body"], "bens words");
    assert_eq!(
        nodes.last().map(|m| m["body"].clone()),
        Some(json!("a deleted user left"))
    );
    let group = w
        .app
        .ok(&w.cat.token, HISTORY, json!({"c": w.group}))
        .await?["conversation"]
        .clone();
    assert_eq!(
        group["members"]["nodes"],
        json!([
            {"user": {"username": "ben"}, "role": "OWNER"},
            {"user": {"username": "cat"}, "role": "MEMBER"},
            {"user": {"username": "dan"}, "role": "MEMBER"},
        ])
    );
    let notices: Vec<&Value> = group["messages"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["kind"] == "SYSTEM")
        .map(|m| &m["body"])
        .collect();
    assert_eq!(
        notices,
        vec![
            &json!("a deleted user added dan"),
            &json!("a deleted user left; ben is now the owner"),
        ]
    );
    // Ben may still open a new direct conversation with someone else, and
    // the deleted user is gone from search and ids.
    let gone = w
        .app
        .ok(
            &w.ben.token,
            "query($u: ID!) { user(id: $u) { id } }",
            json!({"u": w.doomed.id}),
        )
        .await?;
    assert_eq!(gone["user"], Value::Null);
    Ok(())
}

#[tokio::test]
async fn the_host_app_deletes_a_user_and_erase_removes_their_messages() -> Result<()> {
    let app = spawn_app_with(|c| {
        c.jwt_secret = Some(api::config::Secret::new(jwt::SECRET));
        c.admin_key = Some(api::config::Secret::new(jwt::ADMIN_KEY));
        c.deleted_account_messages = api::config::DeletedMessagesArg::Erase;
    })
    .await?;
    let w = world(app).await?;
    let user_id = decode_id(&w.doomed.id)?;
    let people = w
        .app
        .gql(
            Some(&w.ben.token),
            "mutation($u: ID!) { deleteUser(id: $u) }",
            json!({"u": w.doomed.id}),
        )
        .await?;
    assert_eq!(error_code(&people), "FORBIDDEN");
    let done = w
        .app
        .admin(
            "mutation($u: ID!) { deleteUser(id: $u) }",
            json!({"u": w.doomed.id}),
        )
        .await?;
    assert_eq!(done["deleteUser"], true, "{done}");
    let again = w
        .app
        .gql(
            Some(jwt::ADMIN_KEY),
            "mutation($u: ID!) { deleteUser(id: $u) }",
            json!({"u": w.doomed.id}),
        )
        .await?;
    assert_eq!(error_code(&again), "NOT_FOUND");
    let found = rows_naming(&w.app, user_id).await?;
    assert_eq!(found, none(&found));
    // Their direct messages are gone; the thread root ben replied to stays
    // as an empty tombstone so that the thread holds.
    let direct = w
        .app
        .ok(&w.ben.token, HISTORY, json!({"c": w.direct}))
        .await?["conversation"]["messages"]["nodes"]
        .clone();
    let texts: Vec<&Value> = direct
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["kind"] == "TEXT")
        .map(|m| &m["body"])
        .collect();
    assert_eq!(texts, vec![&json!("bens words")]);
    let root = w
        .app
        .ok(
            &w.cat.token,
            "query($m: ID!) { node(id: $m) { ... on Message { body sender { id } deletedAt replyCount } } }",
            json!({"m": w.root}),
        )
        .await?;
    assert_eq!(root["node"]["body"], "");
    assert_eq!(root["node"]["sender"], Value::Null);
    assert_eq!(root["node"]["replyCount"], 1);
    Ok(())
}

#[tokio::test]
async fn an_account_without_a_password_confirms_its_deletion() -> Result<()> {
    let app = spawn_host_app().await?;
    let token = jwt::hs256(&jwt::claims("ext-42", 600))?;
    app.ok(&token, "{ me { id } }", json!({})).await?;
    // A JWT's socket has no session row; it closes all the same.
    let mut socket = app.ws(&token).await?;
    let unconfirmed = app
        .gql(Some(&token), "mutation { deleteMyAccount }", json!({}))
        .await?;
    assert_eq!(error_code(&unconfirmed), "BAD_USER_INPUT");
    assert_eq!(unconfirmed["errors"][0]["extensions"]["field"], "confirm");
    let done = app
        .ok(
            &token,
            "mutation { deleteMyAccount(confirm: true) }",
            json!({}),
        )
        .await?;
    assert_eq!(done["deleteMyAccount"], true);
    assert_eq!(socket.closed().await?.0, 4403);
    let rows = app
        .sql_ints(
            "SELECT COUNT(*) FROM users WHERE external_id = 'ext-42'",
            vec![],
        )
        .await?;
    assert_eq!(rows, vec![0]);
    Ok(())
}
