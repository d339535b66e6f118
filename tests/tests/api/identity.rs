//! Host-app sign-in with JWTs: users created on first sight, every way a
//! token can be bad, public keys, and sockets that re-check the token.

use api::{Application, Config, config::Secret};
use futures_util::future::join_all;
use parley_tests::{
    WsClient, error_code,
    jwt::{self, claims, hs256, now},
    spawn_app, spawn_app_with, spawn_host_app,
};
use serde_json::json;

const ME: &str =
    "{ me { id username displayName externalId avatarUrl isBot createdAt lastSeenAt } }";

#[tokio::test]
async fn a_jwt_signs_in_and_creates_its_user_once() -> anyhow::Result<()> {
    let app = spawn_host_app().await?;
    let sub = "0x52908400098527886E0F7030069857D2E4169EE7";
    let token = hs256(&json!({"sub": sub, "name": "Ada Lovelace", "exp": now() + 300}))?;
    let me = app.ok(&token, ME, json!({})).await?["me"].clone();
    assert_eq!(me["externalId"], sub);
    assert_eq!(me["displayName"], "Ada Lovelace");
    assert_eq!(me["isBot"], false);
    assert_eq!(me["avatarUrl"], json!(null));
    assert!(me["lastSeenAt"].is_string(), "{me}");
    let username = me["username"].as_str().unwrap();
    assert!(
        username.starts_with('~') && username.len() == 32,
        "{username}"
    );

    // The same sub is the same user; a new name does not rename it.
    let again = hs256(&json!({"sub": sub, "name": "Someone Else", "exp": now() + 300}))?;
    let me2 = app.ok(&again, ME, json!({})).await?["me"].clone();
    assert_eq!(me2["id"], me["id"]);
    assert_eq!(me2["displayName"], "Ada Lovelace");

    // Without a name, the sub (cut to 64 characters) is the display name.
    let long_sub = "u".repeat(100);
    let nameless = hs256(&claims(&long_sub, 300))?;
    let other = app.ok(&nameless, ME, json!({})).await?["me"].clone();
    assert_eq!(other["displayName"], "u".repeat(64));
    assert_eq!(other["externalId"], long_sub);
    assert_ne!(other["username"], me["username"]);

    // A JWT user chats like anyone: with a registered user, by user id.
    let bob = app.register("bob").await?;
    let conversation = app
        .ok(
            &token,
            "mutation($u: ID!) { openDirectConversation(userId: $u) { id } }",
            json!({"u": bob.id}),
        )
        .await?["openDirectConversation"]["id"]
        .clone();
    app.ok(
        &token,
        "mutation($c: ID!) { sendMessage(input: {conversationId: $c, body: \"hi\"}) { seq } }",
        json!({"c": conversation}),
    )
    .await?;
    let seen = app
        .ok(
            &bob.token,
            "query($c: ID!) { conversation(id: $c) { messages { nodes { body sender { displayName externalId } } } } }",
            json!({"c": conversation}),
        )
        .await?;
    assert_eq!(
        seen["conversation"]["messages"]["nodes"][0]["sender"],
        json!({"displayName": "Ada Lovelace", "externalId": sub})
    );
    let count = app
        .sql_ints(
            "SELECT COUNT(*) FROM users WHERE external_id = $1",
            vec![sub.into()],
        )
        .await?;
    assert_eq!(count, vec![1]);
    Ok(())
}

#[tokio::test]
async fn a_jwt_has_no_session_to_log_out_or_password_to_change() -> anyhow::Result<()> {
    let app = spawn_host_app().await?;
    let token = hs256(&claims("host-user-1", 300))?;
    let out = app.ok(&token, "mutation { logout }", json!({})).await?;
    assert_eq!(out["logout"], false);
    // Still valid: it ends at its exp.
    app.ok(&token, "{ me { id } }", json!({})).await?;

    let sessions = app
        .ok(&token, "{ sessions { nodes { id } } }", json!({}))
        .await?;
    assert_eq!(sessions["sessions"]["nodes"], json!([]));

    let change = app
        .gql(
            Some(&token),
            "mutation { changePassword(currentPassword: \"whatever1\", newPassword: \"whatever2\") }",
            json!({}),
        )
        .await?;
    assert_eq!(error_code(&change), "FORBIDDEN");
    // Nor can anyone log in as a JWT user: there is no password.
    let me = app.ok(&token, "{ me { username } }", json!({})).await?;
    let login = app
        .gql(
            None,
            "mutation($u: String!) { login(input: {username: $u, password: \"whatever1\"}) { token } }",
            json!({"u": me["me"]["username"]}),
        )
        .await?;
    assert_eq!(error_code(&login), "UNAUTHENTICATED");
    Ok(())
}

