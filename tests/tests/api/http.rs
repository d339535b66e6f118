//! GraphQL over HTTP: negotiation, status codes, limits, error hygiene.

use parley_tests::{error_code, spawn_app};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn post(
    app: &parley_tests::TestApp,
    accept: &str,
    content_type: &str,
    body: String,
) -> (u16, String, Value) {
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("accept", accept)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    (
        status,
        content_type,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn status_codes_follow_graphql_over_http() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let json_ct = "application/json";
    let query = |q: &str| json!({"query": q}).to_string();

    // A parse error and a validation error: 400 with the new media type...
    for (body, code) in [
        (query("{ me {"), "GRAPHQL_PARSE_FAILED"),
        (query("{ nope }"), "GRAPHQL_VALIDATION_FAILED"),
    ] {
        let (status, content_type, body) =
            post(&app, GRAPHQL_RESPONSE, json_ct, body.clone()).await;
        assert_eq!(status, 400);
        assert!(content_type.starts_with(GRAPHQL_RESPONSE), "{content_type}");
        assert_eq!(error_code(&body), code);
        assert!(
            body.get("data").is_none(),
            "a request error has no data: {body}"
        );
    }
    // ...and 200 for legacy JSON clients.
    let (status, content_type, body) =
        post(&app, "application/json", json_ct, query("{ nope }")).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("application/json"));
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");

    // An execution error is 200 with data, for both.
    for accept in [GRAPHQL_RESPONSE, "application/json", "*/*"] {
        let (status, _, body) = post(&app, accept, json_ct, query("{ me { id } }")).await;
        assert_eq!(status, 200, "{accept}");
        assert_eq!(body["data"], Value::Null);
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
    }

    // Malformed requests.
    for bad in [
        "not json".to_owned(),
        "{}".to_owned(),
        json!([{"query": "{ me { id } }"}]).to_string(),
        json!({"query": 5}).to_string(),
    ] {
        let (status, _, body) = post(&app, GRAPHQL_RESPONSE, json_ct, bad.clone()).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(error_code(&body), "BAD_REQUEST", "{bad}");
    }
    // Several operations and no name; an unknown name.
    let two = json!({"query": "query A { unreadCount } query B { unreadCount }"}).to_string();
    assert_eq!(post(&app, GRAPHQL_RESPONSE, json_ct, two).await.0, 400);
    let unknown = json!({"query": "query A { unreadCount }", "operationName": "B"}).to_string();
    assert_eq!(post(&app, GRAPHQL_RESPONSE, json_ct, unknown).await.0, 400);
    // Subscriptions belong on the socket.
    let sub = query("subscription { messageAdded(conversationId: \"x\") { seq } }");
    assert_eq!(post(&app, GRAPHQL_RESPONSE, json_ct, sub).await.0, 400);

    // Negotiation.
    assert_eq!(
        post(&app, "text/html", json_ct, query("{ unreadCount }"))
            .await
            .0,
        406
    );
    assert_eq!(
        post(
            &app,
            GRAPHQL_RESPONSE,
            "text/plain",
            query("{ unreadCount }")
        )
        .await
        .0,
        415
    );
    let (status, content_type, _) = post(
        &app,
        "application/json, application/graphql-response+json",
        json_ct,
        query("{ unreadCount }"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("application/json"));
    Ok(())
}

#[tokio::test]
async fn get_serves_queries_but_never_mutations() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let user = app.register("getter").await?;
    let response = app
        .http
        .get(app.url("/graphql"))
        .query(&[
            ("query", "query Who { me { username } }"),
            ("operationName", "Who"),
        ])
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["me"]["username"], "getter");

    let response = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", "mutation { logout }")])
        .bearer_auth(&user.token)
        .header("accept", GRAPHQL_RESPONSE)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    // The mutation did not run.
    app.ok(&user.token, "{ me { id } }", json!({})).await?;

    let variables = json!({"x": 1}).to_string();
    let response = app
        .http
        .get(app.url("/graphql"))
        .query(&[
            ("query", "query($x: Int) { unreadCount }"),
            ("variables", variables.as_str()),
        ])
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let missing = app
        .http
        .get(app.url("/graphql"))
        .header("accept", GRAPHQL_RESPONSE)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    Ok(())
}

