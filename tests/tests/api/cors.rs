//! CORS: pages on the origins in `--cors-origins` may call the API; other
//! origins get no grant, and without the setting there is none at all.

use parley_tests::{TestApp, spawn_app, spawn_app_with};
use reqwest::{Method, Response};
use serde_json::json;

const APP: &str = "http://localhost:5173";
const OTHER: &str = "http://evil.example";

async fn spawn_with_origins() -> anyhow::Result<TestApp> {
    spawn_app_with(|c| c.cors_origins = vec![APP.into(), "https://app.example".into()]).await
}

async fn preflight(app: &TestApp, origin: &str) -> anyhow::Result<Response> {
    Ok(app
        .http
        .request(Method::OPTIONS, app.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await?)
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn a_listed_origins_preflight_is_granted_authorization_and_content_type() -> anyhow::Result<()>
{
    let app = spawn_with_origins().await?;
    let response = preflight(&app, APP).await?;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(header(&response, "access-control-allow-origin"), Some(APP));
    let allowed = header(&response, "access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    assert!(allowed.contains("content-type"), "{allowed}");
    let methods = header(&response, "access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");
    // No cookies: Parley's credentials are bearer tokens.
    assert_eq!(header(&response, "access-control-allow-credentials"), None);
    assert!(header(&response, "access-control-max-age").is_some());
    let vary = header(&response, "vary").unwrap_or_default();
    assert!(vary.contains("origin"), "{vary}");
    Ok(())
}

#[tokio::test]
async fn a_listed_origins_request_is_answered_with_its_origin() -> anyhow::Result<()> {
    let app = spawn_with_origins().await?;
    let user = app.register("cross").await?;
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("origin", "https://app.example")
        .bearer_auth(&user.token)
        .json(&json!({"query": "{ me { username } }"}))
        .send()
        .await?;
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(header(&response, "access-control-allow-credentials"), None);
    let body: serde_json::Value = response.json().await?;
    assert_eq!(body["data"]["me"]["username"], "cross");
    Ok(())
}

#[tokio::test]
async fn another_origin_gets_no_grant() -> anyhow::Result<()> {
    let app = spawn_with_origins().await?;
    let response = preflight(&app, OTHER).await?;
    assert_eq!(header(&response, "access-control-allow-origin"), None);
    // The same origin with another port or scheme is another origin.
    for near in ["http://localhost:5174", "https://localhost:5173"] {
        let response = preflight(&app, near).await?;
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            None,
            "{near}"
        );
    }
    let response = app
        .http
        .post(app.url("/graphql"))
        .header("origin", OTHER)
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await?;
    assert_eq!(header(&response, "access-control-allow-origin"), None);
    Ok(())
}

#[tokio::test]
async fn without_the_setting_nothing_is_granted() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    let response = preflight(&app, APP).await?;
    assert_eq!(header(&response, "access-control-allow-origin"), None);
    assert_eq!(response.status(), 405);
    Ok(())
}

#[tokio::test]
async fn a_star_grants_any_origin() -> anyhow::Result<()> {
    let app = spawn_app_with(|c| c.cors_origins = vec!["*".into()]).await?;
    let response = preflight(&app, OTHER).await?;
    assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
    Ok(())
}

#[tokio::test]
async fn a_value_that_is_not_an_origin_stops_the_start() -> anyhow::Result<()> {
    let err = spawn_app_with(|c| c.cors_origins = vec!["http://localhost:5173/app".into()])
        .await
        .err()
        .expect("a path is not an origin");
    let text = format!("{err:#}");
    assert!(text.contains("http://localhost:5173/app"), "{text}");
    Ok(())
}
