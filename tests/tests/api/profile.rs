//! The viewer's own account: profile, password, sessions, last seen.

use parley_tests::{TestApp, error_code, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const UPDATE: &str =
    "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { id displayName avatarUrl } }";
const CHANGE: &str =
    "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";
const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }";
const SESSIONS: &str = "{ sessions { nodes { id createdAt expiresAt current } } }";

async fn login(app: &TestApp, username: &str, password: &str) -> anyhow::Result<Value> {
    app.gql(None, LOGIN, json!({"u": username, "p": password}))
        .await
}

async fn login_token(app: &TestApp, username: &str, password: &str) -> anyhow::Result<String> {
    let response = login(app, username, password).await?;
    response["data"]["login"]["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("login failed: {response}"))
}

#[tokio::test]
async fn update_profile_sets_keeps_and_clears_fields() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let alice = app.register("alice").await?;
    let bob = app.register("bob").await?;

    let set = app
        .ok(
            &alice.token,
            UPDATE,
            json!({"i": {"displayName": "  Alice A.  ", "avatarUrl": "HTTPS://CDN.example.com/a b.png"}}),
        )
        .await?;
    assert_eq!(
        set["updateProfile"],
        json!({"id": alice.id, "displayName": "Alice A.", "avatarUrl": "https://cdn.example.com/a%20b.png"})
    );
    // Others see it.
    let seen = app
        .ok(
            &bob.token,
            "query($u: ID!) { user(id: $u) { displayName avatarUrl } }",
            json!({"u": alice.id}),
        )
        .await?;
    assert_eq!(seen["user"]["displayName"], "Alice A.");

    // Left out: unchanged. `null` avatar: cleared, the name stays.
    let same = app.ok(&alice.token, UPDATE, json!({"i": {}})).await?;
    assert_eq!(same["updateProfile"], set["updateProfile"]);
    let cleared = app
        .ok(&alice.token, UPDATE, json!({"i": {"avatarUrl": null}}))
        .await?;
    assert_eq!(cleared["updateProfile"]["avatarUrl"], json!(null));
    assert_eq!(cleared["updateProfile"]["displayName"], "Alice A.");
    Ok(())
}

#[tokio::test]
async fn bad_profile_updates_name_their_field_and_write_nothing() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let alice = app.register("alice").await?;
    app.ok(
        &alice.token,
        UPDATE,
        json!({"i": {"avatarUrl": "https://example.com/a.png"}}),
    )
    .await?;
    let before = app
        .ok(&alice.token, "{ me { displayName avatarUrl } }", json!({}))
        .await?;
    let long_url = format!("https://example.com/{}", "a".repeat(2048));
    let cases = [
        (json!({"avatarUrl": "ftp://example.com/a.png"}), "avatarUrl"),
        (json!({"avatarUrl": "javascript:alert(1)"}), "avatarUrl"),
        (json!({"avatarUrl": "not a url"}), "avatarUrl"),
        (json!({"avatarUrl": ""}), "avatarUrl"),
        (json!({"avatarUrl": long_url}), "avatarUrl"),
        // A bad field spoils the good one next to it.
        (
            json!({"displayName": "New", "avatarUrl": "https://user:pw@example.com/a.png"}),
            "avatarUrl",
        ),
        (json!({"displayName": "   "}), "displayName"),
        (json!({"displayName": "d".repeat(65)}), "displayName"),
        (
            json!({"displayName": "d".repeat(65), "avatarUrl": null}),
            "displayName",
        ),
    ];
    for (input, field) in cases {
        let response = app
            .gql(Some(&alice.token), UPDATE, json!({"i": input}))
            .await?;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{input}");
        assert_eq!(
            response["errors"][0]["extensions"]["field"], field,
            "{input}"
        );
    }
    let after = app
        .ok(&alice.token, "{ me { displayName avatarUrl } }", json!({}))
        .await?;
    assert_eq!(after, before);
    Ok(())
}

#[tokio::test]
async fn change_password_keeps_this_session_and_ends_the_others() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let carol = app.register("carol").await?;
    let phone = login_token(&app, "carol", "correct horse").await?;
    let laptop = login_token(&app, "carol", "correct horse").await?;
    let dave = app.register("dave").await?;

    let changed = app
        .ok(
            &phone,
            CHANGE,
            json!({"c": "correct horse", "n": "battery staple"}),
        )
        .await?;
    assert_eq!(changed["changePassword"], true);

    app.ok(&phone, "{ me { id } }", json!({})).await?;
    for token in [&carol.token, &laptop] {
        let response = app.gql(Some(token), "{ me { id } }", json!({})).await?;
        assert_eq!(error_code(&response), "UNAUTHENTICATED");
    }
    // Someone else's sessions are untouched.
    app.ok(&dave.token, "{ me { id } }", json!({})).await?;

    let old = login(&app, "carol", "correct horse").await?;
    assert_eq!(error_code(&old), "UNAUTHENTICATED");
    login_token(&app, "carol", "battery staple").await?;
    Ok(())
}