#[tokio::test]
async fn bodies_are_capped() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let huge =
        json!({"query": format!("{{ unreadCount }} #{}", "x".repeat(300 * 1024))}).to_string();
    let (status, _, _) = post(&app, GRAPHQL_RESPONSE, "application/json", huge).await;
    assert_eq!(status, 413);
    Ok(())
}

#[tokio::test]
async fn introspection_passes_the_limits_and_abuse_does_not() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let user = app.register("introspect").await?;
    let data = app.ok(&user.token, INTROSPECTION, json!({})).await?;
    assert!(data["__schema"]["types"].as_array().unwrap().len() > 10);
    // GraphiQL asks without a token.
    let anonymous = app.gql(None, INTROSPECTION, json!({})).await?;
    assert!(anonymous.get("errors").is_none());

    let nested = "query($c: ID!) { conversation(id: $c) { messages(last: 100) { nodes { conversation { messages(last: 100) { nodes { conversation { messages(last: 100) { nodes { body } } } } } } } } } }";
    let response = app
        .gql(Some(&user.token), nested, json!({"c": "x"}))
        .await?;
    assert_eq!(
        error_code(&response),
        "GRAPHQL_VALIDATION_FAILED",
        "{response}"
    );

    let mut deep = String::from("body");
    for _ in 0..9 {
        deep = format!("lastMessage {{ conversation {{ {deep} }} }}");
    }
    let deep = format!("{{ conversations {{ nodes {{ {deep} }} }} }}");
    let response = app.gql(Some(&user.token), &deep, json!({})).await?;
    assert_eq!(
        error_code(&response),
        "GRAPHQL_VALIDATION_FAILED",
        "{response}"
    );
    Ok(())
}

#[tokio::test]
async fn deeply_nested_documents_are_refused_without_harm() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let user = app.register("nester").await?;
    let nest = |depth: usize| format!("{}{}", "{ me ".repeat(depth), "}".repeat(depth));
    let response = app.gql(Some(&user.token), &nest(100), json!({})).await?;
    assert_eq!(error_code(&response), "GRAPHQL_PARSE_FAILED", "{response}");
    // Tens of thousands of levels, still under the body limit.
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("accept", GRAPHQL_RESPONSE)
        .json(&json!({"query": nest(40_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // The server is still there.
    app.ok(&user.token, "{ me { username } }", json!({}))
        .await?;
    Ok(())
}

#[tokio::test]
async fn internal_errors_do_not_leak_database_text() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let a = app.register("victim").await?;
    let b = app.register("friend").await?;
    let id = app.open_direct(&a, &b).await?;
    let db = app.service.db();
    // Tables that point at messages go first: PostgreSQL refuses to drop
    // a table others depend on (and SQLite has no DROP ... CASCADE).
    for table in [
        "reactions",
        "message_edits",
        "message_mentions",
        "message_reports",
        "messages",
    ] {
        db.execute_raw(Statement::from_string(
            db.get_database_backend(),
            format!("DROP TABLE {table}"),
        ))
        .await
        .unwrap();
    }
    let response = app
        .gql(
            Some(&a.token),
            "mutation($c: ID!) { sendMessage(input: {conversationId: $c, body: \"x\"}) { id } }",
            json!({"c": id}),
        )
        .await?;
    assert_eq!(error_code(&response), "INTERNAL");
    assert_eq!(response["errors"][0]["message"], "internal server error");
    let text = response.to_string().to_lowercase();
    for leak in ["sql", "table", "messages\"", "relation", "database"] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }
    Ok(())
}

#[tokio::test]
async fn graphiql_and_health_are_served() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let page = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("graphiql"));
    // Wired to both endpoints, relative to the page (see explorer.rs).
    let boot = app.get_text("/explorer/parley/graphiql-boot.js").await?;
    assert!(boot.contains("\"graphql\"") && boot.contains("\"graphql/ws\""));
    let health = app.http.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    Ok(())
}

/// The introspection query GraphiQL sends (graphql-js getIntrospectionQuery
/// with descriptions, repeatable directives and deprecations).
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } } }
}
"#;
