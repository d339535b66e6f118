//! Hostile clients: one client must not stall, flood or outlast its rights.
//! Each test names the item of issue 12 it covers.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use parley_tests::{TestApp, WsClient, error_code, jwt, spawn_app, spawn_app_with, spawn_host_app};
use serde_json::{Value, json};
use service::accounts::Rate;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};

const EVENTS: &str = "subscription { events { __typename } }";
const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }";

fn rate(burst: u32, secs: u64) -> Option<Rate> {
    Some(Rate {
        burst: std::num::NonZeroU32::new(burst).unwrap(),
        every: Duration::from_secs(secs),
    })
}

async fn login(app: &TestApp, username: &str, password: &str) -> Result<Value> {
    app.gql(None, LOGIN, json!({"u": username, "p": password}))
        .await
}

async fn login_token(app: &TestApp, username: &str) -> Result<String> {
    let response = login(app, username, "correct horse").await?;
    match response["data"]["login"]["token"].as_str() {
        Some(token) => Ok(token.to_owned()),
        None => bail!("login failed: {response}"),
    }
}

/// True when the socket still answers: a ping gets its pong.
async fn answers(ws: &mut WsClient) -> Result<bool> {
    ws.send(json!({"type": "ping"})).await?;
    loop {
        let message = ws.next().await?;
        if message["type"] == "pong" {
            return Ok(true);
        }
    }
}

// 1. One socket's burst of subscribes must not freeze the server.
#[tokio::test]
async fn a_subscribe_burst_on_one_socket_leaves_other_clients_fast() -> Result<()> {
    let app = spawn_app().await?;
    let flooder = app.register("flooder").await?;
    let other = app.register("bystander").await?;
    let conversation = app.open_direct(&flooder, &other).await?;
    let mut ws = app.ws(&flooder.token).await?;

    // 100 subscribes written at once, while the other client queries.
    let burst = async {
        for i in 0..100 {
            let (query, variables) = if i % 2 == 0 {
                (EVENTS.to_owned(), json!({}))
            } else {
                (
                    "subscription($c: ID!) { messageAdded(conversationId: $c, afterSeq: 0) { id } }"
                        .to_owned(),
                    json!({"c": conversation}),
                )
            };
            ws.subscribe(&format!("s{i}"), &query, variables).await?;
        }
        Ok::<_, anyhow::Error>(())
    };
    let queries = async {
        let mut latencies = Vec::new();
        for _ in 0..60 {
            let started = Instant::now();
            app.ok(
                &other.token,
                "{ me { id } conversations(first: 5) { nodes { id } } }",
                json!({}),
            )
            .await?;
            latencies.push(started.elapsed());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok::<_, anyhow::Error>(latencies)
    };
    let (sent, latencies) = tokio::join!(burst, queries);
    sent?;
    let mut latencies = latencies?;
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100 - 1];
    assert!(
        p99 < Duration::from_millis(250),
        "the other client's p99 was {p99:?}"
    );

    // The flooder's socket survived, and its subscriptions work.
    app.send(&other, &conversation, "still there?").await?;
    let mut got_message = false;
    for _ in 0..200 {
        let message = ws.next().await?;
        assert_ne!(message["type"], "error", "{message}");
        if message["type"] == "next" && message["payload"]["data"]["messageAdded"]["id"].is_string()
        {
            got_message = true;
            break;
        }
    }
    assert!(got_message);
    assert!(answers(&mut ws).await?);
    Ok(())
}