#[tokio::test]
async fn change_password_checks_the_current_one_and_the_new_one() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let erin = app.register("erin").await?;
    let other = login_token(&app, "erin", "correct horse").await?;
    let cases = [
        (
            json!({"c": "wrong password", "n": "battery staple"}),
            "currentPassword",
        ),
        (
            json!({"c": "x".repeat(2000), "n": "battery staple"}),
            "currentPassword",
        ),
        (json!({"c": "correct horse", "n": "short"}), "newPassword"),
        (
            json!({"c": "correct horse", "n": "n".repeat(1025)}),
            "newPassword",
        ),
    ];
    for (variables, field) in cases {
        let response = app.gql(Some(&erin.token), CHANGE, variables).await?;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{field}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field);
    }
    // Nothing was written: every session lives, the password is the old one.
    app.ok(&other, "{ me { id } }", json!({})).await?;
    login_token(&app, "erin", "correct horse").await?;

    let anonymous = app
        .gql(
            None,
            CHANGE,
            json!({"c": "correct horse", "n": "battery staple"}),
        )
        .await?;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    Ok(())
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_by_their_owner_only() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let frank = app.register("frank").await?;
    let second = login_token(&app, "frank", "correct horse").await?;
    let grace = app.register("grace").await?;

    let listed = app.ok(&second, SESSIONS, json!({})).await?;
    let nodes = listed["sessions"]["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 2);
    // Newest first; the one asking is marked.
    assert_eq!(nodes[0]["current"], true);
    assert_eq!(nodes[1]["current"], false);
    assert!(nodes[0]["expiresAt"].as_str() > nodes[0]["createdAt"].as_str());
    let first_session = nodes[1]["id"].clone();

    // Paging.
    let page = app
        .ok(
            &second,
            "{ sessions(first: 1) { nodes { id } pageInfo { hasNextPage endCursor } } }",
            json!({}),
        )
        .await?;
    assert_eq!(page["sessions"]["pageInfo"]["hasNextPage"], true);
    let rest = app
        .ok(
            &second,
            "query($a: String) { sessions(first: 1, after: $a) { nodes { id } pageInfo { hasNextPage } } }",
            json!({"a": page["sessions"]["pageInfo"]["endCursor"]}),
        )
        .await?;
    assert_eq!(rest["sessions"]["nodes"][0]["id"], first_session);
    assert_eq!(rest["sessions"]["pageInfo"]["hasNextPage"], false);

    // Grace cannot revoke Frank's session: it does not exist for her.
    let revoke = "mutation($s: ID!) { revokeSession(id: $s) }";
    let foreign = app
        .gql(Some(&grace.token), revoke, json!({"s": first_session}))
        .await?;
    assert_eq!(error_code(&foreign), "NOT_FOUND");
    app.ok(&frank.token, "{ me { id } }", json!({})).await?;
    // A user id is not a session id.
    let wrong_kind = app
        .gql(Some(&second), revoke, json!({"s": frank.id}))
        .await?;
    assert_eq!(error_code(&wrong_kind), "BAD_USER_INPUT");
    assert_eq!(wrong_kind["errors"][0]["extensions"]["field"], "id");

    // Frank signs his first device out from the second.
    let revoked = app.ok(&second, revoke, json!({"s": first_session})).await?;
    assert_eq!(revoked["revokeSession"], true);
    let gone = app
        .gql(Some(&frank.token), "{ me { id } }", json!({}))
        .await?;
    assert_eq!(error_code(&gone), "UNAUTHENTICATED");
    let again = app
        .gql(Some(&second), revoke, json!({"s": first_session}))
        .await?;
    assert_eq!(error_code(&again), "NOT_FOUND");
    let left = app.ok(&second, SESSIONS, json!({})).await?;
    assert_eq!(left["sessions"]["nodes"].as_array().unwrap().len(), 1);
    Ok(())
}

#[tokio::test]
async fn last_seen_is_written_at_most_once_a_minute() -> anyhow::Result<()> {
    // `lastSeenAt` is set behind the server's back below, which its
    // session cache (holding the time it last wrote) would not see.
    let app = spawn_app_with(|c| c.session_cache = std::time::Duration::ZERO).await?;
    let henry = app.register("henry").await?;
    let seen = |data: &Value| -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(data["me"]["lastSeenAt"].as_str().unwrap())
            .unwrap()
            .into()
    };
    let query = "{ me { lastSeenAt } }";
    let user_id = app
        .sql_ints("SELECT id FROM users WHERE username_key = 'henry'", vec![])
        .await?[0];

    // Registering is being seen.
    let first = seen(&app.ok(&henry.token, query, json!({})).await?);
    assert!((chrono::Utc::now() - first).num_seconds() < 30);

    // Seen 30 seconds ago: fresh enough, not written again.
    let recent = chrono::Utc::now() - chrono::TimeDelta::seconds(30);
    set_last_seen(&app, user_id, recent).await?;
    let kept = seen(&app.ok(&henry.token, query, json!({})).await?);
    assert!(
        (kept - recent).num_milliseconds().abs() < 5,
        "{kept} vs {recent}"
    );

    // Two minutes ago: stale, so this request writes it.
    let stale = chrono::Utc::now() - chrono::TimeDelta::seconds(120);
    set_last_seen(&app, user_id, stale).await?;
    app.ok(&henry.token, "{ me { id } }", json!({})).await?;
    let renewed = seen(&app.ok(&henry.token, query, json!({})).await?);
    assert!(
        (chrono::Utc::now() - renewed).num_seconds() < 30,
        "{renewed}"
    );
    Ok(())
}

async fn set_last_seen(
    app: &TestApp,
    user_id: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    app.sql(
        "UPDATE users SET last_seen_at = $1 WHERE id = $2",
        vec![at.into(), user_id.into()],
    )
    .await
}
