use std::time::Duration;

use parley_tests::{error_code, spawn_app, spawn_app_with};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token user { username } } }";

#[tokio::test]
async fn register_login_me_and_logout() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let alice = app.register("Alice").await?;

    let me = app
        .ok(
            &alice.token,
            "{ me { id username displayName } }",
            json!({}),
        )
        .await?;
    assert_eq!(me["me"]["id"], alice.id);
    assert_eq!(me["me"]["username"], "Alice");
    assert_eq!(me["me"]["displayName"], "Alice");

    // Usernames are case-insensitive for login and uniqueness.
    let login = app
        .gql(None, LOGIN, json!({"u": "ALICE", "p": "correct horse"}))
        .await?;
    let token = login["data"]["login"]["token"].as_str().unwrap().to_owned();
    assert_ne!(token, alice.token);
    let taken = app
        .gql(None, "mutation { register(input: {username: \"alice\", password: \"whatever1\"}) { token } }", json!({}))
        .await?;
    assert_eq!(error_code(&taken), "CONFLICT");
    assert_eq!(taken["errors"][0]["extensions"]["field"], "username");

    // Logout revokes only the token it was called with.
    let out = app.ok(&token, "mutation { logout }", json!({})).await?;
    assert_eq!(out["logout"], true);
    let after = app.gql(Some(&token), "{ me { id } }", json!({})).await?;
    assert_eq!(error_code(&after), "UNAUTHENTICATED");
    app.ok(&alice.token, "{ me { id } }", json!({})).await?;
    Ok(())
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    app.register("bob").await?;
    let wrong = app
        .gql(None, LOGIN, json!({"u": "bob", "p": "not the password"}))
        .await?;
    let unknown = app
        .gql(None, LOGIN, json!({"u": "nobody", "p": "not the password"}))
        .await?;
    assert_eq!(error_code(&wrong), "UNAUTHENTICATED");
    assert_eq!(error_code(&unknown), "UNAUTHENTICATED");
    assert_eq!(wrong["errors"], unknown["errors"]);

    // Both run exactly one full argon2 verification, so neither answers
    // faster (counted, not timed: timings are noise on a busy machine).
    for user in ["bob", "nobody"] {
        let before = app.service.password_verifications();
        app.gql(None, LOGIN, json!({"u": user, "p": "not the password"}))
            .await?;
        assert_eq!(
            app.service.password_verifications() - before,
            1,
            "a login as {user} must verify one password"
        );
    }
    Ok(())
}

#[tokio::test]
async fn tokens_are_stored_hashed_and_expire() -> anyhow::Result<()> {
    // The sessions are expired behind the server's back below, which its
    // session cache would not hear of for its lifetime.
    let app = spawn_app_with(|c| {
        c.token_ttl = Duration::from_secs(3600);
        c.session_cache = Duration::ZERO;
    })
    .await?;
    let register = app
        .gql(
            None,
            "mutation { register(input: {username: \"carol\", password: \"password1\"}) { token expiresAt user { id } } }",
            json!({}),
        )
        .await?;
    let payload = &register["data"]["register"];
    let token = payload["token"].as_str().unwrap().to_owned();
    // The configured lifetime is the one applied.
    let expires =
        chrono::DateTime::parse_from_rfc3339(payload["expiresAt"].as_str().unwrap()).unwrap();
    let lifetime = expires
        .signed_duration_since(chrono::Utc::now())
        .num_seconds();
    assert!(
        (3500..=3600).contains(&lifetime),
        "token lifetime {lifetime}s"
    );

    let db = app.service.db();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT token_hash FROM sessions",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stored: String = rows[0].try_get_by_index(0).unwrap();
    assert_eq!(stored, service::accounts::hash_token(&token));
    let me = app.ok(&token, "{ me { id } }", json!({})).await?;
    assert_eq!(me["me"]["id"], payload["user"]["id"]);

    // Expire every session: the token stops working.
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "UPDATE sessions SET expires_at = created_at",
    ))
    .await
    .unwrap();
    let expired = app.gql(Some(&token), "{ me { id } }", json!({})).await?;
    assert_eq!(error_code(&expired), "UNAUTHENTICATED");
    assert_eq!(expired["errors"][0]["message"], "invalid or expired token");
    Ok(())
}

#[tokio::test]
async fn anonymous_and_garbage_tokens_are_unauthenticated() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    for token in [None, Some("garbage"), Some("")] {
        let response = app.gql(token, "{ me { id } }", json!({})).await?;
        assert_eq!(error_code(&response), "UNAUTHENTICATED", "token {token:?}");
    }
    Ok(())
}

#[tokio::test]
async fn bad_registrations_get_their_field_and_write_nothing() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let long_name = "x".repeat(33);
    let long_password = "p".repeat(1025);
    let long_display = "d".repeat(65);
    let cases = [
        (
            json!({"username": "ab", "password": "password1"}),
            "username",
        ),
        (
            json!({"username": long_name, "password": "password1"}),
            "username",
        ),
        (
            json!({"username": "has space", "password": "password1"}),
            "username",
        ),
        (
            json!({"username": "émile", "password": "password1"}),
            "username",
        ),
        (json!({"username": "dave", "password": "short"}), "password"),
        (
            json!({"username": "dave", "password": long_password}),
            "password",
        ),
        (
            json!({"username": "dave", "password": "password1", "displayName": "  "}),
            "displayName",
        ),
        (
            json!({"username": "dave", "password": "password1", "displayName": long_display}),
            "displayName",
        ),
    ];
    for (input, field) in cases {
        let response = app
            .gql(
                None,
                "mutation($i: RegisterInput!) { register(input: $i) { token } }",
                json!({"i": input}),
            )
            .await?;
        assert_eq!(error_code(&response), "BAD_USER_INPUT", "{input}");
        assert_eq!(
            response["errors"][0]["extensions"]["field"], field,
            "{input}"
        );
    }
    let db = app.service.db();
    let users = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM users",
        ))
        .await
        .unwrap();
    assert!(users.is_empty(), "a bad registration wrote a user");
    Ok(())
}

#[tokio::test]
async fn users_can_be_found_by_name() -> anyhow::Result<()> {
    // Everyone may be found here; tests/api/privacy.rs covers the default.
    let app = spawn_app_with(|c| {
        c.user_search = api::config::AudienceArg::Everyone;
    })
    .await?;
    let viewer = app.register("viewer").await?;
    for name in ["maria", "mario", "marco", "zed"] {
        app.register(name).await?;
    }
    let query = "query($s: String, $f: Int, $a: String) { users(search: $s, first: $f, after: $a) { nodes { username } pageInfo { hasNextPage endCursor } } }";
    let page = app
        .ok(&viewer.token, query, json!({"s": "MAR", "f": 2}))
        .await?;
    let names: Vec<_> = page["users"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["username"].clone())
        .collect();
    assert_eq!(names, vec!["marco", "maria"]);
    assert_eq!(page["users"]["pageInfo"]["hasNextPage"], true);
    let cursor = page["users"]["pageInfo"]["endCursor"].clone();
    let next = app
        .ok(
            &viewer.token,
            query,
            json!({"s": "mar", "f": 2, "a": cursor}),
        )
        .await?;
    assert_eq!(next["users"]["nodes"][0]["username"], "mario");
    assert_eq!(next["users"]["pageInfo"]["hasNextPage"], false);
    // LIKE wildcards are literal.
    let none = app.ok(&viewer.token, query, json!({"s": "%"})).await?;
    assert_eq!(none["users"]["nodes"].as_array().unwrap().len(), 0);
    Ok(())
}