// 2. Revoked or expired credentials end their sockets at once.
#[tokio::test]
async fn logout_revoke_and_password_change_close_the_sessions_sockets() -> Result<()> {
    let app = spawn_app().await?;
    let user = app.register("revokee").await?;
    let second = login_token(&app, "revokee").await?;
    let third = login_token(&app, "revokee").await?;
    let fourth = login_token(&app, "revokee").await?;

    // logout: that session's sockets close with 4403, the others stay.
    let mut first_a = app.ws(&user.token).await?;
    let mut first_b = app.ws(&user.token).await?;
    first_a.subscribe("e", EVENTS, json!({})).await?;
    let mut other = app.ws(&second).await?;
    other.subscribe("e", EVENTS, json!({})).await?;
    app.ok(&user.token, "mutation { logout }", json!({}))
        .await?;
    assert_eq!(first_a.closed().await?.0, 4403);
    assert_eq!(first_b.closed().await?.0, 4403);
    assert!(answers(&mut other).await?);

    // revokeSession: the revoked one closes.
    let mut revoked = app.ws(&third).await?;
    revoked.subscribe("e", EVENTS, json!({})).await?;
    let sessions = app
        .ok(&second, "{ sessions { nodes { id current } } }", json!({}))
        .await?;
    let nodes = sessions["sessions"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // Newest first: fourth, third, second.
    let third_id = nodes[1]["id"].as_str().unwrap().to_owned();
    app.ok(
        &second,
        "mutation($id: ID!) { revokeSession(id: $id) }",
        json!({"id": third_id}),
    )
    .await?;
    assert_eq!(revoked.closed().await?.0, 4403);
    assert!(answers(&mut other).await?);

    // changePassword: every other session's sockets close, not this one's.
    let mut last = app.ws(&fourth).await?;
    last.subscribe("e", EVENTS, json!({})).await?;
    app.ok(
        &second,
        "mutation { changePassword(currentPassword: \"correct horse\", newPassword: \"battery staple\") }",
        json!({}),
    )
    .await?;
    assert_eq!(last.closed().await?.0, 4403);
    assert!(answers(&mut other).await?);
    Ok(())
}

#[tokio::test]
async fn an_expiring_session_closes_its_socket_at_the_expiry_time() -> Result<()> {
    let app = spawn_app_with(|c| c.token_ttl = Duration::from_secs(2)).await?;
    let user = app.register("expiring").await?;
    let started = Instant::now();
    let mut ws = app.ws(&user.token).await?;
    ws.subscribe("e", EVENTS, json!({})).await?;
    assert_eq!(ws.closed().await?.0, 4403);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(5),
        "closed after {took:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_jwt_socket_closes_at_exp() -> Result<()> {
    let app = spawn_host_app().await?;
    let token = jwt::hs256(&jwt::claims("exp-socket", 2))?;
    let mut ws = app.ws(&token).await?;
    ws.subscribe("e", EVENTS, json!({})).await?;
    assert_eq!(ws.closed().await?.0, 4403);
    Ok(())
}

// 3. Password guessing is rate limited, and each alias counts.
#[tokio::test]
async fn wrong_passwords_are_rate_limited_per_account_with_a_retry_time() -> Result<()> {
    let app = spawn_app_with(|c| c.login_rate_account = rate(3, 60)).await?;
    app.register("guessed").await?;
    app.register("bystander").await?;
    let before = app.service.password_verifications();
    for _ in 0..3 {
        let response = login(&app, "guessed", "wrong guess").await?;
        assert_eq!(error_code(&response), "UNAUTHENTICATED", "{response}");
    }
    let limited = login(&app, "guessed", "correct horse").await?;
    assert_eq!(error_code(&limited), "RATE_LIMITED", "{limited}");
    let retry = limited["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_u64()
        .unwrap();
    assert!((1..=60).contains(&retry), "retry after {retry}");
    // Refused before any hashing work.
    assert_eq!(app.service.password_verifications() - before, 3);
    // Another account is not affected; usernames match in any case.
    login_token(&app, "bystander").await?;
    let shouted = login(&app, "GUESSED", "correct horse").await?;
    assert_eq!(error_code(&shouted), "RATE_LIMITED");
    Ok(())
}

#[tokio::test]
async fn every_alias_of_a_login_counts() -> Result<()> {
    let app = spawn_app_with(|c| c.login_rate_account = rate(3, 60)).await?;
    app.register("aliased").await?;
    let before = app.service.password_verifications();
    let mut query = String::from("mutation {");
    for i in 0..10 {
        let password = if i == 9 {
            "correct horse"
        } else {
            "wrong guess"
        };
        query.push_str(&format!(
            " a{i}: login(input: {{username: \"aliased\", password: \"{password}\"}}) {{ token }}"
        ));
    }
    query.push('}');
    let response = app.gql(None, &query, json!({})).await?;
    let errors = response["errors"].as_array().unwrap();
    let limited = errors
        .iter()
        .filter(|e| e["extensions"]["code"] == "RATE_LIMITED")
        .count();
    assert_eq!(limited, 7, "{response}");
    assert!(response["data"].is_null() || response["data"]["a9"].is_null());
    assert_eq!(app.service.password_verifications() - before, 3);
    Ok(())
}

#[tokio::test]
async fn logins_and_registrations_are_limited_per_address() -> Result<()> {
    let app = spawn_app_with(|c| {
        c.login_rate_address = rate(4, 60);
        c.register_rate_address = rate(2, 60);
        c.trust_forwarded_for = true;
    })
    .await?;
    app.register("first").await?;
    app.register("second").await?;
    let third = app
        .gql(
            None,
            "mutation { register(input: {username: \"third\", password: \"correct horse\"}) { token } }",
            json!({}),
        )
        .await?;
    assert_eq!(error_code(&third), "RATE_LIMITED", "{third}");

    for i in 0..4 {
        let response = login(&app, &format!("nobody{i}"), "wrong guess").await?;
        assert_eq!(error_code(&response), "UNAUTHENTICATED");
    }
    let response = login(&app, "first", "correct horse").await?;
    assert_eq!(error_code(&response), "RATE_LIMITED");

    // Behind a trusted proxy, the client is the forwarded address.
    let response: Value = app
        .http
        .post(app.url("/graphql"))
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({"query": LOGIN, "variables": {"u": "first", "p": "correct horse"}}))
        .send()
        .await?
        .json()
        .await?;
    assert!(response["data"]["login"]["token"].is_string(), "{response}");
    Ok(())
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_trusted() -> Result<()> {
    let app = spawn_app_with(|c| c.login_rate_address = rate(1, 60)).await?;
    app.register("proxied").await?;
    login_token(&app, "proxied").await?;
    let response: Value = app
        .http
        .post(app.url("/graphql"))
        .header("x-forwarded-for", "203.0.113.10")
        .json(&json!({"query": LOGIN, "variables": {"u": "proxied", "p": "correct horse"}}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(error_code(&response), "RATE_LIMITED", "{response}");
    Ok(())
}

// 4. Many concurrent logins share a few reused hash buffers (the memory
// figures are in `parley-bench abuse`).
#[tokio::test]
async fn concurrent_logins_all_succeed_on_few_hash_buffers() -> Result<()> {
    let app = spawn_app_with(|c| c.max_concurrent_hashes = 1).await?;
    app.register("crowd").await?;
    let logins = (0..8).map(|_| login_token(&app, "crowd"));
    let tokens = futures_util::future::try_join_all(logins).await?;
    assert_eq!(tokens.len(), 8);
    let wrong = login(&app, "crowd", "not it at all").await?;
    assert_eq!(error_code(&wrong), "UNAUTHENTICATED");
    Ok(())
}

// 5. Document limits.
#[tokio::test]
async fn document_limits_refuse_aliases_tokens_directives_and_error_floods() -> Result<()> {
    let app = spawn_app().await?;
    let user = app.register("limits").await?;
    let limit_of = |response: &Value| {
        response["errors"][0]["extensions"]["limit"]
            .as_str()
            .unwrap_or("<none>")
            .to_owned()
    };

    let aliases: String = (0..16).map(|i| format!(" a{i}: me {{ id }}")).collect();
    let response = app
        .gql(Some(&user.token), &format!("{{{aliases} }}"), json!({}))
        .await?;
    assert_eq!(error_code(&response), "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(limit_of(&response), "aliases", "{response}");
    let fine: String = (0..15).map(|i| format!(" a{i}: me {{ id }}")).collect();
    app.ok(&user.token, &format!("{{{fine} }}"), json!({}))
        .await?;

    let tokens = format!("{{ me {{ {} }} }}", "id ".repeat(3000));
    let response = app.gql(Some(&user.token), &tokens, json!({})).await?;
    assert_eq!(limit_of(&response), "tokens", "{response}");

    let directives = format!("{{ me {{ id {} }} }}", "@include(if: true) ".repeat(60));
    let response = app.gql(Some(&user.token), &directives, json!({})).await?;
    // async-graphql checks this one while parsing.
    assert_eq!(error_code(&response), "GRAPHQL_PARSE_FAILED", "{response}");
    assert!(response["data"].is_null());

    let unknown = format!(
        "{{ me {{ {} }} }}",
        (0..300).map(|i| format!("f{i} ")).collect::<String>()
    );
    let response = app.gql(Some(&user.token), &unknown, json!({})).await?;
    let errors = response["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 101, "{response}");
    assert_eq!(errors[100]["extensions"]["limit"], "errors");
    Ok(())
}

// 6. Production mode.
#[tokio::test]
async fn production_mode_hides_graphiql_introspection_and_suggestions() -> Result<()> {
    let app = spawn_app_with(|c| c.production = true).await?;
    let user = app.register("prod").await?;
    let page = app.http.get(app.url("/")).send().await?;
    assert_eq!(page.status(), 404);

    let query = "{ __schema { queryType { name } } }";
    let anonymous = app.gql(None, query, json!({})).await?;
    assert!(anonymous["data"]["__schema"].is_null(), "{anonymous}");
    let signed_in = app.ok(&user.token, query, json!({})).await?;
    assert_eq!(signed_in["__schema"]["queryType"]["name"], "Query");

    let typo = app
        .gql(
            Some(&user.token),
            "{ conversationz { nodes { id } } }",
            json!({}),
        )
        .await?;
    let message = typo["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(!message.contains("Did you mean"), "{message}");

    let dev = spawn_app().await?;
    assert_eq!(dev.http.get(dev.url("/")).send().await?.status(), 200);
    let typo = dev
        .gql(
            Some(&dev.register("dev").await?.token),
            "{ conversationz { nodes { id } } }",
            json!({}),
        )
        .await?;
    assert!(
        typo["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Did you mean"),
        "{typo}"
    );
    Ok(())
}

// 7. Connections that outlive their use.
#[tokio::test]
async fn slow_headers_and_slow_bodies_are_cut_off() -> Result<()> {
    let app = spawn_app_with(|c| {
        c.header_read_timeout = Duration::from_secs(1);
        c.body_read_timeout = Duration::from_secs(1);
    })
    .await?;

    // Headers a byte at a time: the connection is closed.
    let mut slow = TcpStream::connect(app.addr).await?;
    let started = Instant::now();
    slow.write_all(b"GET /health HTTP/1.1\r\n").await?;
    let mut buffer = [0u8; 1024];
    let ended = loop {
        if started.elapsed() > Duration::from_secs(6) {
            break false;
        }
        let _ = slow.write_all(b"x").await;
        match tokio::time::timeout(Duration::from_millis(500), slow.read(&mut buffer)).await {
            Ok(Ok(_)) | Ok(Err(_)) => break true,
            Err(_) => continue,
        }
    };
    assert!(ended, "the slow header was not cut off");
    assert!(started.elapsed() < Duration::from_secs(4));

    // A body a byte at a time: 408.
    let started = Instant::now();
    let answer = trickle_a_body(&app).await?;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(4));
    Ok(())
}

#[tokio::test]
async fn a_request_past_the_request_timeout_gets_503() -> Result<()> {
    let app = spawn_app_with(|c| {
        c.request_timeout = Duration::from_secs(1);
        c.body_read_timeout = Duration::from_secs(30);
    })
    .await?;
    // A body that keeps coming, slower than the request may take.
    let started = Instant::now();
    let answer = trickle_a_body(&app).await?;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3));
    Ok(())
}

#[tokio::test]
async fn a_peer_that_never_answers_pings_is_closed_and_goes_offline() -> Result<()> {
    let app = spawn_app_with(|c| {
        c.ws_keepalive = Duration::from_millis(300);
        c.ws_pong_timeout = Duration::from_millis(500);
    })
    .await?;
    let silent = app.register("silent").await?;
    let watcher = app.register("watcher").await?;
    app.open_direct(&silent, &watcher).await?;
    let mut ws = app.ws(&silent.token).await?;
    let online = "query($u: ID!) { user(id: $u) { online } }";
    let seen = app
        .ok(&watcher.token, online, json!({"u": silent.id}))
        .await?;
    assert_eq!(seen["user"]["online"], true);

    // Not reading means not answering pings.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let seen = app
        .ok(&watcher.token, online, json!({"u": silent.id}))
        .await?;
    assert_eq!(seen["user"]["online"], false);
    // The close frame (1011) waits behind the pings; answering those now
    // may already fail, the server having hung up.
    match ws.closed().await {
        Ok((code, _)) => assert_eq!(code, 1011),
        Err(err) => assert!(err.to_string().contains("socket error"), "{err}"),
    }

    // A peer that answers stays.
    let mut alive = app.ws(&watcher.token).await?;
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        // Reading answers pings (the client library pongs automatically).
        let _ = alive.quiet_for(Duration::from_millis(100)).await;
    }
    assert!(answers(&mut alive).await?);
    Ok(())
}

#[tokio::test]
async fn sockets_are_capped_per_user_and_per_address() -> Result<()> {
    let app = spawn_app_with(|c| {
        c.ws_max_per_user = 2;
        c.ws_max_per_address = 3;
    })
    .await?;
    let user = app.register("hoarder").await?;
    let other = app.register("neighbour").await?;
    let _a = app.ws(&user.token).await?;
    let _b = app.ws(&user.token).await?;
    let mut c = WsClient::connect(&app.ws_url(), "graphql-transport-ws").await?;
    c.send(json!({"type": "connection_init", "payload": {"token": user.token}}))
        .await?;
    assert_eq!(c.closed().await?.0, 4429);
    drop(c);

    let _d = app.ws(&other.token).await?;
    // The address has three open: the fourth is refused before upgrading.
    let refused = WsClient::connect(&app.ws_url(), "graphql-transport-ws").await;
    let text = format!("{:?}", refused.err());
    assert!(text.contains("429"), "{text}");
    Ok(())
}

#[tokio::test]
async fn an_ipv6_client_counts_per_64_against_the_socket_cap() -> Result<()> {
    let app = spawn_app_with(|c| {
        c.trust_forwarded_for = true;
        c.ws_max_per_address = 1;
    })
    .await?;
    let connect = |forwarded: &'static str| {
        let url = app.ws_url();
        async move {
            let mut request = url.into_client_request()?;
            request.headers_mut().insert(
                "sec-websocket-protocol",
                HeaderValue::from_static("graphql-transport-ws"),
            );
            request
                .headers_mut()
                .insert("x-forwarded-for", HeaderValue::from_static(forwarded));
            match tokio_tungstenite::connect_async(request).await {
                Ok((socket, _)) => Ok::<_, anyhow::Error>((101, Some(socket))),
                Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                    Ok((response.status().as_u16(), None))
                }
                Err(err) => Err(err.into()),
            }
        }
    };
    let (first, _held) = connect("2001:db8:1:2::1").await?;
    assert_eq!(first, 101);
    // Another address of the same /64 is the same client.
    assert_eq!(connect("2001:db8:1:2::ffff").await?.0, 429);
    // Another /64 is not.
    let (other, _also_held) = connect("2001:db8:1:3::1").await?;
    assert_eq!(other, 101);
    Ok(())
}

// 8. Cross-site WebSocket hijacking.
async fn connect_from(app: &TestApp, origin: &str) -> Result<u16> {
    let mut request = app.ws_url().into_client_request()?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    request
        .headers_mut()
        .insert("origin", HeaderValue::from_str(origin)?);
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => Ok(101),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Ok(response.status().as_u16())
        }
        Err(err) => Err(err.into()),
    }
}

