//! Automatic persisted queries, as Apollo's persisted-query link and urql's
//! persistedExchange use them: hash only, miss, register with the text,
//! then hash only again; over POST, GET and WebSocket.

use parley_tests::{TestApp, error_code, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const QUERY: &str = "query Me { me { username } }";

fn hash(query: &str) -> String {
    format!("{:x}", Sha256::digest(query.as_bytes()))
}

fn extension(hash: &str) -> Value {
    json!({"persistedQuery": {"version": 1, "sha256Hash": hash}})
}

async fn post(app: &TestApp, token: &str, body: Value) -> anyhow::Result<(u16, Value)> {
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    Ok((response.status().as_u16(), response.json().await?))
}

#[tokio::test]
async fn a_hash_misses_then_registers_then_hits() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let user = app.register("apq").await?;
    let hash = hash(QUERY);

    // Unknown hash: the links retry with the text on this error.
    let (status, body) = post(&app, &user.token, json!({"extensions": extension(&hash)})).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    assert!(body.get("data").is_none(), "{body}");

    // Text and hash: it runs, and the hash is remembered.
    let (status, body) = post(
        &app,
        &user.token,
        json!({"query": QUERY, "extensions": extension(&hash)}),
    )
    .await?;
    assert_eq!(
        (status, &body["data"]["me"]["username"]),
        (200, &json!("apq"))
    );

    // Hash only: a hit.
    let (status, body) = post(&app, &user.token, json!({"extensions": extension(&hash)})).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["username"], "apq", "{body}");

    // Over GET, as `useGETForHashedQueries` sends it.
    let response = app
        .http
        .get(app.url("/graphql"))
        .query(&[("extensions", extension(&hash).to_string())])
        .bearer_auth(&user.token)
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await?;
    assert_eq!(body["data"]["me"]["username"], "apq", "{body}");

    // Over WebSocket.
    let mut ws = app.ws(&user.token).await?;
    ws.send(json!({"type": "subscribe", "id": "1", "payload": {"extensions": extension(&hash)}}))
        .await?;
    assert_eq!(ws.next_data("1").await?["data"]["me"]["username"], "apq");
    Ok(())
}

#[tokio::test]
async fn a_hash_that_is_not_the_querys_is_refused() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let user = app.register("liar").await?;
    let (status, body) = post(
        &app,
        &user.token,
        json!({"query": QUERY, "extensions": extension(&hash("{ __typename }"))}),
    )
    .await?;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_code(&body), "BAD_REQUEST");
    // Nothing was remembered under either hash.
    let (_, body) = post(
        &app,
        &user.token,
        json!({"extensions": extension(&hash(QUERY))}),
    )
    .await?;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
    // A malformed extension is a bad request, not a miss.
    let (status, body) = post(
        &app,
        &user.token,
        json!({"extensions": {"persistedQuery": {"version": 2, "sha256Hash": hash(QUERY)}}}),
    )
    .await?;
    assert_eq!((status, error_code(&body)), (400, "BAD_REQUEST"));
    Ok(())
}

#[tokio::test]
async fn a_persisted_mutation_over_get_is_still_refused() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let user = app.register("getter").await?;
    // Registered over POST (logging out is harmless to this test).
    let mutation = "mutation { logout }";
    let (status, body) = post(
        &app,
        &user.token,
        json!({"query": mutation, "extensions": extension(&hash(mutation))}),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    let response = app
        .http
        .get(app.url("/graphql"))
        .query(&[("extensions", extension(&hash(mutation)).to_string())])
        .send()
        .await?;
    assert_eq!(response.status(), 405);
    Ok(())
}

#[tokio::test]
async fn with_the_cache_off_hash_only_requests_are_not_supported() -> anyhow::Result<()> {
    let app = spawn_app_with(|c| c.apq_cache_size = 0).await?;
    let user = app.register("nocache").await?;
    let hash = hash(QUERY);
    let (status, body) = post(&app, &user.token, json!({"extensions": extension(&hash)})).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_SUPPORTED");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotSupported");
    // With the text it simply runs.
    let (_, body) = post(
        &app,
        &user.token,
        json!({"query": QUERY, "extensions": extension(&hash)}),
    )
    .await?;
    assert_eq!(body["data"]["me"]["username"], "nocache");
    Ok(())
}