#[tokio::test]
async fn concurrent_first_sights_create_one_user() -> anyhow::Result<()> {
    let app = spawn_host_app().await?;
    let token = hs256(&json!({"sub": "racer", "name": "Racer", "exp": now() + 300}))?;
    let answers = join_all((0..12).map(|_| app.ok(&token, "{ me { id } }", json!({})))).await;
    let mut ids = answers
        .into_iter()
        .map(|a| a.map(|data| data["me"]["id"].clone()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let count = app
        .sql_ints(
            "SELECT COUNT(*) FROM users WHERE external_id = $1",
            vec!["racer".into()],
        )
        .await?;
    assert_eq!(count, vec![1]);
    Ok(())
}

#[tokio::test]
async fn bad_jwts_are_unauthenticated_and_create_nobody() -> anyhow::Result<()> {
    let app = spawn_host_app().await?;
    let later = now() + 300;
    let bad = [
        hs256(&json!({"sub": "a", "exp": now() - 2}))?,
        hs256(&json!({"sub": "a"}))?,
        hs256(&json!({"exp": later}))?,
        hs256(&json!({"sub": "a", "exp": later, "nbf": later}))?,
        hs256(&json!({"sub": "", "exp": later}))?,
        hs256(&json!({"sub": " padded", "exp": later}))?,
        hs256(&json!({"sub": "x".repeat(257), "exp": later}))?,
        hs256(&json!({"sub": 42, "exp": later}))?,
        jwt::hs256_with("another-secret-of-at-least-32-bytes!", &claims("a", 300))?,
        jwt::sign(
            jsonwebtoken::Algorithm::HS512,
            &jsonwebtoken::EncodingKey::from_secret(jwt::SECRET.as_bytes()),
            &claims("a", 300),
        )?,
        // alg "none", unsigned.
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhIiwiZXhwIjo5OTk5OTk5OTk5fQ.".into(),
        "a.b.c".into(),
    ];
    for token in &bad {
        let response = app.gql(Some(token), "{ me { id } }", json!({})).await?;
        assert_eq!(error_code(&response), "UNAUTHENTICATED", "{token}");
        assert_eq!(response["errors"][0]["message"], "invalid or expired token");
    }
    assert_eq!(
        app.sql_ints("SELECT COUNT(*) FROM users", vec![]).await?,
        vec![0]
    );

    // A server without JWT settings takes no JWT, however well signed.
    let plain = spawn_app().await?;
    let response = plain
        .gql(Some(&hs256(&claims("a", 300))?), "{ me { id } }", json!({}))
        .await?;
    assert_eq!(error_code(&response), "UNAUTHENTICATED");
    Ok(())
}

#[tokio::test]
async fn rs256_and_es256_public_keys_verify_their_tokens() -> anyhow::Result<()> {
    // RS256 from a file path, ES256 from the PEM text itself.
    let rs_path = jwt::fixture("rs256-public.pem").display().to_string();
    let es_text = std::fs::read_to_string(jwt::fixture("es256-public.pem"))?;
    for (pair, key) in [("rs256", rs_path), ("es256", es_text)] {
        let app = spawn_app_with(|c| c.jwt_public_key = Some(key.clone())).await?;
        let token = jwt::with_key_pair(pair, &claims(&format!("{pair}-user"), 300))?;
        let me = app.ok(&token, "{ me { externalId } }", json!({})).await?;
        assert_eq!(me["me"]["externalId"], format!("{pair}-user"), "{pair}");

        // The other pair's token, and HS256 keyed with the public key
        // text (the classic algorithm confusion), are refused.
        let other = if pair == "rs256" { "es256" } else { "rs256" };
        let public_pem = std::fs::read(jwt::fixture(&format!("{pair}-public.pem")))?;
        for token in [
            jwt::with_key_pair(other, &claims("intruder", 300))?,
            jwt::sign(
                jsonwebtoken::Algorithm::HS256,
                &jsonwebtoken::EncodingKey::from_secret(&public_pem),
                &claims("intruder", 300),
            )?,
        ] {
            let response = app.gql(Some(&token), "{ me { id } }", json!({})).await?;
            assert_eq!(error_code(&response), "UNAUTHENTICATED", "{pair}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn issuer_and_audience_are_required_when_configured() -> anyhow::Result<()> {
    let app = spawn_app_with(|c| {
        c.jwt_secret = Some(Secret::new(jwt::SECRET));
        c.jwt_issuer = Some("https://host.example".into());
        c.jwt_audience = Some("parley".into());
    })
    .await?;
    let exp = now() + 300;
    let good =
        hs256(&json!({"sub": "a", "exp": exp, "iss": "https://host.example", "aud": "parley"}))?;
    app.ok(&good, "{ me { id } }", json!({})).await?;
    for claims in [
        json!({"sub": "a", "exp": exp, "iss": "https://host.example"}),
        json!({"sub": "a", "exp": exp, "aud": "parley"}),
        json!({"sub": "a", "exp": exp, "iss": "https://host.example", "aud": "billing"}),
    ] {
        let response = app
            .gql(Some(&hs256(&claims)?), "{ me { id } }", json!({}))
            .await?;
        assert_eq!(error_code(&response), "UNAUTHENTICATED", "{claims}");
    }
    Ok(())
}

#[tokio::test]
async fn a_socket_ends_when_its_jwt_expires() -> anyhow::Result<()> {
    let app = spawn_host_app().await?;
    let token = hs256(&claims("socket-user", 2))?;
    let mut ws = app.ws(&token).await?;
    ws.subscribe("1", "{ me { externalId } }", json!({}))
        .await?;
    assert_eq!(
        ws.next_data("1").await?,
        json!({"data": {"me": {"externalId": "socket-user"}}})
    );
    assert_eq!(ws.next().await?["type"], "complete");

    // Once exp has passed, the socket ends, without waiting for another
    // operation.
    let (code, _) = ws.closed().await?;
    assert_eq!(code, 4403);

    // An expired JWT gets no connection_ack.
    let mut late = WsClient::connect(&app.ws_url(), "graphql-transport-ws").await?;
    late.send(
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}}),
    )
    .await?;
    assert_eq!(late.closed().await?.0, 4403);
    Ok(())
}

#[tokio::test]
async fn unusable_jwt_and_admin_settings_stop_the_server() -> anyhow::Result<()> {
    let private_key = std::fs::read_to_string(jwt::fixture("es256-private.pem"))?;
    type Adjust = Box<dyn Fn(&mut Config)>;
    let cases: [(&str, Adjust); 6] = [
        (
            "short secret",
            Box::new(|c| c.jwt_secret = Some(Secret::new("short"))),
        ),
        (
            "secret and key",
            Box::new(|c| {
                c.jwt_secret = Some(Secret::new(jwt::SECRET));
                c.jwt_public_key = Some(jwt::fixture("rs256-public.pem").display().to_string());
            }),
        ),
        (
            "private key",
            Box::new(move |c| c.jwt_public_key = Some(private_key.clone())),
        ),
        (
            "missing file",
            Box::new(|c| c.jwt_public_key = Some("/nonexistent/key.pem".into())),
        ),
        (
            "audience without key",
            Box::new(|c| c.jwt_audience = Some("parley".into())),
        ),
        (
            "short admin key",
            Box::new(|c| c.admin_key = Some(Secret::new("admin"))),
        ),
    ];
    for (case, adjust) in cases {
        let mut config = Config::for_database("sqlite::memory:")?;
        adjust(&mut config);
        let built = Application::build(config).await;
        assert!(
            matches!(built, Err(api::StartupError::Config(_))),
            "{case}: the server started"
        );
    }
    Ok(())
}