#[tokio::test]
async fn websockets_from_foreign_origins_are_refused() -> Result<()> {
    let app = spawn_app_with(|c| c.cors_origins = vec!["https://app.example.com".into()]).await?;
    assert_eq!(connect_from(&app, "https://evil.example").await?, 403);
    assert_eq!(connect_from(&app, "null").await?, 403);
    assert_eq!(connect_from(&app, "https://app.example.com").await?, 101);
    assert_eq!(connect_from(&app, "http://localhost:5173").await?, 101);
    assert_eq!(
        connect_from(&app, &format!("http://{}", app.addr)).await?,
        101
    );
    Ok(())
}

// 9. Bad input that was not handled.
#[tokio::test]
async fn nul_characters_are_bad_input_on_their_field() -> Result<()> {
    let app = spawn_app().await?;
    let a = app.register("nulsender").await?;
    let b = app.register("nulreader").await?;
    let conversation = app.open_direct(&a, &b).await?;
    let field_of = |response: &Value| {
        (
            error_code(response).to_owned(),
            response["errors"][0]["extensions"]["field"]
                .as_str()
                .unwrap_or("<none>")
                .to_owned(),
        )
    };
    let send = "mutation($c: ID!, $b: String!, $k: String) { sendMessage(input: {conversationId: $c, body: $b, clientMessageId: $k}) { id } }";
    let response = app
        .gql(
            Some(&a.token),
            send,
            json!({"c": conversation, "b": "a\u{0}b"}),
        )
        .await?;
    assert_eq!(
        field_of(&response),
        ("BAD_USER_INPUT".into(), "body".into()),
        "{response}"
    );
    let response = app
        .gql(
            Some(&a.token),
            send,
            json!({"c": conversation, "b": "ok", "k": "k\u{0}"}),
        )
        .await?;
    assert_eq!(
        field_of(&response),
        ("BAD_USER_INPUT".into(), "clientMessageId".into())
    );

    let message = app.send(&a, &conversation, "to edit").await?;
    let response = app
        .gql(
            Some(&a.token),
            "mutation($id: ID!, $b: String!) { editMessage(id: $id, body: $b) { id } }",
            json!({"id": message["id"], "b": "x\u{0}"}),
        )
        .await?;
    assert_eq!(
        field_of(&response),
        ("BAD_USER_INPUT".into(), "body".into())
    );

    let response = login(&app, "nul\u{0}sender", "correct horse").await?;
    assert_eq!(
        field_of(&response),
        ("BAD_USER_INPUT".into(), "username".into())
    );

    let response = app
        .gql(
            Some(&a.token),
            "query($q: String!) { searchMessages(query: $q) { nodes { __typename } } }",
            json!({"q": "to\u{0}edit"}),
        )
        .await?;
    assert_eq!(
        field_of(&response),
        ("BAD_USER_INPUT".into(), "query".into()),
        "{response}"
    );
    Ok(())
}

