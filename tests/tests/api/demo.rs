//! The demo web chat at `/demo/` comes from the binary with every file it
//! loads; it is on outside production and off in production unless asked
//! for. (`clients/browser-tests/demo.mjs` runs it in Chromium.)

use parley_tests::{TestApp, spawn_app, spawn_app_with};
use reqwest::{StatusCode, redirect::Policy};

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// `GET path` without following redirects.
async fn get(app: &TestApp, path: &str) -> anyhow::Result<reqwest::Response> {
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()?;
    Ok(client.get(app.url(path)).send().await?)
}

#[tokio::test]
async fn demo_page_and_its_assets_are_served_with_their_types_and_headers() -> anyhow::Result<()> {
    let app = spawn_app().await?;

    // `/demo` sends the browser to `/demo/`, relatively (proxy prefixes).
    let redirect = get(&app, "/demo").await?;
    assert_eq!(redirect.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(header(&redirect, "location"), "demo/");

    let page = get(&app, "/demo/").await?;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&page, "cache-control"), "no-cache");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, "referrer-policy"), "no-referrer");
    let csp = header(&page, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let html = page.text().await?;
    assert!(html.contains("data-testid=\"auth-form\""), "{html}");
    // Nothing from another host, and no inline script for the CSP to refuse.
    for external in ["http:", "https:", "//"] {
        assert!(!html.contains(external), "the page mentions {external}");
    }
    assert!(!html.contains("<script>"), "inline script");
    assert!(html.contains(r#"src="app.js""#), "{html}");
    assert!(html.contains(r#"href="app.css""#), "{html}");

    for (name, media, needle) in [
        ("app.js", "text/javascript; charset=utf-8", "graphql"),
        ("app.css", "text/css; charset=utf-8", ".message"),
    ] {
        let asset = get(&app, &format!("/demo/{name}")).await?;
        assert_eq!(asset.status(), 200, "{name}");
        assert_eq!(header(&asset, "content-type"), media, "{name}");
        assert_eq!(header(&asset, "cache-control"), "no-cache", "{name}");
        assert_eq!(header(&asset, "x-content-type-options"), "nosniff");
        let etag = header(&asset, "etag");
        assert!(etag.starts_with('"') && etag.len() > 10, "{name}: {etag}");
        let text = asset.text().await?;
        assert!(text.contains(needle), "{name} lacks {needle}");

        // Revalidation: the same bytes are not sent again.
        let client = reqwest::Client::new();
        let again = client
            .get(app.url(&format!("/demo/{name}")))
            .header("if-none-match", &etag)
            .send()
            .await?;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{name}");
        assert_eq!(header(&again, "etag"), etag);
        assert!(again.bytes().await?.is_empty());
        let other = client
            .get(app.url(&format!("/demo/{name}")))
            .header("if-none-match", "\"something-else\"")
            .send()
            .await?;
        assert_eq!(other.status(), 200, "{name}");
    }

    // The script talks to this server only, by relative URLs.
    let script = app.get_text("/demo/app.js").await?;
    assert!(
        script.contains("\"../graphql\""),
        "the API is not relative to the page"
    );
    assert_eq!(get(&app, "/demo/nope.js").await?.status(), 404);
    Ok(())
}

#[tokio::test]
async fn demo_is_off_in_production_unless_switched_on() -> anyhow::Result<()> {
    let production = spawn_app_with(|c| c.production = true).await?;
    for path in ["/demo", "/demo/", "/demo/app.js"] {
        assert_eq!(get(&production, path).await?.status(), 404, "{path}");
    }
    let switched_on = spawn_app_with(|c| {
        c.production = true;
        c.demo = Some(true);
    })
    .await?;
    assert_eq!(get(&switched_on, "/demo/").await?.status(), 200);
    let switched_off = spawn_app_with(|c| c.demo = Some(false)).await?;
    for path in ["/demo", "/demo/", "/demo/app.css"] {
        assert_eq!(get(&switched_off, path).await?.status(), 404, "{path}");
    }
    // The rest of the server is unaffected.
    assert_eq!(get(&switched_off, "/health").await?.status(), 200);
    Ok(())
}
