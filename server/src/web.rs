//! The web page at `/`: submit a URL or upload a file, watch jobs progress live, read and
//! download transcripts, cancel jobs and page through the queue.
//!
//! Plain HTML, CSS and JavaScript (`server/web/`), embedded in the binary and served from here
//! with a strict Content-Security-Policy (`default-src 'self'`: no inline script or style,
//! nothing from another host), `nosniff`, and an `ETag` to revalidate against (`Cache-Control:
//! no-cache`: a new binary's page is never mixed with an old one's script). The page is public;
//! the API calls it makes carry the API key typed into it (`Authorization: Bearer`, kept in the
//! browser's `localStorage`). It reads a job's events from `…/{id}/events` with `fetch` (an
//! `EventSource` cannot send that header) and falls back to long polls (`?wait=`).
//!
//! The page uses relative URLs (`assets/…`, `api/v1/…`): mounted under a prefix, it is served
//! at `PREFIX/` with the trailing slash.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{codes, ApiError};

/// What the page may load and do: only this origin, no plugins, not framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// One embedded file.
struct Asset {
    body: &'static [u8],
    content_type: &'static str,
    /// FNV-1a of `body`, computed at compile time.
    hash: u64,
}

impl Asset {
    const fn new(body: &'static [u8], content_type: &'static str) -> Self {
        Asset {
            body,
            content_type,
            hash: fnv1a(body),
        }
    }
}

/// FNV-1a, 64 bits: enough to tell one build's file from another's.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
}

static INDEX: Asset = Asset::new(
    include_bytes!("../web/index.html"),
    "text/html; charset=utf-8",
);
static APP_JS: Asset = Asset::new(
    include_bytes!("../web/app.js"),
    "text/javascript; charset=utf-8",
);
static APP_CSS: Asset = Asset::new(include_bytes!("../web/app.css"), "text/css; charset=utf-8");
static ICON: Asset = Asset::new(include_bytes!("../web/icon.svg"), "image/svg+xml");

/// `GET /`: the page.
pub async fn index(headers: HeaderMap) -> Response {
    serve(&INDEX, &headers)
}

/// `GET /assets/{name}`: the page's script, style sheet and icon.
pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let asset = match name.as_str() {
        "app.js" => &APP_JS,
        "app.css" => &APP_CSS,
        "icon.svg" => &ICON,
        _ => return ApiError::new(codes::NOT_FOUND, "no such asset").into_response(),
    };
    serve(asset, &headers)
}

/// The asset, or 304 when the client's copy (`If-None-Match`) is this one.
fn serve(asset: &Asset, headers: &HeaderMap) -> Response {
    let etag = format!("\"{:016x}\"", asset.hash);
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*");
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            )],
            asset.body,
        )
            .into_response()
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values of `attr="…"` in `html`.
    fn attr_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
        let pat = format!(" {attr}=\"");
        html.match_indices(&pat)
            .filter_map(|(i, _)| html[i + pat.len()..].split('"').next())
            .collect()
    }

    #[test]
    fn the_page_loads_nothing_from_another_host_and_nothing_inline() {
        let html = std::str::from_utf8(INDEX.body).unwrap();
        let links: Vec<_> = ["src", "href", "action"]
            .iter()
            .flat_map(|a| attr_values(html, a))
            .collect();
        assert!(links.len() >= 3, "{links:?}");
        for l in links {
            assert!(
                !l.contains(':') && !l.starts_with('/'),
                "not relative: {l:?}"
            );
        }
        // The policy refuses inline script, style and event handlers: there are none.
        assert_eq!(html.matches("<script").count(), 1);
        assert!(html.contains("<script src=\"assets/app.js\""));
        assert!(!html.contains("<style") && !html.contains(" style="));
        for (i, _) in html.match_indices(" on") {
            let name: String = html[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(
                !html[i + 1 + name.len()..].starts_with('='),
                "inline handler {name}= in index.html"
            );
        }
        let css = std::str::from_utf8(APP_CSS.body).unwrap();
        assert!(!css.contains("url(") && !css.contains("@import"));
        let js = std::str::from_utf8(APP_JS.body).unwrap();
        for needle in ["http://", "https://", "eval(", "new Function", "innerHTML"] {
            assert!(!js.contains(needle), "{needle:?} in app.js");
        }
    }

    #[test]
    fn etags_differ_between_files_and_revalidation_answers_304() {
        assert_ne!(INDEX.hash, APP_JS.hash);
        let first = serve(&APP_JS, &HeaderMap::new());
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()[header::ETAG].clone();
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, etag);
        let again = serve(&APP_JS, &h);
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(again.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'self'"));
    }
}
