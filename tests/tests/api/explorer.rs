//! GraphiQL at `/` and GraphQL Playground at `/playground` come with every
//! file they load from Parley itself: no CDN, no other host.

use parley_tests::{TestApp, spawn_app};

/// Every `src="..."` and `href="..."` in a page.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            let end = rest.find('"').expect("attribute closed");
            found.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    found
}

/// Loads `page`, then every file it references, as a browser would;
/// returns what each was served as.
async fn check_page(app: &TestApp, page: &str, expect: &[&str]) -> anyhow::Result<Vec<String>> {
    let response = app.http.get(app.url(page)).send().await?;
    assert_eq!(response.status(), 200, "{page}");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(header("content-type").starts_with("text/html"), "{page}");
    // The browser itself is told to load nothing from elsewhere.
    let csp = header("content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    let html = response.text().await?;
    for external in ["http:", "https:", "//", "unpkg", "jsdelivr", "cdn"] {
        assert!(
            !html.to_ascii_lowercase().contains(external),
            "{page} mentions {external}"
        );
    }
    let references = references(&html);
    for name in expect {
        assert!(
            references.iter().any(|r| r.ends_with(name)),
            "{page} does not load {name}: {references:?}"
        );
    }
    let base = reqwest::Url::parse(&app.url(page))?;
    let mut kinds = Vec::new();
    for reference in &references {
        let url = base.join(reference)?;
        assert_eq!(url.host_str(), base.host_str(), "{reference}");
        assert_eq!(url.port(), base.port(), "{reference}");
        let asset = app.http.get(url.clone()).send().await?;
        assert_eq!(asset.status(), 200, "{url}");
        let kind = asset
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if reference.ends_with(".js") {
            assert!(kind.starts_with("text/javascript"), "{url}: {kind}");
            let cache = asset
                .headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            assert!(!cache.is_empty(), "{url}");
        }
        if reference.ends_with(".css") {
            assert!(kind.starts_with("text/css"), "{url}: {kind}");
        }
        let bytes = asset.bytes().await?;
        assert!(bytes.len() > 10, "{url} is empty");
        if reference.contains("/parley/") {
            // Parley's own glue reaches only this server, by relative URLs.
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("http://") && !text.contains("https://"),
                "{url}"
            );
        }
        kinds.push(kind);
    }
    Ok(kinds)
}

#[tokio::test]
async fn graphiql_and_everything_it_loads_come_from_parley() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    check_page(
        &app,
        "/",
        &[
            "react.production.min.js",
            "react-dom.production.min.js",
            "graphiql.min.js",
            "graphiql.min.css",
            "graphiql-boot.js",
        ],
    )
    .await?;
    // The boot script prefills a starter query and the header template.
    let boot = app.get_text("/explorer/parley/graphiql-boot.js").await?;
    assert!(boot.contains("defaultQuery"), "{boot}");
    assert!(
        boot.contains(r#""Authorization": "Bearer <token>""#),
        "{boot}"
    );
    assert!(boot.contains("subscriptionUrl"), "{boot}");
    Ok(())
}

#[tokio::test]
async fn playground_and_everything_it_loads_come_from_parley() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    check_page(
        &app,
        "/playground",
        &[
            "middleware.js",
            "middleware.css",
            "favicon.png",
            "playground-boot.js",
        ],
    )
    .await?;
    let boot = app.get_text("/explorer/parley/playground-boot.js").await?;
    assert!(boot.contains("subscriptionEndpoint"), "{boot}");
    Ok(())
}

#[tokio::test]
async fn the_vendored_files_are_production_builds_with_their_licences() -> anyhow::Result<()> {
    let app = spawn_app().await?;
    for licence in [
        "/explorer/graphiql-3.9.0/LICENSE",
        "/explorer/react-18.3.1/LICENSE",
        "/explorer/playground-1.7.28/LICENSE",
    ] {
        let response = app.http.get(app.url(licence)).send().await?;
        assert_eq!(response.status(), 200, "{licence}");
        assert!(response.text().await?.contains("MIT License"), "{licence}");
    }
    let react = app
        .http
        .get(app.url("/explorer/react-dom-18.3.1/react-dom.production.min.js"))
        .send()
        .await?;
    assert_eq!(react.status(), 404, "the path names the package of react");
    let react = app
        .http
        .get(app.url("/explorer/react-18.3.1/react-dom.production.min.js"))
        .send()
        .await?;
    let cache = react
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(cache.contains("immutable"), "{cache}");
    let text = react.text().await?;
    // A development build says so, and is ten times larger.
    assert!(!text.contains("react-dom.development"), "development build");
    assert!(text.len() < 200_000, "{} bytes", text.len());
    assert_eq!(
        app.http
            .get(app.url("/explorer/nope.js"))
            .send()
            .await?
            .status(),
        404
    );
    Ok(())
}
