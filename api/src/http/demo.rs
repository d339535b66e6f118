//! The demo web chat at `/demo/`: a small app on the TypeScript client kit
//! (`clients/web-demo/`), compiled into the binary, so `cargo run` alone
//! serves it and no node is needed to run the server.
//!
//! The files are `clients/web-demo/dist/`, the committed output of its
//! esbuild build (CI rebuilds it and fails when it differs from its
//! sources). Like the explorers, every URL is relative to the page: the
//! page at `/demo/` loads `app.js` and talks to `../graphql`, so the demo
//! also works under a proxy's path prefix. `/demo` redirects to `/demo/`
//! for that reason.
//!
//! The asset names carry no version, so browsers revalidate them
//! (`no-cache`) with the `ETag`, a hash of the bytes, and get `304` while
//! the binary is the same.

use std::sync::LazyLock;

use axum::{
    Router,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use sha2::{Digest, Sha256};

use super::AppState;

/// The demo loads its script and style from this server and talks to this
/// server's `/graphql` and `/graphql/ws` (`'self'` covers `ws:`/`wss:` to
/// the same host in CSP 3). Nothing inline: it renders every message as
/// text, and a script that got in anyway could reach no other host.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'none'";

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Every file: its name under `/demo/` (`""` is the page), media type and
/// bytes.
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "",
        HTML,
        include_bytes!("../../../clients/web-demo/dist/index.html"),
    ),
    (
        "app.js",
        JS,
        include_bytes!("../../../clients/web-demo/dist/app.js"),
    ),
    (
        "app.css",
        CSS,
        include_bytes!("../../../clients/web-demo/dist/app.css"),
    ),
];

/// Each file's `ETag`, in the order of `FILES`, worked out once.
static ETAGS: LazyLock<Vec<HeaderValue>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(_, _, bytes)| {
            let digest = Sha256::digest(bytes);
            let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
            HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or(HeaderValue::from_static("\"\""))
        })
        .collect()
});

pub fn routes() -> Router<AppState> {
    Router::new()
        // Relative, so it also holds under a path prefix.
        .route(
            "/demo",
            get(|| async {
                (
                    StatusCode::PERMANENT_REDIRECT,
                    [(header::LOCATION, "demo/")],
                )
            }),
        )
        .route(
            "/demo/",
            get(|headers: HeaderMap| async move { file("", &headers) }),
        )
        .route(
            "/demo/{name}",
            get(
                |Path(name): Path<String>, headers: HeaderMap| async move { file(&name, &headers) },
            ),
        )
}

fn file(name: &str, request: &HeaderMap) -> Response {
    let Some(index) = FILES.iter().position(|(file, _, _)| *file == name) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, TEXT)],
            "not found\n",
        )
            .into_response();
    };
    let (_, media, bytes) = FILES[index];
    let Some(etag) = ETAGS.get(index).cloned() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim().trim_start_matches("W/").as_bytes() == etag.as_bytes())
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, media)], bytes).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if media == HTML {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    /// The page loads exactly the files served next to it.
    #[test]
    fn the_page_loads_the_files_served_beside_it() {
        let page = std::str::from_utf8(super::FILES[0].2).unwrap_or_default();
        for (name, _, bytes) in &super::FILES[1..] {
            assert!(!bytes.is_empty(), "{name} is empty");
            assert!(
                page.contains(&format!("\"{name}\"")),
                "the page does not load {name}"
            );
        }
    }
}
