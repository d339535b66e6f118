//! GraphiQL at `/` and GraphQL Playground at `/playground`, with every file
//! they load compiled into the binary, so they work offline and behind a
//! strict network.
//!
//! The files under `api/assets/` are the packages' own minified production
//! builds, pinned (see `api/assets/vendor.sh`, which fetches them, and
//! `api/assets/SHA256SUMS`), with their licences. Asset URLs carry the
//! version, so browsers may cache them for good. Pages and assets are
//! relative to the page, so Parley also works under a proxy's path prefix.

use axum::{
    Router,
    extract::Path,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use super::AppState;

/// What the pages may load: only this server (scripts, styles, the API
/// over HTTP and WebSocket). GraphiQL and Playground set inline styles and
/// use `data:` images and fonts.
const CSP: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
const PNG: &str = "image/png";

/// Every asset: its path under `/explorer/`, media type and bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql-3.9.0/graphiql.min.js",
        JS,
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql-3.9.0/graphiql.min.css",
        CSS,
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "graphiql-3.9.0/LICENSE",
        TEXT,
        include_bytes!("../../assets/graphiql/LICENSE"),
    ),
    (
        "react-18.3.1/react.production.min.js",
        JS,
        include_bytes!("../../assets/react/react.production.min.js"),
    ),
    (
        "react-18.3.1/react-dom.production.min.js",
        JS,
        include_bytes!("../../assets/react/react-dom.production.min.js"),
    ),
    (
        "react-18.3.1/LICENSE",
        TEXT,
        include_bytes!("../../assets/react/LICENSE"),
    ),
    (
        "playground-1.7.28/middleware.js",
        JS,
        include_bytes!("../../assets/playground/middleware.js"),
    ),
    (
        "playground-1.7.28/middleware.css",
        CSS,
        include_bytes!("../../assets/playground/middleware.css"),
    ),
    (
        "playground-1.7.28/favicon.png",
        PNG,
        include_bytes!("../../assets/playground/favicon.png"),
    ),
    (
        "playground-1.7.28/LICENSE",
        TEXT,
        include_bytes!("../../assets/playground/LICENSE"),
    ),
    // Parley's own glue; not versioned, so revalidated (see `cache_control`).
    (
        "parley/explorer.css",
        CSS,
        include_bytes!("../../assets/explorer.css"),
    ),
    (
        "parley/graphiql-boot.js",
        JS,
        include_bytes!("../../assets/graphiql-boot.js"),
    ),
    (
        "parley/playground-boot.js",
        JS,
        include_bytes!("../../assets/playground-boot.js"),
    ),
];

const GRAPHIQL_HTML: &str = include_str!("../../assets/graphiql.html");
const PLAYGROUND_HTML: &str = include_str!("../../assets/playground.html");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { page(GRAPHIQL_HTML) }))
        .route("/playground", get(|| async { page(PLAYGROUND_HTML) }))
        .route("/explorer/{*path}", get(asset))
}

fn page(html: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
    )
        .into_response()
}

async fn asset(Path(path): Path<String>) -> Response {
    let Some((name, media, bytes)) = ASSETS.iter().find(|(name, _, _)| *name == path) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, TEXT)],
            "not found\n",
        )
            .into_response();
    };
    (
        [
            (header::CONTENT_TYPE, *media),
            (header::CACHE_CONTROL, cache_control(name)),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        *bytes,
    )
        .into_response()
}

/// Versioned files never change under their path; Parley's glue may change
/// with any release.
fn cache_control(name: &str) -> &'static str {
    if name.starts_with("parley/") {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    }
}

#[cfg(test)]
mod tests {
    /// The pinned versions (as `api/assets/vendor.sh` has them).
    const GRAPHIQL_VERSION: &str = "3.9.0";
    const REACT_VERSION: &str = "18.3.1";
    const PLAYGROUND_VERSION: &str = "1.7.28";

    /// The paths in the table carry the versions `vendor.sh` fetches.
    #[test]
    fn asset_paths_carry_the_pinned_versions() {
        for (name, _, bytes) in super::ASSETS {
            assert!(!bytes.is_empty(), "{name} is empty");
            let (dir, _) = name.split_once('/').unwrap_or_default();
            assert!(
                [
                    format!("graphiql-{}", GRAPHIQL_VERSION),
                    format!("react-{}", REACT_VERSION),
                    format!("playground-{}", PLAYGROUND_VERSION),
                    "parley".to_owned(),
                ]
                .contains(&dir.to_owned()),
                "{name}"
            );
        }
    }
}