#[tokio::test]
async fn unreadable_argument_values_carry_a_code() -> Result<()> {
    let app = spawn_app().await?;
    let a = app.register("muter").await?;
    let b = app.register("mutee").await?;
    let conversation = app.open_direct(&a, &b).await?;
    let response = app
        .gql(
            Some(&a.token),
            "mutation($c: ID!) { muteConversation(id: $c, until: \"garbage\") { id } }",
            json!({"c": conversation}),
        )
        .await?;
    let errors = response["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    for error in errors {
        assert!(error["extensions"]["code"].is_string(), "{response}");
    }
    Ok(())
}

#[tokio::test]
async fn background_tasks_find_the_tables_right_after_start() -> Result<()> {
    // The purge runs first thing after start; on a fresh SQLite file it
    // used to find no tables now and then (a pooled connection with the
    // schema from before the migrations).
    for _ in 0..10 {
        let db = parley_tests::TestDb::new().await?;
        let config = api::Config::for_database(db.url())?;
        let app = api::Application::build(config).await?;
        app.service().purge_deleted().await?;
        app.service().prune_events().await?;
    }
    Ok(())
}

/// Starts a `POST /graphql` with a 100-byte body and sends a space of it
/// every 200 ms (a body that keeps coming, slowly) until the server
/// answers or hangs up, for at most 6 s; returns what it answered.
async fn trickle_a_body(app: &TestApp) -> Result<String> {
    let started = Instant::now();
    let mut slow = TcpStream::connect(app.addr).await?;
    slow.write_all(
        format!(
            "POST /graphql HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{",
            app.addr
        )
        .as_bytes(),
    )
    .await?;
    let mut buffer = [0u8; 1024];
    let mut answer = Vec::new();
    while started.elapsed() < Duration::from_secs(6) {
        let _ = slow.write_all(b" ").await;
        match tokio::time::timeout(Duration::from_millis(200), slow.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buffer[..n]);
                break;
            }
            Err(_) => continue,
        }
    }
    Ok(String::from_utf8_lossy(&answer).into_owned())
}
